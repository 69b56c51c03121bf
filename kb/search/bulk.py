"""Writing one index segment with worker processes: the postings are encoded in parallel.

Whoosh's own writer (`SegmentWriter.commit`) sorts every posting of the rebuild in the
parent process and then encodes them term after term (a pickle and zlib per block of 128
postings, the terms table, one field-length lookup per posting). cProfile of a rebuild of
3 011 real articles with two analysing workers (load 4-5): 155 s, of which the commit took
86 s and adding the analysed postings to Whoosh's pool 38 s, all in the parent, while the
workers waited. Splitting the index into one segment per worker would share that work, but
changes how Whoosh matches (it picks its union matcher by a segment's documents) and makes
every search visit several segments.

This module writes the same single segment, byte for byte (every file inside the
compound segment of 3 011 and of 10 011 real articles was equal to Whoosh's own):

1. Workers analyse chunks of articles (`document()` and each field's analyzer), as before,
   but keep the postings: each chunk's postings, sorted as Whoosh sorts them (field, term,
   document), go to a run file in pages; the parent receives only what the per-document
   files need (stored values, field lengths) and the first and last key of each page.
2. The parent cuts the key space into ranges of about equal numbers of postings (from those
   page keys). Workers encode each range: read the pages that overlap it from every run,
   sort, and feed Whoosh's own `W3PostingsWriter` term by term into a file of their own.
   Every posting carries the field length Whoosh would read back for it (the length byte
   decoded, as `doc_field_length` returns it), so blocks get the same statistics.
3. The parent appends the range files to the segment's postings file in key order and adds
   each term's `W3TermInfo` to the terms table with its offset moved by where the range
   landed. The terms go in in the same order as Whoosh adds them, with the same field ids.

The segment is then committed by Whoosh as usual (the per-document files, the table of
contents). tests/kb/test_import_speed.py compares every term, posting and length with an
index written by Whoosh's own writer. Only what our schema uses is handled: no spelling
graphs, no vectors, no inlined postings (whoosh-reloaded's default `inlinelimit` of 1 never
inlines); `check_schema` refuses anything else.
"""

from __future__ import annotations

import marshal
import os
import shutil
import tempfile
from pathlib import Path

PAGE_POSTINGS = 4096  # postings per page of a run file
RANGES_PER_WORKER = 4  # key ranges per worker: smaller ranges balance the workers better

_fields = None


def _schema():
    global _fields  # noqa: PLW0603 - one schema per worker process
    if _fields is None:
        from kb.search.index import schema

        _fields = schema()
    return _fields


def check_schema(fields) -> None:  # noqa: ANN001
    """Refuse a schema with what this writer does not handle (spelling, vectors, columns)."""
    for name in fields.names():
        field = fields[name]
        if field.separate_spelling() or field.vector or field.column_type:
            raise AssertionError(f"kb.search.bulk cannot write field {name!r}")


def _read_length(length: int) -> int:
    """The field length Whoosh's commit reads back for a posting (a lossy byte, 0 for none)."""
    from whoosh.util.numeric import byte_to_length, length_to_byte

    if not length:
        return 0
    encoded = length_to_byte(length)
    return byte_to_length(encoded) if encoded else 0


class _Row:
    """The columns `document` reads, sent to a worker instead of a model instance."""

    def __init__(self, values: dict) -> None:
        self.__dict__.update(values)


def analyse_chunk(
    rows: list[dict], docbase: int, folder: str, page_postings: int = PAGE_POSTINGS
) -> tuple[list, str, list]:
    """In a worker: analyse articles numbered from `docbase`; write their postings to a run
    file in `folder`. Returns (per document: [(field, stored value or None, length)], the run
    file, per page: (first key, last key, offset, size))."""
    from kb.search.index import document

    fields = _schema()
    postings: list[tuple] = []
    docs = []
    for number, row in enumerate(rows):
        docnum = docbase + number
        doc = document(_Row(row))
        entries = []
        for name in sorted(doc):
            value = doc[name]
            if value is None:
                continue
            field = fields[name]
            length = 0
            if field.indexed:
                analysed = list(field.index(value))
                if field.scorable:
                    length = sum(frequency for _, frequency, _, _ in analysed)
                read_back = _read_length(length)
                for term, _frequency, weight, encoded in analysed:
                    # add_document multiplies by the document's field boost (1.0 here).
                    postings.append((name, term, docnum, weight * 1.0, encoded, read_back))
            entries.append((name, value if field.stored else None, length))
        docs.append(entries)
    postings.sort()  # keys are unique: (field, term, document) decides
    handle, path = tempfile.mkstemp(prefix=f"run-{docbase}-", dir=folder)
    pages = []
    with os.fdopen(handle, "wb") as out:
        for start in range(0, len(postings), page_postings):
            page = postings[start : start + page_postings]
            data = marshal.dumps(page)
            offset = out.tell()
            out.write(data)
            first, last = page[0], page[-1]
            pages.append(((first[0], first[1]), (last[0], last[1]), offset, len(data)))
    return docs, path, pages


def encode_range(
    runs: list[tuple[str, list]], low: tuple | None, high: tuple | None, folder: str
) -> tuple[str, list]:
    """In a worker: the postings of every key `low <= (field, term) < high` (None: no bound),
    encoded by Whoosh's W3PostingsWriter into a file of their own. Returns the file and, per
    term in key order, (field, term, W3TermInfo with its offset in that file)."""
    from whoosh.codec import default_codec
    from whoosh.codec.whoosh3 import W3TermInfo
    from whoosh.filedb.structfile import StructFile

    fields = _schema()
    postings: list[tuple] = []
    for path, pages in runs:
        with open(path, "rb") as source:
            for first, last, offset, size in pages:
                if (low is not None and last < low) or (high is not None and first >= high):
                    continue
                source.seek(offset)
                page = marshal.loads(source.read(size))
                if (low is None or first >= low) and (high is None or last < high):
                    postings.extend(page)
                else:
                    postings.extend(
                        p
                        for p in page
                        if (low is None or (p[0], p[1]) >= low)
                        and (high is None or (p[0], p[1]) < high)
                    )
    postings.sort()  # keys are unique: (field, term, document) decides
    codec = default_codec()
    handle, out_path = tempfile.mkstemp(prefix="postings-", dir=folder)
    terms: list[tuple] = []
    out = StructFile(os.fdopen(handle, "wb"))
    try:
        writer = None
        field_name = None
        term = None
        add = None
        for name, text, docnum, weight, encoded, length in postings:
            if name != field_name or text != term:
                if term is not None:
                    terms.append((field_name, term, writer.finish_postings()))
                if name != field_name:
                    field_name = name
                    writer = codec.postings_writer(out)
                    add = writer.add_posting
                    fmt = fields[name].format
                term = text
                writer.start_postings(fmt, W3TermInfo())
            add(docnum, weight, encoded if encoded is not None else b"", length)
        if term is not None:
            terms.append((field_name, term, writer.finish_postings()))
    finally:
        out.close()
    return out_path, terms


def _cuts(pages: list[tuple], ranges: int) -> list[tuple]:
    """Keys that split the postings into `ranges` parts of about equal size (by pages)."""
    firsts = sorted(first for first, _, _, _ in pages)
    if ranges <= 1 or len(firsts) < ranges:
        return []
    cuts = []
    for part in range(1, ranges):
        key = firsts[part * len(firsts) // ranges]
        if not cuts or key > cuts[-1]:
            cuts.append(key)
    return cuts


class BulkSegment:
    """Adds analysed articles to a Whoosh SegmentWriter and writes its postings with a pool of
    worker processes (module docstring). Use: `submit` chunks in order, `take` finished ones
    (in order), then `finish` before `writer.commit()`."""

    def __init__(self, writer, pool, workers: int, folder: Path) -> None:  # noqa: ANN001
        check_schema(writer.schema)
        self.writer = writer
        self.pool = pool
        self.workers = max(1, workers)
        self.folder = Path(tempfile.mkdtemp(prefix=".runs-", dir=folder))
        self.docbase = 0
        self.runs: list[tuple[str, list]] = []

    def submit(self, rows: list[dict]):  # noqa: ANN201
        future = self.pool.submit(
            analyse_chunk, rows, self.docbase, str(self.folder), PAGE_POSTINGS
        )
        self.docbase += len(rows)
        return future

    def take(self, future) -> int:  # noqa: ANN001
        """Add one finished chunk's documents (stored values, lengths) to the writer."""
        docs, path, pages = future.result()
        self.runs.append((path, pages))
        writer = self.writer
        fields = writer.schema
        per_document = writer.perdocwriter
        for entries in docs:
            writer._check_state()
            per_document.start_doc(writer.docnum)
            for name, value, length in entries:
                per_document.add_field(name, fields[name], value, length)
            per_document.finish_doc()
            writer._added = True
            writer.docnum += 1
        return len(docs)

    def finish(self) -> None:
        """Encode the postings in the workers and write them and the terms table."""
        try:
            pages = [page for _, run_pages in self.runs for page in run_pages]
            cuts = _cuts(pages, self.workers * RANGES_PER_WORKER)
            bounds = list(zip([None, *cuts], [*cuts, None], strict=True))
            futures = [
                self.pool.submit(encode_range, self.runs, low, high, str(self.folder))
                for low, high in bounds
            ]
            self._append([future.result for future in futures])
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _append(self, results) -> None:  # noqa: ANN001
        from whoosh.codec.whoosh3 import W3FieldWriter
        from whoosh.system import pack_ushort

        fieldwriter = self.writer.fieldwriter
        if type(fieldwriter) is not W3FieldWriter:
            raise AssertionError("kb.search.bulk writes Whoosh 3 segments only")
        fields = self.writer.schema
        postfile = fieldwriter._postfile
        table = fieldwriter._tindex
        current = None
        prefix = b""
        for result in results:
            path, terms = result()
            base = postfile.tell()
            with open(path, "rb") as source:
                shutil.copyfileobj(source, postfile.file, 1 << 20)
            os.unlink(path)
            for name, text, info in terms:
                if name != current:
                    if current is not None:
                        fieldwriter.finish_field()
                    fieldwriter.start_field(name, fields[name])
                    current = name
                    prefix = pack_ushort(fieldwriter._fieldid)
                offset, length = info.extent()
                info.set_extent(base + offset, length)
                table.add(prefix + text, info.to_bytes())
        if current is not None:
            fieldwriter.finish_field()
