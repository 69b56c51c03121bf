"""Full-text search over the articles: Whoosh behind one small module.

- The index is derived from the database and lives on local disk (settings.KB_INDEX_DIR).
  Only `rebuild_index()` writes it (called by `import_articles` and `rebuild_index`).
- A rebuild adds every document and commits with mergetype=CLEAR: readers keep seeing the
  old index until the atomic commit (RESEARCH.md). A schema change goes to a new
  versioned folder, so a live index is never emptied by `create_in`.
- Every rebuild writes a new folder from scratch and then swaps the link `v<SCHEMA_VERSION>`
  to it in one rename, so garbage or a truncated file in the old folder never matters and
  readers see the old index until the swap. A lock file keeps rebuilds one at a time.
- Each thread opens its own searcher (whoosh: one searcher per thread) after fork, and a
  fresh one when the index changed. `Searcher.refresh()` is never called: in whoosh-reloaded
  2.7.5 it returns duplicated or deleted documents after a merge (RESEARCH.md). Segment files
  are read, not memory-mapped: a truncated mapped file kills the process with SIGBUS, a read
  raises an error we can answer. Measured (2 200 documents, uncached queries, a loaded 2-core
  machine): median 371–410 ms read against 351–401 ms mapped, 3–5 % slower; opening a
  searcher 2–12 ms against 28–30 ms.
- An index that is missing, damaged or older than the database never makes a search fail:
  the answer comes from a plain database query (hits marked `source="database"`) and a
  rebuild is started in a background thread of this process (`heal_index`).
- Queries are built as query objects, never parsed, so `:`, `(`, `"` or `*` in a pasted
  error can never raise a syntax error.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import html
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max, Q
from django.urls import reverse
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.query import And, Or, Phrase, Prefix, Query, Term

from kb import errortext
from kb.analysis import (
    bigram_analyzer,
    bigram_spans,
    bigram_terms,
    fold,
    has_cjk,
    has_kana,
    japanese_analyzer,
    lemma_terms,
)

logger = logging.getLogger(__name__)

# Bump when the schema or an analyzer changes what it emits: the index is then rebuilt in a
# new folder next to the old one.
SCHEMA_VERSION = 3

# Queries are cut to this many distinct terms per field: query cost grows with the number of
# terms (RESEARCH.md), and a pasted log is reduced to its error lines first anyway.
MAX_QUERY_TERMS = 40

# Hits scoring below this fraction of the best one are dropped: with OR semantics a document
# sharing one common word ("too", "list") with a pasted error would otherwise be listed.
RELATIVE_CUTOFF = 0.2


def _schema() -> Schema:
    return Schema(
        slug=ID(stored=True, unique=True),
        title=STORED(),
        lang=ID(stored=True),
        summary=STORED(),
        sections=STORED(),
        title_text=TEXT(analyzer=bigram_analyzer(), field_boost=3.0),
        symptom_text=TEXT(analyzer=bigram_analyzer(), field_boost=2.5),
        keyword_text=TEXT(analyzer=bigram_analyzer(), field_boost=2.0),
        # No positions in the long fields: phrases are matched in the short ones only, and
        # positions double what indexing writes.
        body_text=TEXT(analyzer=bigram_analyzer(), phrase=False),
        ja_text=TEXT(analyzer=japanese_analyzer(), phrase=False),
    )


@dataclass(frozen=True)
class SearchHit:
    """One article found for a query, with the section that matched best."""

    slug: str
    title: str
    url: str
    lang: str
    snippet: str  # HTML: escaped text with <mark> around the matched terms
    score: float
    section: str | None  # the anchor of the best-matching section, if any
    section_title: str | None = None
    # "index", or "database" when the index could not answer and a plain query did.
    source: str = "index"

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of a hit in the API."""
        return asdict(self)


# --- index location and lifecycle ---------------------------------------------------------


def index_dir() -> Path:
    """The current schema version's index: a link to the folder of the latest rebuild."""
    return Path(settings.KB_INDEX_DIR) / f"v{SCHEMA_VERSION}"


def _storage(folder: Path) -> FileStorage:
    # Read, never mmap: a truncated mapped segment kills the process with SIGBUS.
    return FileStorage(str(folder), supports_mmap=False)


def _current_folder() -> Path | None:
    """The folder the link points to now, or None when there is no index."""
    try:
        folder = index_dir().resolve(strict=True)
    except OSError:
        return None
    return folder if folder.is_dir() else None


def index_exists() -> bool:
    """True when an index for the current schema is on disk and opens."""
    folder = _current_folder()
    if folder is None:
        return False
    try:
        return _storage(folder).index_exists()
    except Exception:  # noqa: BLE001 - garbage on disk: there is no usable index
        return False


def _section_records(article) -> list[tuple[str, str, str]]:  # noqa: ANN001
    from kb.rendering import split_sections

    records = []
    for section in split_sections(article.html):
        # Kept as written, so snippets show the author's text; matching ignores case.
        text = section.text
        if text.strip() or section.id:
            records.append((section.id, section.title, text))
    return records


def _document(article) -> dict[str, object]:  # noqa: ANN001
    sections = _section_records(article)
    body = "\n".join(text for _, _, text in sections)
    keywords = " \n".join(str(k) for k in article.keywords or [])
    keywords += " \n" + " ".join(str(t) for t in article.tags or [])
    symptoms = " \n".join(str(s) for s in article.symptoms or [])
    japanese = []
    if article.lang == "ja":
        japanese = [article.title, body]
    japanese += [s for s in (*(article.keywords or []), *(article.symptoms or [])) if has_kana(s)]
    return {
        "slug": article.slug,
        "title": article.title,
        "lang": article.lang,
        "summary": article.summary,
        "sections": sections,
        "title_text": article.title,
        "symptom_text": symptoms,
        "keyword_text": keywords,
        "body_text": f"{article.summary}\n{body}",
        "ja_text": "\n".join(japanese),
    }


# What the current index was built from: a digest of every indexed column of every article,
# and a cheap generation (count, last id, last change) checked now and then by searches.
SOURCE_FILE = "source.sha256"
GENERATION_FILE = "source.generation"
_INDEXED_COLUMNS = (
    "pk",
    "slug",
    "title",
    "lang",
    "summary",
    "html",
    "keywords",
    "tags",
    "symptoms",
)
LOCK_FILE = ".rebuild.lock"


def _database_digest() -> str:
    """A digest of everything `_document` reads, for every article (one query, no rendering)."""
    from kb.models import Article

    digest = hashlib.sha256()
    rows = Article.objects.order_by("pk").values_list(*_INDEXED_COLUMNS)
    for row in rows.iterator(chunk_size=1000):
        digest.update(repr(row).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def database_generation() -> str:
    """A cheap mark of the articles' state: one aggregate query."""
    from kb.models import Article

    state = Article.objects.aggregate(count=Count("pk"), last=Max("pk"), changed=Max("updated_at"))
    changed = state["changed"].isoformat() if state["changed"] else "-"
    return f"{state['count']}:{state['last']}:{changed}"


def _read_mark(folder: Path | None, name: str) -> str | None:
    if folder is None:
        return None
    try:
        return (folder / name).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


@contextlib.contextmanager
def _rebuild_lock(*, wait: float):
    """Hold the index's lock file (one rebuild at a time, across processes); yields False
    when it could not be taken within `wait` seconds."""
    root = Path(settings.KB_INDEX_DIR)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+b") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.2)
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def rebuild_index(*, articles: Iterable | None = None, force: bool = False) -> int:
    """Rebuild the whole index from the database; return the number of documents.

    The new index is written from scratch in a new folder and published by swapping the link
    in one rename: whatever the old folder holds (garbage, a truncated segment, a half-built
    index of a killed import) is never read, and readers keep the old index until the swap.
    When the current index was built from exactly the articles the database holds now (same
    digest of every indexed column) and opens, nothing is rewritten unless `force`.
    """
    with _rebuild_lock(wait=300.0) as locked:
        if not locked:
            raise TimeoutError("another rebuild of the search index held its lock for 5 minutes")
        return _rebuild_locked(articles=articles, force=force)


def _rebuild_locked(*, articles: Iterable | None, force: bool) -> int:
    from kb.models import Article

    generation = database_generation() if articles is None else None
    digest = _database_digest() if articles is None else None
    current = _current_folder()
    if not force and digest is not None and _read_mark(current, SOURCE_FILE) == digest:
        try:
            count = _storage(current).open_index().doc_count()
        except Exception:  # noqa: BLE001 - damaged on disk: rebuild below
            logger.warning("search index at %s is damaged; rebuilding it", current)
        else:
            # Same articles; the generation may differ only by timestamps of no-op saves.
            if _read_mark(current, GENERATION_FILE) != generation:
                (current / GENERATION_FILE).write_text(generation + "\n", encoding="ascii")
            return count
    root = Path(settings.KB_INDEX_DIR)
    folder = root / f"v{SCHEMA_VERSION}.{time.time_ns()}.{os.getpid()}"
    folder.mkdir(parents=True)
    try:
        ix = _storage(folder).create_index(_schema())
        rows = articles
        if rows is None:
            rows = Article.objects.only(
                "slug", "title", "lang", "summary", "html", "keywords", "tags", "symptoms"
            ).iterator(chunk_size=500)
        count = 0
        writer = ix.writer(limitmb=128)
        try:
            for article in rows:
                writer.add_document(**_document(article))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        if digest is not None:
            (folder / SOURCE_FILE).write_text(digest + "\n", encoding="ascii")
            (folder / GENERATION_FILE).write_text(generation + "\n", encoding="ascii")
        _publish(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _drop_old_folders(keep=folder)
    return count


def _publish(folder: Path) -> None:
    """Point the index link at `folder` in one atomic rename."""
    link = index_dir()
    temporary = link.with_name(f".{link.name}.link.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(folder.name)  # relative: the whole index folder can be moved
    if link.is_dir() and not link.is_symlink():
        # An index from before links (or a copied one): moved aside, then the link replaces it.
        link.rename(link.with_name(f"{link.name}.old.{time.time_ns()}"))
    os.replace(temporary, link)


def _drop_old_folders(*, keep: Path) -> None:
    """Delete every index folder but `keep` (old schema versions, replaced rebuilds, debris).

    Called with the rebuild lock held, so no folder being built is removed. A reader still
    holding files of a removed folder keeps them (unlinked files stay readable); one that
    needs another file gets an error, and its next search opens the new index.
    """
    root = Path(settings.KB_INDEX_DIR)
    link = index_dir()
    for child in root.iterdir():
        if child in (link, keep) or child.name == LOCK_FILE:
            continue
        if child.name.startswith(("v", ".v")):
            if child.is_symlink() or child.is_file():
                child.unlink(missing_ok=True)
            else:
                shutil.rmtree(child, ignore_errors=True)


# --- self-healing -------------------------------------------------------------------------

# A search checks at most every KB_INDEX_CHECK_SECONDS whether the index still matches the
# database (one aggregate query), and a process starts at most one rebuild per interval.

_heal_lock = threading.Lock()
_heal_state = {"checked": 0.0, "started": 0.0, "pid": 0}


def heal_index() -> bool:
    """Rebuild the index if it is missing, damaged or older than the database; True if done.

    Never waits for another process's rebuild (the lock file says one is running) and never
    builds an empty index from a database that holds no article.
    """
    from kb.models import Article

    try:
        if not Article.objects.exists():
            return False
        with _rebuild_lock(wait=0.0) as locked:
            if not locked:
                return False
            _rebuild_locked(articles=None, force=False)
        return True
    except Exception:  # noqa: BLE001 - a background repair reports, it never raises
        logger.exception("rebuilding the search index failed")
        return False


def _schedule_heal() -> None:
    """Start `heal_index` in a background thread, once per interval per process."""
    from django.db import connection

    # Inside a transaction (a test, a management command) the rows this thread wrote are not
    # visible to the rebuild's own connection; whoever commits them rebuilds the index.
    if not settings.KB_INDEX_SELF_HEAL or connection.in_atomic_block:
        return
    now = time.monotonic()
    with _heal_lock:
        if _heal_state["pid"] == os.getpid() and now - _heal_state["started"] < (
            settings.KB_INDEX_CHECK_SECONDS
        ):
            return
        _heal_state.update(started=now, pid=os.getpid())
    thread = threading.Thread(target=_heal_in_thread, name="kb-index-heal", daemon=True)
    thread.start()


def _heal_in_thread() -> None:
    from django.db import connection

    try:
        heal_index()
    finally:
        connection.close()  # this thread's own connection


def _check_freshness(folder: Path) -> None:
    """Now and then, compare the index's generation with the database's; heal when stale."""
    now = time.monotonic()
    with _heal_lock:
        if _heal_state["pid"] == os.getpid() and now - _heal_state["checked"] < (
            settings.KB_INDEX_CHECK_SECONDS
        ):
            return
        _heal_state.update(checked=now, pid=os.getpid())
    try:
        stale = _read_mark(folder, GENERATION_FILE) != database_generation()
    except Exception:  # noqa: BLE001 - the database answers the search below, or fails there
        return
    if stale:
        logger.warning("search index is older than the database; rebuilding it")
        _schedule_heal()


class _ThreadSearcher(threading.local):
    """This thread's searcher (whoosh: one searcher per thread), reopened when stale."""

    pid: int | None = None
    folder: Path | None = None
    searcher = None

    def get(self):  # noqa: ANN201
        folder = _current_folder()
        if folder is None:
            self.forget()
            return None
        searcher = self.searcher
        if (
            searcher is None
            or self.pid != os.getpid()
            or self.folder != folder
            or not searcher.up_to_date()
        ):
            self.forget()
            storage = _storage(folder)
            if not storage.index_exists():
                return None
            self.searcher = storage.open_index().searcher()
            self.pid, self.folder = os.getpid(), folder
        return self.searcher

    def forget(self) -> None:
        """Close and drop this thread's searcher (nobody else uses it)."""
        searcher, self.searcher = self.searcher, None
        if searcher is not None and self.pid == os.getpid():
            with contextlib.suppress(Exception):
                searcher.close()


_searchers = _ThreadSearcher()


class _ResultCache:
    """Recent answers of one index: the same error string is searched again and again.

    Bound to the index (folder and generation) that produced the answers: when the index
    changes, the cache starts empty, so an answer never outlives the index it came from.
    Hits are frozen dataclasses, shared read-only between callers.
    """

    def __init__(self, maxsize: int = 512) -> None:
        self._lock = threading.Lock()
        self._maxsize = maxsize
        self._owner = None
        self._entries: dict[tuple[str, int], tuple[SearchHit, ...]] = {}

    def get(self, owner: object, key: tuple[str, int]) -> tuple[SearchHit, ...] | None:
        with self._lock:
            if self._owner != owner:
                return None
            hits = self._entries.pop(key, None)
            if hits is not None:
                self._entries[key] = hits  # most recently used last
            return hits

    def put(self, owner: object, key: tuple[str, int], hits: tuple[SearchHit, ...]) -> None:
        with self._lock:
            if self._owner != owner:
                self._owner = owner
                self._entries = {}
            self._entries[key] = hits
            while len(self._entries) > self._maxsize:
                del self._entries[next(iter(self._entries))]

    def clear(self) -> None:
        """Forget every answer (the benchmarks measure uncached searches with this)."""
        with self._lock:
            self._owner = None
            self._entries = {}


_results = _ResultCache()


# --- querying -----------------------------------------------------------------------------


def prepare_query(text: str) -> str:
    """Reduce what the user typed or pasted to the words worth searching for."""
    text = text[: settings.KB_MAX_QUERY_CHARS]
    if "\n" in text.strip() or len(text) > 300:
        return errortext.query_text(text, max_terms=MAX_QUERY_TERMS)
    return errortext.normalize(text)


def _dedupe(terms: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for term in terms:
        seen.setdefault(term, None)
    return list(seen)[:MAX_QUERY_TERMS]


# A term in more than this share of the documents (and more than RARE_MIN of them) is "common":
# the CJK bigrams ます, でき, 设置 are in nearly every Japanese or Chinese document. Whoosh
# scores postings in Python, so an OR over common terms costs a pass over most of the index.
RARE_SHARE = 0.02
RARE_MIN = 25
# AND over the few rarest terms finds the documents holding them all, at the cost of the
# shortest posting lists; the full sequence is matched as a phrase in the short fields.
AND_TERMS = 4
PHRASE_TERMS = 16


def _field_query(reader, field: str, terms: list[str], *, phrase: bool) -> Query | None:  # noqa: ANN001
    """Clauses for one field, shaped by how common each term is in the index."""
    distinct = _dedupe(terms)
    if not distinct:
        return None
    if len(distinct) == 1:
        term = distinct[0]
        if len(term) == 1 and has_cjk(term):
            # A single CJK character is indexed only inside bigrams: match them by prefix.
            return Or([Term(field, term), Prefix(field, term)])
        return Term(field, term)
    if reader is None:
        frequency = dict.fromkeys(distinct, 1)
        rare_limit = 1
    else:
        frequency = {term: reader.doc_frequency(field, term) for term in distinct}
        rare_limit = max(RARE_MIN, int(RARE_SHARE * reader.doc_count()))
    present = sorted((t for t in distinct if frequency[t]), key=frequency.__getitem__)
    if not present:
        return None
    rare = [t for t in present if frequency[t] <= rare_limit]
    clauses: list[Query] = []
    if rare:
        clauses.append(Or([Term(field, t) for t in rare]))
    if len(present) == len(distinct):
        # Every word occurs in this field somewhere: reward documents holding them together.
        if phrase and len(terms) <= PHRASE_TERMS:
            # Error strings are matched as phrases.
            clauses.append(Phrase(field, terms, boost=4.0))
        else:
            clauses.append(And([Term(field, t) for t in present[:AND_TERMS]], boost=1.5))
    elif not rare:
        clauses.append(And([Term(field, t) for t in present[:AND_TERMS]]))
    return Or(clauses) if clauses else None


def build_query(text: str, reader=None) -> Query | None:  # noqa: ANN001
    """A Whoosh query object for prepared text, or None when it holds no searchable term.

    With the index's reader, terms are weighed by how many documents hold them.
    """
    bigrams = bigram_terms(text)
    clauses = []
    for field in ("title_text", "symptom_text", "keyword_text", "body_text"):
        # Titles, symptoms and keywords are short: a phrase over them is cheap and decisive.
        clause = _field_query(reader, field, bigrams, phrase=field != "body_text")
        if clause is not None:
            clauses.append(clause)
    if has_kana(text):
        lemma_clause = _field_query(reader, "ja_text", lemma_terms(text), phrase=False)
        if lemma_clause is not None:
            clauses.append(lemma_clause)
    if not clauses:
        return None
    return Or(clauses)


def search_articles(query: str, limit: int = 10) -> list[SearchHit]:
    """Find the articles for a query or a pasted log, best first, each with its best section.

    Each article is listed once, in the reader's language when it has that version. When the
    index is missing or cannot be read, the database answers (module docstring).
    """
    limit = max(1, min(int(limit), 50))
    prepared = prepare_query(query or "")
    lang = preferred_language(query)
    try:
        searcher = _searchers.get()
        if searcher is not None:
            _check_freshness(_searchers.folder)
            owner = (_searchers.folder, searcher.ixreader.generation())
            key = (prepared, limit)
            cached = _results.get(owner, key)
            if cached is None:
                # Room for the other language versions of the same articles, folded away below.
                cached = tuple(_search(searcher, prepared=prepared, limit=min(limit * 3, 150)))
                _results.put(owner, key, cached)
            hits = one_version_per_article(
                list(cached),
                lang=lang,
                translation=lambda hit: _version_in(
                    searcher, hit=hit, lang=lang, prepared=prepared
                ),
            )
            return hits[:limit]
    except Exception as error:  # noqa: BLE001 - whoosh raises many kinds on a damaged index
        # The type only: an exception's text may quote the query.
        logger.warning(
            "search index unreadable (%s); answering from the database, rebuilding it",
            type(error).__name__,
        )
        _searchers.forget()
    _schedule_heal()
    hits = one_version_per_article(database_search(prepared, limit=limit * 3), lang=lang)
    return hits[:limit]


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
            snippet=html.escape(_shorten(article.summary or "", SNIPPET_CHARS)),
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


# --- languages: one result per article, in the searcher's language ------------------------------


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


def _search(searcher, *, prepared: str, limit: int) -> list[SearchHit]:  # noqa: ANN001
    whoosh_query = build_query(prepared, searcher.reader())
    if whoosh_query is None:
        return []
    results = searcher.search(whoosh_query, limit=limit)
    needles = _needles(prepared)
    hits = []
    # scored_length(), not len(): len() counts every match, re-running the query unlimited.
    top_score = results[0].score if results.scored_length() else 0.0
    for result in results:
        if result.score < RELATIVE_CUTOFF * top_score:
            break  # the rest matched only a stray common word: noise, not answers
        fields = result.fields()
        section_id, section_title, snippet = _best_section(fields["sections"], needles)
        if not snippet:
            snippet = html.escape(_shorten(fields.get("summary") or "", 240))
        url = reverse("kb:article_detail", args=[fields["slug"]])
        if section_id:
            url += f"#{section_id}"
        hits.append(
            SearchHit(
                slug=fields["slug"],
                title=fields["title"],
                url=url,
                lang=fields["lang"],
                snippet=snippet,
                score=round(float(result.score), 4),
                section=section_id or None,
                section_title=section_title or None,
            )
        )
    return hits


def _version_in(searcher, *, hit: SearchHit, lang: str, prepared: str) -> SearchHit | None:  # noqa: ANN001
    """The hit's article in another language, from the index, with its own best section."""
    fields = searcher.document(slug=hit.slug, lang=lang)
    if fields is None:
        return None
    section_id, section_title, snippet = _best_section(fields["sections"], _needles(prepared))
    url = reverse("kb:article_detail", args=[hit.slug]) + (f"#{section_id}" if section_id else "")
    return replace(
        hit,
        title=fields["title"],
        lang=lang,
        url=url,
        snippet=snippet or html.escape(_shorten(fields.get("summary") or "", 240)),
        section=section_id or None,
        section_title=section_title or None,
    )


# --- snippets -------------------------------------------------------------------------------

SNIPPET_CHARS = 240


def _needles(prepared: str) -> re.Pattern[str] | None:
    """A pattern finding the query's words (Latin words, CJK bigrams) in folded text."""
    words = {
        token for token, _, _ in bigram_spans(fold(prepared)) if len(token) > 1 or has_cjk(token)
    }
    if not words:
        return None
    alternatives = sorted((re.escape(w) for w in words), key=len, reverse=True)[:200]
    # Latin words match on word boundaries; CJK bigrams anywhere.
    parts = [a if has_cjk(a) else rf"\b{a}\b" for a in alternatives]
    return re.compile("|".join(parts), re.IGNORECASE)


def _best_section(
    sections: Sequence[tuple[str, str, str]], needles: re.Pattern[str] | None
) -> tuple[str, str, str]:
    """Pick the section with the most distinct matched words; return (id, title, snippet)."""
    if needles is None or not sections:
        return "", "", ""
    best = None
    best_key = (0, 0)
    for section_id, title, text in sections:
        found = list(needles.finditer(text))
        if not found:
            continue
        key = (len({m.group(0) for m in found}), len(found))
        if key > best_key:
            best_key = key
            best = (section_id, title, text, found)
    if best is None:
        return "", "", ""
    section_id, title, text, found = best
    return section_id, title, _snippet(text, found)


def _snippet(text: str, found: list[re.Match[str]]) -> str:
    """The window of text with the most matches, escaped, matches wrapped in <mark>."""
    start = 0
    anchor = 0
    best_count = -1
    for match in found[:64]:
        window_start = max(0, match.start() - 40)
        count = sum(1 for m in found if window_start <= m.start() < window_start + SNIPPET_CHARS)
        if count > best_count:
            best_count = count
            start = window_start
            anchor = match.start()
    start = _word_start(text, start, anchor)
    end = min(len(text), start + SNIPPET_CHARS)
    pieces = []
    cursor = start
    for match in found:
        if match.start() < cursor or match.end() > end:
            continue
        pieces.append(html.escape(text[cursor : match.start()]))
        pieces.append(f"<mark>{html.escape(match.group(0))}</mark>")
        cursor = match.end()
    pieces.append(html.escape(text[cursor:end]))
    snippet = "".join(pieces).replace("\n", " ")
    # Adjacent matched words read as one highlighted phrase.
    snippet = re.sub(r"</mark>(\s*)<mark>", r"\1", snippet)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return f"{prefix}{snippet.strip()}{suffix}"


def _is_latin_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def _word_start(text: str, start: int, anchor: int) -> int:
    """Move a snippet's start off the middle of a Latin word (never past the match it shows).

    CJK text has no spaces between words; it is left as it is.
    """
    if start <= 0 or start >= len(text):
        return start
    if not (_is_latin_word_char(text[start - 1]) and _is_latin_word_char(text[start])):
        return start
    position = start
    while position < anchor and _is_latin_word_char(text[position]):
        position += 1
    while position < anchor and text[position].isspace():
        position += 1
    return position


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
