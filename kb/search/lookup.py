"""Answering a query: the index when it can, the database when it cannot.

`search_articles` prepares the query, asks this thread's searcher (or the result cache),
drops hits that matched only a stray common word, folds the language versions of one article
into one hit and points each hit shown at its best section. The result cache keeps the hits
as shown, per (query, limit, reader's language). An index that is missing, damaged
or older than the database never makes a search fail: a plain, bounded database query
answers (hits marked `source="database"`) and kb/search/healing.py rebuilds the index in
the background. Whoosh raises many kinds of exception on a damaged index, so any exception
from the index path is answered that way; only its type is logged, as its text may quote
the query.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import replace
from functools import lru_cache

from django.conf import settings
from django.db.models import Q
from django.urls import get_script_prefix, get_urlconf, reverse
from whoosh.query import Query
from whoosh.searching import Results

from kb.search.caches import results, searchers
from kb.search.healing import check_freshness, schedule_heal
from kb.search.hits import SearchHit
from kb.search.languages import one_version_per_article, preferred_language
from kb.search.query import build_query, prepare_query
from kb.search.reading import lengths_in_memory, one_query, stored_fields
from kb.search.sections import SectionsFile, sections_file
from kb.search.snippets import SNIPPET_CHARS, Needles, best_recorded_section, needles, shorten
from kb.search.union import SparseArrayUnionMatcher, SparseUnionOr

logger = logging.getLogger(__name__)

# Hits scoring below this fraction of the best one are dropped: with OR semantics a document
# sharing one common word ("too", "list") with a pasted error would otherwise be listed.
RELATIVE_CUTOFF = 0.2


def search_articles(query: str, limit: int = 10) -> list[SearchHit]:
    """Find the articles for a query or a pasted log, best first, each with its best section.

    Each article is listed once, in the reader's language when it has that version. When the
    index is missing or cannot be read, the database answers (module docstring).
    """
    limit = max(1, min(int(limit), 50))
    prepared = prepare_query(query or "")
    lang = preferred_language(query)
    try:
        searcher = searchers.get()
        if searcher is not None:
            check_freshness(searchers.folder)
            owner = (searchers.folder, searcher.ixreader.generation())
            key = (prepared, limit, lang)
            cached = results.get(owner, key)
            if cached is None:
                cached = tuple(_search(searcher, prepared=prepared, limit=limit, lang=lang))
                results.put(owner, key, cached)
            return list(cached)
    except Exception as error:  # noqa: BLE001 - whoosh raises many kinds on a damaged index
        # The type only: an exception's text may quote the query.
        logger.warning(
            "search index unreadable (%s); answering from the database, rebuilding it",
            type(error).__name__,
        )
        searchers.forget()
    schedule_heal()
    hits = one_version_per_article(database_search(prepared, limit=limit * 3), lang=lang)
    return hits[:limit]


def _search(searcher, *, prepared: str, limit: int, lang: str) -> list[SearchHit]:  # noqa: ANN001
    """The index's answer: found, folded to one version per article, cut to `limit`, and only
    then pointed at their best sections.

    Finding the query's words in every section of a hit is the costliest step after the
    engine, so it is done for the hits shown, not for every version found.
    """
    with one_query(searcher):
        whoosh_query = build_query(prepared, searcher.reader())
        if whoosh_query is None:
            return []
        # Room for the other language versions of the same articles, folded away below.
        found = top_hits(searcher, whoosh_query, limit=min(limit * 3, 150))
    # scored_length(), not len(): len() counts every match, re-running the query unlimited.
    top_score = found[0].score if found.scored_length() else 0.0
    ranked = []
    for result in found:
        if result.score < RELATIVE_CUTOFF * top_score:
            break  # the rest matched only a stray common word: noise, not answers
        ranked.append((result.docnum, result.score))
    # (slug, language) -> (document number, stored fields) of the versions kept
    stored: dict[tuple[str, str], tuple[int, dict]] = {}
    hits = []
    for docnum, fields, score in _first_articles(searcher, ranked, limit=limit):
        stored[(fields["slug"], fields["lang"])] = (docnum, fields)
        hits.append(_hit(fields, score=round(float(score), 4)))

    def translation(hit: SearchHit) -> SearchHit | None:
        # The hit's article in the reader's language, among the versions of its article: a
        # slug has a version or three, while `document(slug=, lang=)` intersects them with
        # the language's postings, thousands of documents (22 ms a call in cProfile).
        for docnum in sections_file(searcher).versions(stored[(hit.slug, hit.lang)][0]):
            fields = stored_fields(searcher, docnum)
            if fields["lang"] == lang:
                stored[(hit.slug, lang)] = (docnum, fields)
                return replace(hit, title=fields["title"], lang=lang)
        return None

    chosen = one_version_per_article(hits, lang=lang, translation=translation)[:limit]
    pattern = needles(prepared)
    recorded = sections_file(searcher) if chosen else None
    where = _url_context()
    pointed = [
        _pointed(*stored[(hit.slug, hit.lang)], hit.score, pattern, recorded, where)
        for hit in chosen
    ]
    # Once more, now that each hit has its section: links to a version that is not English
    # carry its language (one version per slug already, so nothing else changes).
    return one_version_per_article(pointed, lang=lang)


def _first_articles(searcher, ranked: list[tuple[int, float]], *, limit: int) -> list:  # noqa: ANN001
    """(document number, stored fields, score) of the versions in `ranked` of its first
    `limit` articles, in rank order.

    Folding keeps the first `limit` articles (slugs) in the order they first appear, each with
    its versions found, so the versions of later articles never change the answer. Their
    stored fields (zlib-compressed; sections included, before they moved to their own file)
    were read all the same: up to 30 per
    query, several milliseconds for a long document. Here a found version's slug is read
    only until `limit` articles are known; the other versions of those articles are found in
    the sections file's table of versions (kb/search/sections.py; the slug's postings before
    it: a term look-up and a read each, 0.7 ms of the slowest queries), not by reading every
    hit.
    """
    versions = sections_file(searcher).versions
    position = {docnum: i for i, (docnum, _) in enumerate(ranked)}
    fields_at: dict[int, dict] = {}
    kept: set[int] = set()
    articles = 0
    for i, (docnum, _) in enumerate(ranked):
        if articles == limit:
            break
        if i in kept:
            continue  # another version of an article already kept
        fields_at[i] = stored_fields(searcher, docnum)
        articles += 1
        kept.add(i)
        for version in versions(docnum):
            if version in position:
                kept.add(position[version])
    chosen = sorted(kept)
    for i in chosen:
        if i not in fields_at:
            fields_at[i] = stored_fields(searcher, ranked[i][0])
    return [(ranked[i][0], fields_at[i], ranked[i][1]) for i in chosen]


def top_hits(searcher, whoosh_query: Query, *, limit: int):  # noqa: ANN001, ANN201
    """The engine's top `limit` hits for a query built by `build_query`.

    Field lengths are read from memory and each term's entry once (kb/search/reading.py).

    The OR's own matcher holds every document's score once it is built, so its top `limit`
    are taken from it directly (`SparseArrayUnionMatcher.top`), as Whoosh's collector would
    keep them (cProfile, 153 queries at 10 000 documents: the collector's calls were a fifth
    of the engine).

    Otherwise, optimize=False: the block-quality skipping it turns on costs a scan of the
    union's whole score array for every document collected
    (`ArrayUnionMatcher.block_quality`), more than it skips; the answers are the same
    (measured on 153 queries of the benchmark corpus).
    """
    lengths_in_memory(searcher)
    with one_query(searcher):
        if isinstance(whoosh_query, SparseUnionOr) and searcher.is_atomic():
            matcher = whoosh_query.top_matcher(searcher, searcher.context())
            if isinstance(matcher, SparseArrayUnionMatcher):
                return Results(searcher, whoosh_query, matcher.top(limit))
        return searcher.search(whoosh_query, limit=limit, optimize=False)


def _hit(fields: dict, *, score: float) -> SearchHit:
    """A found version, before folding: only its slug, language and score matter yet."""
    return SearchHit(
        slug=fields["slug"],
        title=fields["title"],
        url="",
        lang=fields["lang"],
        snippet="",
        score=score,
        section=None,
    )


def _pointed(  # noqa: PLR0913
    docnum: int,
    fields: dict,
    score: float,
    pattern: Needles | None,
    recorded: SectionsFile,
    where: tuple[object, str],
) -> SearchHit:
    """The hit shown for a document: pointed at its best section, with a snippet from it.

    `where` is `_url_context()`, read once for the hits of a search."""
    section_id, section_title, snippet = best_recorded_section(recorded.record(docnum), pattern)
    if not snippet:
        snippet = html.escape(shorten(fields.get("summary") or "", SNIPPET_CHARS))
    url = _article_path(fields["slug"], *where)
    return SearchHit(
        slug=fields["slug"],
        title=fields["title"],
        url=url + (f"#{section_id}" if section_id else ""),
        lang=fields["lang"],
        snippet=snippet,
        score=score,
        section=section_id or None,
        section_title=section_title or None,
    )


def article_path(slug: str) -> str:
    """`reverse("kb:article_detail", args=[slug])` for the running URL configuration and
    script prefix (the two things besides the slug that reverse() reads).

    reverse() costs about 35 us (the resolver's look-ups, three reads of the active
    language, the converter's check, quoting): 0.24 ms of CPU per uncached search of ten hits
    at 10 000 documents, a tenth of what choosing their sections and snippets costs. A slug
    of lower-case letters, digits and hyphens (every slug the importer writes) is matched by
    the pattern's converter and never percent-encoded, so its path is the pattern's own text
    around it, which reverse() gives once per URL configuration and prefix. Remembering
    each slug's path instead (a cache of 4 096 before) rarely helped: at 10 011 documents
    most hits of a new query had not been shown since the worker started.
    """
    return _article_path(slug, *_url_context())


def _url_context() -> tuple[object, str]:
    """The URL configuration and script prefix of this thread, which `reverse()` reads.

    Both sit in asgiref's context-aware locals: 10 us to read the two (measured), 0.1 ms of
    a search when read for each of its ten hits; once a search is enough.
    """
    return get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()


# Slugs whose URL is the pattern's text around them (`article_path`); anything else (an
# upper-case or non-ASCII slug, a character quote() encodes) goes through reverse().
_PLAIN_SLUG = re.compile(r"[a-z0-9-]+")
_PLACEHOLDER = "kb-slug-placeholder"


def _article_path(slug: str, urlconf: object, prefix: str) -> str:
    if _PLAIN_SLUG.fullmatch(slug):
        before, after = _article_path_around(urlconf, prefix)
        return before + slug + after
    return reverse("kb:article_detail", args=[slug], urlconf=urlconf)


@lru_cache(maxsize=16)
def _article_path_around(urlconf: object, prefix: str) -> tuple[str, str]:  # noqa: ARG001 - a key
    """The article URL's text before and after the slug, for this URL configuration and
    script prefix (a plain placeholder slug reversed, cut at its last occurrence)."""
    path = reverse("kb:article_detail", args=[_PLACEHOLDER], urlconf=urlconf)
    before, _, after = path.rpartition(_PLACEHOLDER)
    return before, after


# --- when the index cannot answer -------------------------------------------------------------

# The fallback query: the longest few words of the query, each cut, matched as substrings.
FALLBACK_WORDS = 4
FALLBACK_WORD_CHARS = 40
_FALLBACK_WORD = re.compile(r"\w{3,}")


def database_search(prepared: str, *, limit: int) -> list[SearchHit]:
    """Articles whose title, summary or text hold the query's longest words (all, else any).

    A plain, bounded query for when the index cannot answer: at most FALLBACK_WORDS words,
    no ranking beyond "holds them all" first.
    """
    from kb.models import Article

    words = sorted(
        {word[:FALLBACK_WORD_CHARS] for word in _FALLBACK_WORD.findall(prepared)},
        key=lambda word: (-len(word), word),
    )[:FALLBACK_WORDS]
    if not words:
        return []
    clauses = [
        Q(title__icontains=word) | Q(summary__icontains=word) | Q(markdown__icontains=word)
        for word in words
    ]
    rows = Article.objects.only("slug", "title", "lang", "summary").order_by("slug")
    found = list(rows.filter(_all(clauses))[:limit])
    if not found and len(clauses) > 1:
        found = list(rows.filter(_any(clauses))[:limit])
    return [
        SearchHit(
            slug=article.slug,
            title=article.title,
            url=reverse("kb:article_detail", args=[article.slug]),
            lang=article.lang,
            snippet=html.escape(shorten(article.summary or "", SNIPPET_CHARS)),
            score=0.0,
            section=None,
            source="database",
        )
        for article in found
    ]


def _all(clauses: list[Q]) -> Q:
    combined = clauses[0]
    for clause in clauses[1:]:
        combined &= clause
    return combined


def _any(clauses: list[Q]) -> Q:
    combined = clauses[0]
    for clause in clauses[1:]:
        combined |= clause
    return combined
