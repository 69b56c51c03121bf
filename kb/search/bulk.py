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
compound segment of 3 011 and of 10 011 real articles was equal to Whoosh's own; the blocks
are now kb/search/codec.py's, which Whoosh's writer writes through `BlockCodec`):

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

import functools
import gc
import marshal
import os
import shutil
import tempfile
from bisect import bisect_left
from itertools import repeat
from operator import itemgetter
from pathlib import Path

# Postings per page of a run file. A key range reads every page that overlaps it: with pages
# of 4 096 postings (about three per chunk of 32 real articles), the seven ranges of a
# rebuild of 10 011 articles read 8.7 million postings to keep 3.4 million.
PAGE_POSTINGS = 1024
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


def _collector_paused(task):  # noqa: ANN001, ANN201
    """Run a worker's task with Python's cyclic garbage collector paused.

    Analysing a chunk builds tens of thousands of tuples and lists (postings, the sections
    file's tables) that live until it ends, and the collector walks them again and again as
    they pile up; none of them is part of a reference cycle, and whatever cycle a task does
    make (an exception and its traceback) is collected once the collector runs again after
    it. Measured on 2 003 real articles (every fifth of 10 011) in one process, old and new
    taking turns, four rounds at load 1.5-2.2: analysing 9.79 -> 8.90 ms an article (mean).
    Encoding the postings (`encode_range`) showed no difference (3.45 against 3.74 ms an
    article): it is left as it was.
    """

    @functools.wraps(task)
    def paused(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if not gc.isenabled():
            return task(*args, **kwargs)
        gc.disable()
        try:
            return task(*args, **kwargs)
        finally:
            gc.enable()

    return paused


# Fields of `index_terms`' tuples: (term, frequency, weight, encoded value).
_term, _frequency, _weight, _encoded = (itemgetter(n) for n in range(4))


_term_of_posting = itemgetter(1)  # a posting: (field, term, document, weight, value, length)


class _Row:
    """The columns `document` reads, sent to a worker instead of a model instance."""

    def __init__(self, values: dict) -> None:
        self.__dict__.update(values)


@_collector_paused
def analyse_chunk(
    rows: list[dict], docbase: int, folder: str, page_postings: int = PAGE_POSTINGS
) -> tuple[list, list, str, list]:
    """In a worker: analyse articles numbered from `docbase`; write their postings to a run
    file in `folder`. Returns (per document: [(field, stored value or None, length)], per
    document: (its slug, its record in the sections file), the run file, per page: (first
    key, last key, offset, size))."""
    from kb.analysis import index_terms
    from kb.search.index import document

    fields = _schema()
    by_field: dict[str, list[tuple]] = {}
    docs = []
    records = []
    for number, row in enumerate(rows):
        docnum = docbase + number
        doc, record = document(_Row(row))
        records.append((doc["slug"], record))
        entries = []
        for name in sorted(doc):
            value = doc[name]
            if value is None:
                continue
            field = fields[name]
            length = 0
            if field.indexed:
                analysed = index_terms(field, value)
                if field.scorable:
                    length = sum(map(_frequency, analysed))
                # A posting per term, built in C (a loop per term was 7 % of analysing, by
                # py-spy of 3 003 real articles). add_document multiplies a weight by the
                # document's field boost, 1.0 here: float() gives the same value.
                postings = by_field.get(name)
                if postings is None:
                    postings = by_field[name] = []
                postings.extend(
                    zip(
                        repeat(name),
                        map(_term, analysed),
                        repeat(docnum),
                        map(float, map(_weight, analysed)),
                        map(_encoded, analysed),
                        repeat(_read_length(length)),
                    )
                )
            entries.append((name, value if field.stored else None, length))
        docs.append(entries)
    # In (field, term, document) order, as Whoosh sorts them. A field's postings hold each
    # term once per document, in document order: a stable sort by term alone gives that
    # order, comparing bytes in C, where sorting the tuples compared the equal field names
    # first each time (one sort of all the tuples was 8 % of analysing a chunk, cProfile of
    # 1 002 real articles: 0.79 of 9.9 s).
    postings = []
    for name in sorted(by_field):
        group = by_field[name]
        group.sort(key=_term_of_posting)
        postings.extend(group)
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
    return docs, records, path, pages


def encode_range(
    runs: list[tuple[str, list]], low: tuple | None, high: tuple | None, folder: str
) -> tuple[str, list]:
    """In a worker: the postings of every key `low <= (field, term) < high` (None: no bound),
    encoded by Whoosh's W3PostingsWriter into a file of their own. Returns the file and, per
    term in key order, (field, term, its W3TermInfo's bytes without the extent, offset in
    that file, length): see `_write_postings`."""
    from kb.search.codec import BlockCodec

    fields = _schema()
    postings: list[tuple] = []
    for path, pages in runs:
        with open(path, "rb") as source:
            for first, last, offset, size in pages:
                if (low is not None and last < low) or (high is not None and first >= high):
                    continue
                source.seek(offset)
                page = marshal.loads(source.read(size))
                # A page is sorted: the postings in range are one slice of it. A posting
                # (field, term, ...) sorts after the pair (field, term) that starts it, so
                # bisecting for `low` and `high` finds where `low <= (field, term) < high`
                # begins and ends.
                begin = 0 if low is None or first >= low else bisect_left(page, low)
                end = len(page) if high is None or last < high else bisect_left(page, high)
                postings.extend(page[begin:end])
    postings.sort()  # keys are unique: (field, term, document) decides
    handle, out_path = tempfile.mkstemp(prefix="postings-", dir=folder)
    with os.fdopen(handle, "wb") as out:
        terms = _write_postings(out, postings, fields, BlockCodec())
    return out_path, terms


_EXTENT_BYTES = 12  # W3TermInfo.to_bytes ends with pack_long(offset) + pack_int(length)

# A term found in a few documents is written as bytes that depend only on its postings
# (document, weight, value, length) and its field, not on the term: every word a document
# holds once in its body gives the same bytes. Counted in the postings of 1 002 real articles:
# 89 129 terms, 82 074 of them in at most 8 documents, with 29 346 distinct
# posting lists among those; at 3 337 articles 154 941 and 65 315. Those terms are encoded
# once per distinct list and written again from this cache (at most _REPEATED_MAX lists).
_REPEATED_MAX_POSTINGS = 8
_REPEATED_MAX = 200_000
_posting_tail = itemgetter(2, 3, 4, 5)  # (document, weight, value, length) of a posting


def _write_postings(out, postings: list[tuple], fields, codec) -> list[tuple]:  # noqa: ANN001
    """Each term's posting list, as `BlockCodec`'s postings writer writes it (blocks of up
    to `blocklimit` postings: a header, then per block its length, a pickled summary and the
    pickled ids, weights and values: kb/search/codec.py), with the same `W3TermInfo`
    statistics.

    Whoosh's writer does this a posting at a time (a method call, four asserts, an array
    append each) and a block at a time through a dozen small methods; here each block is a
    few list comprehensions. Returns, per term in key order, (field, term, the bytes of its
    W3TermInfo up to its extent, offset of its postings in `out`, their length): the
    parent adds the extent once it knows where this file lands (`BulkSegment._append`).
    cProfile of encoding the postings of 1 004 real articles: 17.8 s, 14.6 s of it in
    Whoosh's writer (profiled; 4.6 s of CPU without the profiler).
    """
    from array import array

    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo

    from kb.search.codec import BlockCodec, block_bytes, block_data, block_summary

    if type(codec) is not BlockCodec:
        raise AssertionError("kb.search.bulk writes kb.search.codec's blocks only")
    if codec._inlinelimit > 1:
        raise AssertionError("kb.search.bulk does not inline postings")
    blocklimit = codec._blocklimit
    write = out.write
    offset = 0
    terms: list[tuple] = []
    count = len(postings)
    start = 0
    fixed_sizes = {}
    repeated: dict[tuple, tuple[bytes, bytes]] = {}
    while start < count:
        name, text = postings[start][0], postings[start][1]
        end = start + 1
        while end < count and postings[end][1] == text and postings[end][0] == name:
            end += 1
        key = None
        if end - start <= _REPEATED_MAX_POSTINGS:
            key = (name, *map(_posting_tail, postings[start:end]))
            known = repeated.get(key)
            if known is not None:
                data, stats = known
                write(data)
                terms.append((name, text, stats, offset, len(data)))
                offset += len(data)
                start = end
                continue
        pieces: list[bytes] = []
        put = pieces.append
        fixedsize = fixed_sizes.get(name, -2)
        if fixedsize == -2:
            fixedsize = fixed_sizes[name] = fields[name].format.fixed_value_size()
        info = W3TermInfo()
        startoffset = offset
        put(WHOOSH3_HEADER_MAGIC)
        offset += len(WHOOSH3_HEADER_MAGIC)
        for first in range(start, end, blocklimit):
            block = postings[first : min(first + blocklimit, end)]
            ids = [p[2] for p in block]
            raw_weights = [p[3] for p in block]
            weights = array("f", raw_weights)
            maxweight = 0
            for weight in raw_weights:
                if weight > maxweight:
                    maxweight = weight
            lengths = [p[5] for p in block if p[5]]
            minlength = min(lengths) if lengths else None
            maxlength = max(lengths) if lengths else 0
            # W3TermInfo.add_block
            info._weight += sum(weights)
            info._df += len(ids)
            if info._minlength is None:
                info._minlength = minlength
            else:
                info._minlength = min(info._minlength, minlength)
            info._maxlength = max(info._maxlength, maxlength)
            info._maxweight = max(info._maxweight, maxweight)
            if info._minid is None:
                info._minid = ids[0]
            info._maxid = ids[-1]
            if fixedsize is None or fixedsize < 0:
                values = tuple(p[4] for p in block if p[4])
            elif fixedsize == 0:
                values = None
            else:
                values = b"".join(p[4] for p in block if p[4])
            data = block_data(ids, weights, values)
            summary = block_summary(len(ids), ids[-1], maxweight, minlength, maxlength)
            block_written = block_bytes(summary, data, last=first + blocklimit >= end)
            put(block_written)
            offset += len(block_written)
        info.set_extent(startoffset, offset - startoffset)
        # to_bytes ends with the extent, pack_long(offset) + pack_int(length).
        stats = info.to_bytes()[:-_EXTENT_BYTES]
        data = b"".join(pieces)
        write(data)
        terms.append((name, text, stats, startoffset, offset - startoffset))
        if key is not None:
            if len(repeated) >= _REPEATED_MAX:
                repeated.clear()
            repeated[key] = (data, stats)
        start = end
    return terms


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

    def __init__(self, writer, pool, workers: int, folder: Path, sections) -> None:  # noqa: ANN001
        check_schema(writer.schema)
        self.writer = writer
        self.sections = sections  # kb/search/sections.py `SectionsWriter`
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
        """Add one finished chunk's documents (stored values, lengths) to the writer, and
        their records to the sections file."""
        docs, records, path, pages = future.result()
        self.runs.append((path, pages))
        for slug, record in records:
            self.sections.add(record, slug=slug)
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
        """Append each range's postings file and add its terms to the terms table, with the
        bytes and side effects of `OrderedHashWriter.add` (a record per term: lengths, key,
        W3TermInfo; the key's position in the index; (hash, position) in the key's bucket),
        written in one piece per range. cProfile of the parent of a rebuild of 1 004
        articles (79 382 terms; wall time at load 11): 47.0 s here, of which
        `OrderedHashWriter.add` 24.0 s (a `tell` per term: an lseek each),
        `W3TermInfo.to_bytes` 7.5 s (now in the workers)."""
        from whoosh.codec.whoosh3 import W3FieldWriter
        from whoosh.filedb.filetables import OrderedHashWriter, _lengths
        from whoosh.system import pack_int, pack_long, pack_ushort

        fieldwriter = self.writer.fieldwriter
        if type(fieldwriter) is not W3FieldWriter:
            raise AssertionError("kb.search.bulk writes Whoosh 3 segments only")
        table = fieldwriter._tindex
        if type(table) is not OrderedHashWriter:
            raise AssertionError("kb.search.bulk writes Whoosh's ordered hash terms table only")
        fields = self.writer.schema
        postfile = fieldwriter._postfile
        dbfile = table.dbfile
        hashfn = table.hashfn
        buckets = table.buckets
        index_append = table.index.append
        pack_lengths = _lengths.pack
        record_head = _lengths.size
        current = None
        prefix = b""
        for result in results:
            path, terms = result()
            base = postfile.tell()
            with open(path, "rb") as source:
                shutil.copyfileobj(source, postfile.file, 1 << 20)
            os.unlink(path)
            position = dbfile.tell()
            lastkey = table.lastkey
            records = []
            for name, text, stats, offset, length in terms:
                if name != current:
                    if current is not None:
                        fieldwriter.finish_field()
                    fieldwriter.start_field(name, fields[name])
                    current = name
                    prefix = pack_ushort(fieldwriter._fieldid)
                key = prefix + text
                if key <= lastkey:
                    raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
                value = stats + pack_long(base + offset) + pack_int(length)
                index_append(position)
                records.append(pack_lengths(len(key), len(value)))
                records.append(key)
                records.append(value)
                digest = hashfn(key)
                buckets[digest & 255].append((digest, position))
                position += record_head + len(key) + len(value)
                lastkey = key
            dbfile.write(b"".join(records))
            table.lastkey = lastkey
        if current is not None:
            fieldwriter.finish_field()
