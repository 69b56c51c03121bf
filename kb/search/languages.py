"""One result per article, in the searcher's language.

An English original and its translations share one slug (one URL, the language chosen by
`?lang=`), so a search lists each article once: the version in the reader's language when it
has one, at the rank of the best-ranked version. The reader's language is the query's own
when it is written in Japanese or Chinese, else the interface language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kb.search.hits import SearchHit


def preferred_language(query: str) -> str:
    """The query's own language when it is written in Japanese or Chinese, else the reader's."""
    from kb.languages import active_language
    from kb.textlang import detect_language

    written_in = detect_language(query or "")
    return written_in if written_in != "en" else active_language()


def one_version_per_article(
    hits: list[SearchHit],
    *,
    lang: str,
    translation: Callable[[SearchHit], SearchHit | None] | None = None,
) -> list[SearchHit]:
    """Keep one hit per slug (an original and its translations share one): the version in
    `lang` (found, or else looked up with `translation`), else the best-ranked one, at the
    rank of the best of them. Hits not in English link to their language explicitly."""
    groups: dict[str, list[SearchHit]] = {}
    for hit in hits:
        groups.setdefault(hit.slug, []).append(hit)
    chosen = []
    for versions in groups.values():
        hit = next((v for v in versions if v.lang == lang), None)
        if hit is None and translation is not None and versions[0].lang != lang:
            # The reader's version ranked below the cut-off (the original carries the
            # symptoms): the article matched, so show it in the reader's language.
            hit = translation(versions[0])
        hit = hit or versions[0]
        if hit.lang != "en":
            path, _, anchor = hit.url.partition("#")
            url = f"{path}?lang={hit.lang}" + (f"#{anchor}" if anchor else "")
            hit = replace(hit, url=url)
        chosen.append(hit)
    return chosen
