"""The causes the troubleshooter knows: the curated articles as ``import_articles`` imported them.

The database rows say which articles exist (a team's own imported article included) with their
current title and summary; the diagnosis keys (``symptoms``, ``reports``, ``near_misses``,
``mechanism``) are read from the front matter the import stored with each row
(``Article.front_matter``), so every instance that shares the database knows the same causes,
whatever files its own disk holds. A row imported before that field existed is read from its
file. The result is cached under the articles' generation (the mark the search index follows:
the number of rows, the last id and the newest ``updated_at``): one small indexed query per
diagnosis, and a rebuild only when an import or an admin edit changed the articles.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from troubleshooter.diagnosis.knowledge import (
    DIAGNOSIS_KEYS,
    ArticleCause,
    Knowledge,
    article_cause_from_text,
    knowledge_from,
    load_articles_dir,
    with_translations,
)
from troubleshooter.diagnosis.tree import TreeError

__all__ = ["current_knowledge", "generation_key"]

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_build_lock = threading.Lock()
_cached: Knowledge | None = None
# The generation of the causes read from the repository's articles folder when the database
# has no article table yet (not migrated): never a database's generation.
FILES_GENERATION = "files"
_FIELDS = ("slug", "title", "summary", "symptoms", "source_path", "markdown", "lang")


def generation_key() -> str:
    """The articles' generation, the same mark the search index follows (count, last id,
    newest change): a deletion followed by an import changes it too."""
    from kb.search.index import database_generation

    return database_generation()


def _cause_for(row) -> ArticleCause | None:  # noqa: ANN001
    if row.front_matter:
        # What the import stored: the same on every instance that shares the database.
        text = f"---\n{row.front_matter}\n---\n{row.markdown}"
        where = row.source_path or f"article {row.slug}"
    else:
        # Imported before the front matter was stored: read the file it came from.
        path = Path(row.source_path) if row.source_path else None
        if path is None or path.suffix.lower() not in (".md", ".markdown"):
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            # The file is gone: what the import stored still names the cause.
            if not row.symptoms:
                return None
            return ArticleCause(
                slug=row.slug, title=row.title, summary=row.summary, symptoms=tuple(row.symptoms)
            )
        where = str(path)
    try:
        cause = article_cause_from_text(
            text, path=where, title=row.title, summary=row.summary, body=row.markdown
        )
    except TreeError as error:
        logger.warning("article %s is not used by the troubleshooter:\n%s", row.slug, error)
        return None
    if cause is None or cause.slug != row.slug:
        return None
    return cause


def _files_knowledge() -> Knowledge:
    """Without a usable database (not migrated yet): the articles folder of the repository."""
    from troubleshooter.diagnosis.tree import ARTICLES_DIR

    return load_articles_dir(ARTICLES_DIR, generation=FILES_GENERATION)


def current_knowledge() -> Knowledge:
    """The causes of the imported articles, rebuilt when the articles changed."""
    global _cached
    from django.db import DatabaseError

    try:
        key = generation_key()
    except DatabaseError:
        logger.warning("no article table: the troubleshooter reads articles/ instead")
        cached = _cached
        if cached is None or cached.generation != FILES_GENERATION:
            cached = _files_knowledge()
            with _lock:
                _cached = cached
        return cached
    cached = _cached
    if cached is not None and cached.generation == key:
        return cached
    # One thread builds; the others that arrive meanwhile wait for its result instead of
    # each reading every article again (a worker's threads all start with an empty cache).
    with _build_lock:
        cached = _cached
        if cached is not None and cached.generation == key:
            return cached
        knowledge = _build(key)
        with _lock:
            _cached = knowledge
    return knowledge


def _build(key: str) -> Knowledge:
    """Only English rows whose stored front matter may name evidence (or that have none
    stored yet) are parsed; a knowledge base of thousands of documents holds a few causes."""
    from django.db.models import Q

    from kb.models import Article

    may_name = Q(front_matter="") | Q(front_matter__isnull=True)
    for name in DIAGNOSIS_KEYS:
        may_name |= Q(front_matter__contains=name)
    rows = list(
        Article.objects.filter(may_name, lang="en").only("front_matter", *_FIELDS).order_by("slug")
    )
    causes = [c for c in (_cause_for(row) for row in rows) if c is not None]
    translations: dict[str, list[str]] = {}
    for row in (
        Article.objects.filter(slug__in=[c.slug for c in causes])
        .exclude(lang="en")
        .only("slug", "title", "summary", "markdown")
        .order_by("slug", "lang")
    ):
        translations.setdefault(row.slug, []).append(f"{row.title}\n{row.summary}\n{row.markdown}")
    return knowledge_from([with_translations(c, translations.get(c.slug, ())) for c in causes], key)
