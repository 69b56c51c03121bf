"""Full-text search over the articles: Whoosh behind one small module.

- The index is derived from the database and lives on local disk (settings.KB_INDEX_DIR).
  Only `rebuild_index()` writes it (called by `import_articles` and `rebuild_index`).
- A rebuild adds every document and commits with mergetype=CLEAR: readers keep seeing the
  old index until the atomic commit (RESEARCH.md). A schema change goes to a new
  versioned folder, so a live index is never emptied by `create_in`.
- Each process opens its own searcher after fork and opens a fresh one when the index
  changed. `Searcher.refresh()` is never called: in whoosh-reloaded 2.7.5 it returns
  duplicated or deleted documents after a merge (RESEARCH.md).
- Queries are built as query objects, never parsed, so `:`, `(`, `"` or `*` in a pasted
  error can never raise a syntax error.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from whoosh import index as whoosh_index
from whoosh import writing
from whoosh.fields import ID, STORED, TEXT, Schema
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

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of a hit in the API."""
        return asdict(self)


# --- index location and lifecycle ---------------------------------------------------------


def index_dir() -> Path:
    """The folder of the current schema version's index."""
    return Path(settings.KB_INDEX_DIR) / f"v{SCHEMA_VERSION}"


def index_exists() -> bool:
    """True when an index for the current schema is on disk."""
    path = index_dir()
    return path.is_dir() and whoosh_index.exists_in(str(path))


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


# What the current index was built from: a digest of every indexed column of every article.
SOURCE_FILE = "source.sha256"
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


def _database_digest() -> str:
    """A digest of everything `_document` reads, for every article (one query, no rendering)."""
    from kb.models import Article

    digest = hashlib.sha256()
    rows = Article.objects.order_by("pk").values_list(*_INDEXED_COLUMNS)
    for row in rows.iterator(chunk_size=1000):
        digest.update(repr(row).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def rebuild_index(*, articles: Iterable | None = None, force: bool = False) -> int:
    """Rebuild the whole index from the database atomically; return the number of documents.

    When the index on disk was built from exactly the articles the database holds now (same
    digest of every indexed column), nothing is rewritten unless `force`: re-importing an
    unchanged folder costs one read of the table instead of a full rebuild.
    """
    from kb.models import Article

    path = index_dir()
    digest = _database_digest() if articles is None else None
    source = path / SOURCE_FILE
    if not force and digest is not None and index_exists():
        try:
            if source.read_text(encoding="ascii").strip() == digest:
                return whoosh_index.open_dir(str(path)).doc_count()
        except OSError:
            pass  # no digest yet: rebuild
    source.unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    if whoosh_index.exists_in(str(path)):
        ix = whoosh_index.open_dir(str(path))
    else:
        ix = whoosh_index.create_in(str(path), _schema())
    rows = articles
    if rows is None:
        rows = Article.objects.only(
            "slug", "title", "lang", "summary", "html", "keywords", "tags", "symptoms"
        ).iterator(chunk_size=500)
    count = 0
    # One writer at a time; wait for a concurrent import instead of failing at once.
    writer = ix.writer(timeout=120.0, limitmb=128)
    try:
        for article in rows:
            writer.add_document(**_document(article))
            count += 1
    except BaseException:
        writer.cancel()
        raise
    # CLEAR: the new segment replaces all old ones in one atomic commit.
    writer.commit(mergetype=writing.CLEAR)
    if digest is not None:
        source.write_text(digest + "\n", encoding="ascii")
    _drop_old_versions()
    return count


def _drop_old_versions() -> None:
    root = Path(settings.KB_INDEX_DIR)
    for child in root.glob("v*"):
        if child.is_dir() and child.name != f"v{SCHEMA_VERSION}":
            shutil.rmtree(child, ignore_errors=True)


class _SearcherCache:
    """A per-process searcher, reopened (never refreshed) when the index has changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._path: Path | None = None
        self._searcher = None

    def get(self):  # noqa: ANN201
        path = index_dir()
        with self._lock:
            searcher = self._searcher
            stale = (
                searcher is None
                or self._pid != os.getpid()
                or self._path != path
                or not searcher.up_to_date()
            )
            if stale:
                if not (path.is_dir() and whoosh_index.exists_in(str(path))):
                    self._searcher = None
                    return None
                # The old searcher is not closed here: another thread may still be reading
                # from it; it is closed when garbage-collected.
                self._searcher = whoosh_index.open_dir(str(path)).searcher()
                self._pid = os.getpid()
                self._path = path
            return self._searcher


_searchers = _SearcherCache()


class _ResultCache:
    """Recent answers of one searcher: the same error string is searched again and again.

    Bound to the searcher that produced the answers: when the index changes, a new searcher is
    opened and the cache starts empty, so an answer never outlives the index it came from.
    Hits are frozen dataclasses, shared read-only between callers.
    """

    def __init__(self, maxsize: int = 512) -> None:
        self._lock = threading.Lock()
        self._maxsize = maxsize
        self._owner = None
        self._entries: dict[tuple[str, int], tuple[SearchHit, ...]] = {}

    def get(self, searcher, key: tuple[str, int]) -> tuple[SearchHit, ...] | None:  # noqa: ANN001
        with self._lock:
            if self._owner is not searcher:
                return None
            hits = self._entries.pop(key, None)
            if hits is not None:
                self._entries[key] = hits  # most recently used last
            return hits

    def put(self, searcher, key: tuple[str, int], hits: tuple[SearchHit, ...]) -> None:  # noqa: ANN001
        with self._lock:
            if self._owner is not searcher:
                self._owner = searcher
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
    """Find the articles for a query or a pasted log, best first, each with its best section."""
    limit = max(1, min(int(limit), 50))
    prepared = prepare_query(query or "")
    searcher = _searchers.get()
    if searcher is None:
        return []
    key = (prepared, limit)
    cached = _results.get(searcher, key)
    if cached is None:
        cached = tuple(_search(searcher, prepared=prepared, limit=limit))
        _results.put(searcher, key, cached)
    return list(cached)


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


# --- confident look-up ----------------------------------------------------------------------

# `/lookup/` redirects only when the best article clearly stands out: it holds most of the
# query's words and scores well above the runner-up. Otherwise the user sees the results.
LOOKUP_MIN_COVERAGE = 0.6
LOOKUP_MIN_LEAD = 1.25


def _coverage(prepared: str, sections: Sequence[tuple[str, str, str]]) -> float:
    words = {t for t, _, _ in bigram_spans(fold(prepared))}
    if not words:
        return 0.0
    text = "\n".join(t for _, _, t in sections)
    present = {t for t, _, _ in bigram_spans(fold(text))}
    return len(words & present) / len(words)


def lookup_best(error: str) -> SearchHit | None:
    """The one article (and section) an error message clearly belongs to, or None."""
    hits = search_articles(error, limit=2)
    if not hits:
        return None
    searcher = _searchers.get()
    if searcher is None:
        return None
    stored = searcher.document(slug=hits[0].slug)
    if stored is None or _coverage(prepare_query(error), stored["sections"]) < LOOKUP_MIN_COVERAGE:
        return None
    if len(hits) > 1 and hits[0].score < LOOKUP_MIN_LEAD * hits[1].score:
        return None
    return hits[0]
