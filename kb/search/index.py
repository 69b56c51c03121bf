"""The index on disk: its schema, what each article becomes in it, where it lives, rebuilds.

The index is derived from the database and lives on local disk (settings.KB_INDEX_DIR), in
a folder per rebuild, reached through the link `v<SCHEMA_VERSION>`. Only `rebuild_index()`
writes it (called by `import_articles`, `rebuild_index` and the self-healing of
kb/search/healing.py). Facts it relies on:

- Whoosh allows one writer at a time and readers take no lock: they see the snapshot of the
  last commit, and a commit is atomic (it renames the table of contents). `create_in()` on a
  live folder, by contrast, empties it under the readers' feet. Source: the Whoosh manual,
  "How to index documents" (https://whoosh.readthedocs.io/en/latest/indexing.html) and
  `whoosh/index.py` of whoosh-reloaded 2.7.5.
- So every rebuild writes a new folder from scratch and then swaps the link to it in one
  rename (`os.replace`, atomic on POSIX): garbage or a truncated file in the old folder never
  matters, readers see the old index until the swap, and a schema change goes to a new
  versioned link, never emptying a live index. A lock file keeps rebuilds one at a time,
  across processes.
- Whoosh pickles the schema, analyzers included, into the index (kb/analysis.py): bump
  SCHEMA_VERSION whenever the schema or what an analyzer emits changes, and the next
  rebuild writes a new folder.
- Posting blocks are written by kb/search/codec.py (`BlockCodec`: Whoosh's layout without
  zlib); the segment keeps its codec, so readers read them with it.
- Segment files are read, not memory-mapped: Whoosh mmaps segments by default, and a
  truncated mapped file kills the process with SIGBUS where a read raises an error we can
  answer. Measured (2 200 documents, uncached queries, a loaded 2-core machine): median
  371-410 ms read against 351-401 ms mapped, 3-5 % slower; opening a searcher 2-12 ms
  against 28-30 ms.
- Beside the segment, each folder holds the sections file (kb/search/sections.py: every
  article's sections and a table of their words), written by the same rebuild before the
  folder is published; a folder whose sections file is missing, truncated or of another
  document count is not kept by the next rebuild.
- Each folder records what it was built from: a digest of every indexed column of every
  article (an unchanged re-import rewrites nothing) and a cheap generation (count, last id,
  last change) that searches compare with the database now and then.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import connections, router
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage

from kb.analysis import bigram_analyzer, has_kana, japanese_analyzer
from kb.search.codec import BlockCodec
from kb.search.sections import SECTIONS_FILE, SectionsFile, SectionsWriter, section_record

logger = logging.getLogger(__name__)

# Bump when the schema, an analyzer or the stored form of postings (kb/search/codec.py)
# changes: the index is then rebuilt in a new folder next to the old one. 6: posting blocks
# without zlib, long lists as arrays (kb/search/codec.py). 7: Traditional Chinese indexed
# in its Simplified form (kb/hanzi.py).
SCHEMA_VERSION = 7


def schema() -> Schema:
    """The fields of one indexed article (stored ones are shown, text ones are searched)."""
    return Schema(
        slug=ID(stored=True, unique=True),
        title=STORED(),
        lang=ID(stored=True),
        summary=STORED(),
        # The sections (anchors, titles, texts) and a table of their words are not stored
        # here but in the sections file beside the segment (kb/search/sections.py): every
        # hit read decompresses all its stored fields, and only the hits shown need them.
        title_text=TEXT(analyzer=bigram_analyzer(), field_boost=3.0),
        symptom_text=TEXT(analyzer=bigram_analyzer(), field_boost=2.5),
        keyword_text=TEXT(analyzer=bigram_analyzer(), field_boost=2.0),
        # No positions in the long fields: phrases are matched in the short ones only, and
        # positions double what indexing writes.
        body_text=TEXT(analyzer=bigram_analyzer(), phrase=False),
        ja_text=TEXT(analyzer=japanese_analyzer(), phrase=False),
    )


def _section_records(article) -> list[tuple[str, str, str]]:  # noqa: ANN001
    from kb.rendering import split_sections

    records = []
    for section in split_sections(article.html):
        # Kept as written, so snippets show the author's text; matching ignores case.
        text = section.text
        if text.strip() or section.id:
            records.append((section.id, section.title, text))
    return records


def document(article) -> tuple[dict[str, object], bytes]:  # noqa: ANN001
    """The index document of one article (stored fields to show, text fields to search) and
    its record in the sections file."""
    sections = _section_records(article)
    body = "\n".join(text for _, _, text in sections)
    keywords = " \n".join(str(k) for k in article.keywords or [])
    keywords += " \n" + " ".join(str(t) for t in article.tags or [])
    symptoms = " \n".join(str(s) for s in article.symptoms or [])
    japanese = []
    if article.lang == "ja":
        japanese = [article.title, body]
    japanese += [s for s in (*(article.keywords or []), *(article.symptoms or [])) if has_kana(s)]
    fields = {
        "slug": article.slug,
        "title": article.title,
        "lang": article.lang,
        "summary": article.summary,
        "title_text": article.title,
        "symptom_text": symptoms,
        "keyword_text": keywords,
        "body_text": f"{article.summary}\n{body}",
        "ja_text": "\n".join(japanese),
    }
    return fields, section_record(sections)


# --- location -----------------------------------------------------------------------------


def index_dir() -> Path:
    """The current schema version's index: a link to the folder of the latest rebuild."""
    return Path(settings.KB_INDEX_DIR) / f"v{SCHEMA_VERSION}"


def storage(folder: Path) -> FileStorage:
    """Whoosh's storage for one index folder, read and never mmapped (module docstring)."""
    return FileStorage(str(folder), supports_mmap=False)


def current_folder() -> Path | None:
    """The folder the link points to now, or None when there is no index."""
    try:
        folder = index_dir().resolve(strict=True)
    except OSError:
        return None
    return folder if folder.is_dir() else None


def index_exists() -> bool:
    """True when an index for the current schema is on disk and opens."""
    folder = current_folder()
    if folder is None:
        return False
    try:
        return storage(folder).index_exists()
    except Exception:  # noqa: BLE001 - garbage on disk: there is no usable index
        return False


# --- what an index was built from -----------------------------------------------------------

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
    """A digest of everything `document` reads, for every article (one query, no rendering).

    The columns are read as the database returns them, without the ORM's conversions (JSON
    decoding per row) and without `repr` of every value: at 10 011 real articles (load 6),
    cProfile put 4.2 of the 8.6 s in `repr` of the HTML and 1.7 s in decoding JSON, and the
    digest is part of every import, even an unchanged one. Each value goes in with its length,
    so that no two different rows give the same bytes.
    """
    from kb.models import Article

    connection = connections[router.db_for_read(Article)]
    quote = connection.ops.quote_name
    meta = Article._meta
    columns = ", ".join(
        quote(meta.pk.column if name == "pk" else meta.get_field(name).column)
        for name in _INDEXED_COLUMNS
    )
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} ORDER BY {quote(meta.pk.column)}"
    digest = hashlib.sha256()
    update = digest.update
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(1000):
            for row in rows:
                for value in row:
                    if isinstance(value, str):
                        data = value.encode("utf-8", "surrogatepass")
                    else:  # a number, None, or JSON the driver decoded (PostgreSQL)
                        data = repr(value).encode("utf-8", "surrogatepass")
                    update(b"%d:" % len(data))
                    update(data)
    return digest.hexdigest()


def database_generation() -> str:
    """A cheap mark of the articles' state (count, last id, newest change): one query.

    Three subqueries rather than three aggregates of one query: alone, each is answered from
    an index (a MAX from the index's last entry, the count from the smallest index), while
    the three aggregates together made SQLite walk the whole `updated_at` index. Written as
    SQL because the ORM cannot select subqueries without a table; the value is converted the
    way the ORM converts it. At 3 011 articles: 0.09 ms against 5.6-6.3 ms, and the search
    page reads it twice per request (its diagnosis cache, the troubleshooter's causes).
    """
    from kb.models import Article

    connection = connections[router.db_for_read(Article)]
    quote = connection.ops.quote_name
    table = quote(Article._meta.db_table)
    field = Article._meta.get_field("updated_at")
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {table}), (SELECT MAX({quote(Article._meta.pk.column)}) "
        f"FROM {table}), (SELECT MAX({quote(field.column)}) FROM {table})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        count, last, changed = cursor.fetchone()
    if changed is not None:
        for converter in connection.ops.get_db_converters(field.get_col(Article._meta.db_table)):
            changed = converter(changed, None, connection)
    changed = changed.isoformat() if changed else "-"
    return f"{count}:{last}:{changed}"


def read_mark(folder: Path | None, name: str) -> str | None:
    """The digest or generation recorded in an index folder, or None."""
    if folder is None:
        return None
    try:
        return (folder / name).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


# --- rebuilds -------------------------------------------------------------------------------


@contextlib.contextmanager
def rebuild_lock(*, wait: float):
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


def rebuild_index(
    *,
    articles: Iterable | None = None,
    force: bool = False,
    workers: int | None = None,
    nothing_saved: bool = False,
) -> int:
    """Rebuild the whole index from the database; return the number of documents.

    The new index is written from scratch in a new folder and published by swapping the link
    in one rename: whatever the old folder holds (garbage, a truncated segment, a half-built
    index of a killed import) is never read, and readers keep the old index until the swap.
    When the current index was built from exactly the articles the database holds now (same
    digest of every indexed column) and opens, nothing is rewritten unless `force`.
    """
    with rebuild_lock(wait=300.0) as locked:
        if not locked:
            raise TimeoutError("another rebuild of the search index held its lock for 5 minutes")
        return rebuild_locked(
            articles=articles, force=force, workers=workers, nothing_saved=nothing_saved
        )


# Rebuilds of at least this many articles analyse them in worker processes (starting one
# costs about a second: an interpreter, Django, Whoosh, MeCab).
PARALLEL_MIN_ARTICLES = 200
_CHUNK = 32  # articles per task sent to a worker


def rebuild_locked(
    *,
    articles: Iterable | None,
    force: bool,
    workers: int | None = None,
    nothing_saved: bool = False,
) -> int:
    """`rebuild_index` for a caller that holds the rebuild lock.

    With many articles, what each one becomes in the index (`document`, then every field's
    analyzer) is computed in `workers` processes (default: one per core), and the same
    workers encode the postings (kb/search/bulk.py): one segment, as Whoosh's own writer
    would write it, with the same document numbers. (One segment per worker would change
    how Whoosh matches: it picks its union matcher by the documents of a segment.)
    `nothing_saved` (an import that saved nothing) skips the digest while the database is
    at the generation the index was built from.
    """
    from kb.models import Article

    generation = database_generation() if articles is None else None
    current = current_folder()
    if (
        nothing_saved
        and not force
        and generation is not None
        and read_mark(current, GENERATION_FILE) == generation
    ):
        # An import that saved nothing (every file unchanged): when the database is still at
        # the generation this index was built from, the full digest (2.5 s at 10 000
        # articles, most of an unchanged re-import) would only confirm it. Every save moves
        # the generation (a new id, a count, updated_at); a different one is checked below.
        try:
            return _usable_count(current)
        except Exception:  # noqa: BLE001 - damaged on disk: checked and rebuilt below
            logger.warning("search index at %s is damaged; rebuilding it", current)
    digest = _database_digest() if articles is None else None
    if not force and digest is not None and read_mark(current, SOURCE_FILE) == digest:
        try:
            count = _usable_count(current)
        except Exception:  # noqa: BLE001 - damaged on disk: rebuild below
            logger.warning("search index at %s is damaged; rebuilding it", current)
        else:
            # Same articles; the generation may differ only by timestamps of no-op saves.
            if read_mark(current, GENERATION_FILE) != generation:
                (current / GENERATION_FILE).write_text(generation + "\n", encoding="ascii")
            return count
    root = Path(settings.KB_INDEX_DIR)
    folder = root / f"v{SCHEMA_VERSION}.{time.time_ns()}.{os.getpid()}"
    folder.mkdir(parents=True)
    try:
        ix = storage(folder).create_index(schema())
        workers = _default_workers() if workers is None else workers
        if articles is None and workers > 1 and Article.objects.count() >= PARALLEL_MIN_ARTICLES:
            count = _write_in_parallel(ix, workers)
        else:
            count = _write_here(ix, articles)
        if digest is not None:
            (folder / SOURCE_FILE).write_text(digest + "\n", encoding="ascii")
            (folder / GENERATION_FILE).write_text(generation + "\n", encoding="ascii")
        _publish(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _drop_old_folders(keep=folder)
    return count


def _usable_count(folder: Path) -> int:
    """The documents of the index in `folder`; raises when it or its sections file is
    damaged (searches would fail: the rebuild must not keep it)."""
    index = storage(folder).open_index()
    sections = SectionsFile(folder / SECTIONS_FILE)
    sections.close()
    if sections.count != index.doc_count_all():
        raise ValueError(f"{folder}: the sections file does not match the index")
    return index.doc_count()


_INDEXED_FIELDS = ("slug", "title", "lang", "summary", "html", "keywords", "tags", "symptoms")
# Whoosh keeps postings in memory up to this size before sorting them out to temporary runs
# and merging those (its default is 128 MB). 10 000 real articles produce about as much.
WRITER_LIMIT_MB = 512


def _default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def _write_here(ix, articles: Iterable | None) -> int:  # noqa: ANN001
    from kb.models import Article

    rows = articles
    if rows is None:
        rows = Article.objects.only(*_INDEXED_FIELDS).iterator(chunk_size=500)
    count = 0
    writer = ix.writer(limitmb=WRITER_LIMIT_MB, codec=BlockCodec())
    sections = SectionsWriter(Path(ix.storage.folder))
    try:
        for article in rows:
            fields, record = document(article)
            writer.add_document(**fields)
            sections.add(record, slug=fields["slug"])
            count += 1
    except BaseException:
        sections.cancel()
        writer.cancel()
        raise
    sections.close()
    writer.commit()
    return count


def _write_in_parallel(ix, workers: int) -> int:  # noqa: ANN001
    """Analyse the articles and encode their postings in `workers` processes
    (kb/search/bulk.py): the same single segment Whoosh's writer would commit."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    from kb import import_pool
    from kb.models import Article
    from kb.search.bulk import BulkSegment

    rows = Article.objects.values(*_INDEXED_FIELDS).iterator(chunk_size=500)
    count = 0
    writer = ix.writer(limitmb=WRITER_LIMIT_MB, codec=BlockCodec())
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=import_pool.setup,
        initargs=(os.getpid(),),
    )
    sections = SectionsWriter(Path(ix.storage.folder))
    try:
        bulk = BulkSegment(writer, pool, workers, Path(ix.storage.folder), sections)
        pending: deque = deque()
        chunk: list[dict] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= _CHUNK:
                pending.append(bulk.submit(chunk))
                chunk = []
                if len(pending) >= 4 * workers:
                    count += bulk.take(pending.popleft())
        if chunk:
            pending.append(bulk.submit(chunk))
        while pending:
            count += bulk.take(pending.popleft())
        bulk.finish()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        sections.cancel()
        writer.cancel()
        raise
    pool.shutdown(wait=True)
    sections.close()
    writer.commit()
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
