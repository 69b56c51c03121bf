"""Two reads Whoosh repeats, done once: a term's entry per query, field lengths per reader.

Whoosh (whoosh-reloaded 2.7.5, `whoosh/codec/whoosh3.py`, `whoosh/scoring.py`) looks a term
up in the term dictionary three times for one query: its document frequency when the query
is shaped (kb/search/query.py), then its entry again for the posting reader and again for the
BM25F scorer's best possible score. Each look-up hashes the key and reads the on-disk hash
table (the index is read, not memory-mapped: kb/search/index.py). And BM25F reads the field
length of every posting it scores from a column file, one seek and read per document.

- `one_query(searcher)`: while a query is shaped and run, each term's entry is looked up once
  (absent terms too), with one read for the key and the entry together (`_entry`). Nothing
  outlives the query, so no answer depends on earlier searches. Its posting readers read a
  term's postings a window of up to 16 KB at a time (most lists in one read, where Whoosh
  reads each block's length, then the block) and skip inside a block by bisection instead
  of one posting at a time.
- Reads go to the segment file by position (`os.pread`), not through Whoosh's three file
  layers and the buffered file's 8 KB refill for each small random read.
- `documents_with(searcher, field, text)`: the documents holding a term (a slug's language
  versions) from its entry and postings alone.
- `lengths_in_memory(searcher)`: the length columns of the searched fields, one byte per
  document, are read into memory once per reader (10 000 documents: 50 KB), as a mapped
  index would have them.

Both swap objects inside Whoosh's segment reader (`_terms`, `_perdoc._readers`), so they
apply only to the single-segment reader our rebuilds produce, and do nothing on any other.
Measured on the 153 benchmark queries (3 011 documents, shaping and engine, same process,
variants taking turns): mean 42.2 ms plain, 34.9 ms with the per-query look-ups, 36.2 ms
with the lengths in memory, 32.7 ms with both; answers and scores identical.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import re
import struct
import threading
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    STORED_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3LeafMatcher,
    W3TermInfo,
    _lenfield,
)
from whoosh.columns import CompressedBytesColumn, NumericColumn, PickleColumn
from whoosh.filedb.compound import SubFile
from whoosh.matching import ReadTooFar
from whoosh.reading import ReaderClosed, TermNotFound
from whoosh.system import _INT_SIZE, unpack_int
from whoosh.util.numeric import byte_to_length

from kb.search.codec import VALUES_MARK, Ids

# The fields a query searches (kb/search/index.py `schema()`): their lengths are scored.
SCORED_FIELDS = ("title_text", "symptom_text", "keyword_text", "body_text", "ja_text")

_loading = threading.Lock()

# A term in at least this share of the documents is common: its decoded posting blocks are
# kept by the reader, up to MAX_COMMON_BLOCKS of them and MAX_COMMON_BLOCK_BYTES in all (a
# full block of 128 postings: 1 024 bytes of numbers, about 1.2 KB with its objects).
COMMON_SHARE = 0.1
MAX_COMMON_BLOCKS = 4096
MAX_COMMON_BLOCK_BYTES = 5 << 20
# And their term entries, up to this many (about 300 bytes each).
MAX_COMMON_ENTRIES = 8192
# The rarer terms' decoded blocks, block headers and entries (absent terms too) are kept as
# well, in stores of their own that start again empty when full (`_Kept`): a new query
# shares many of its rarer words with recent ones (100 new page queries at 10 011
# documents: 615 of 1 404 blocks read were read before, 417 of 1 307 entries looked up).
MAX_OTHER_BLOCKS = 2048
MAX_OTHER_BLOCK_BYTES = 5 << 19
MAX_OTHER_ENTRIES = 8192
# What a kept block costs beyond its numbers (8 bytes a posting): two arrays, a tuple, a key.
_BLOCK_BYTES = 200
# What a kept store holds for a term the dictionary lacks (None means "not kept").
_ABSENT = False


class _Kept(dict):
    """A reader's store of decoded blocks, block headers or term entries, of at most `limit`
    items and, when `max_bytes` is given, items of at most that many bytes in all (as the
    callers of `room` count them). Full, it either keeps what it holds (`renew` false: the
    common terms' stores, filled by the first queries) or starts again empty (the rarer
    terms': whatever recent queries read). Its items are read, never changed."""

    __slots__ = ("limit", "max_bytes", "renew", "used")

    def __init__(self, limit: int, *, renew: bool, max_bytes: int | None = None) -> None:
        super().__init__()
        self.limit = limit
        self.renew = renew
        self.max_bytes = max_bytes
        self.used = 0

    def room(self, size: int = 0) -> bool:
        """Whether one more item of `size` bytes may be kept (making room when this store
        renews); when it may, the caller keeps it."""
        if len(self) < self.limit and (
            self.max_bytes is None or self.used + size <= self.max_bytes
        ):
            self.used += size
            return True
        if self.renew:
            self.clear()
            self.used = size
            return True
        return False


def _kept(terms, name: str, limit: int, *, renew: bool, max_bytes: int | None = None) -> _Kept:  # noqa: ANN001
    """The store `name` of a term dictionary (Whoosh's W3TermsReader, one per reader)."""
    store = terms.__dict__.get(name)
    if store is None:
        store = terms.__dict__[name] = _Kept(limit, renew=renew, max_bytes=max_bytes)
    return store


# Whoosh's hash file layout (`whoosh/filedb/filetables.py`): a slot is (hash, position), an
# item is (key length, value length), the key, the value.
_POINTER = struct.Struct("!Iq")
_LENGTHS = struct.Struct("!ii")
# Bytes read with a key: a term's entry is 28 bytes, more with its postings inlined.
_ENTRY_BYTES = 96
# Postings read at once: most posting lists at 10 000 documents are shorter than this.
_POSTINGS_WINDOW = 16384
# A posting block is the pickle (protocol 2) of (ids, weights, values) (`W3PostingsWriter.
# _write_block`). Where values are `bytes` (positions), the first is written as a call of
# this function, and nothing before it can hold these bytes: the ids and weights are
# opcodes (none of these letters) with payloads of at most 8 bytes. Cut there, the pickle
# ends with the values None: `_NO_VALUES` (None, TUPLE3, STOP).
_BYTES_VALUE = b"c_codecs\nencode\n"
_OTHER_GLOBAL = b"c__builtin__\n"  # an empty `bytes`: never a posting's positions
_NO_VALUES = b"N\x87."
# A block's summary as Whoosh and kb/search/codec.py write it: the pickle (protocol 2) of a
# tuple of six numbers, each one opcode and its payload (small ints, a float, or None), then
# TUPLE, BINPUT 0 and STOP. Where it matches, its end is the match's end (`_goto`).
_SUMMARY = re.compile(rb"\x80\x02\((?:K.|M..|J....|G.{8}|N){6}tq\x00\.", re.DOTALL)


def _positional_reader(structfile):  # noqa: ANN001, ANN202 - whoosh's StructFile
    """`structfile.get(position, length)` as one `os.pread` on the segment file.

    Whoosh reads a sub-file of the compound segment through three layers (StructFile,
    SubFile, the buffered file object): a seek, then a read that fills the buffer's 8 KB
    from the disk cache for a 30-byte term entry. Measured at 10 000 documents, random
    positions: 4.5-5.6 us a call against 1.1-1.8 us for `os.pread` of the bytes asked
    for. The same bytes: the read is clipped to the sub-file as `SubFile.read` clips it.
    Any other kind of file (a mapped buffer) keeps its own `get`.
    """
    get = getattr(structfile, "_kb_pread", None)
    if get is not None:
        return get
    inner = getattr(structfile, "file", None)
    if isinstance(inner, SubFile):
        raw, base, size = inner._file, inner._offset, inner._length  # noqa: SLF001
    elif isinstance(inner, io.BufferedReader):
        raw, base, size = inner, 0, None
    else:
        return structfile.get
    try:
        fd = raw.fileno()
    except (AttributeError, OSError, ValueError):
        return structfile.get
    pread = os.pread

    def get(position: int, length: int) -> bytes:
        if raw.closed:  # never read a descriptor number the system may have given away
            raise ValueError("I/O operation on closed file")
        if size is not None:
            length = min(length, size - position)
        if length <= 0:
            return b""
        return pread(fd, length, base + position)

    structfile._kb_pread = get  # noqa: SLF001
    return get


def _entry(table, key: bytes) -> bytes | None:  # noqa: ANN001 - whoosh's HashReader
    """The value stored under `key` in Whoosh's on-disk hash table, or None.

    The same probing as `HashReader.ranges_for_key` (first match wins, as its `__getitem__`
    takes), with fewer reads: the key's lengths, the key and the entry after it come in one
    read, where Whoosh reads the lengths, the key and the value one by one, each a seek and
    a read through the compound file.
    """
    keyhash = table.hashfn(key)
    tablestart, numslots = table.tables[keyhash & 255]
    if not numslots:
        return None
    get = _positional_reader(table.dbfile)
    size = _POINTER.size
    tableend = tablestart + numslots * size
    slotpos = tablestart + ((keyhash >> 8) % numslots) * size
    for _ in range(numslots):
        slothash, itempos = _POINTER.unpack(get(slotpos, size))
        if not itempos:
            return None
        if slothash == keyhash:
            head = get(itempos, _LENGTHS.size + len(key) + _ENTRY_BYTES)
            keylen, datalen = _LENGTHS.unpack(head[: _LENGTHS.size])
            start = _LENGTHS.size + keylen
            if keylen == len(key) and head[_LENGTHS.size : start] == key:
                if start + datalen <= len(head):
                    return head[start : start + datalen]
                return get(itempos + start, datalen)
        slotpos += size
        if slotpos == tableend:
            slotpos = tablestart
    return None


class _TermsOnce:
    """A segment's term dictionary in which each term is looked up once (absent ones too).

    The entries of common terms (in COMMON_SHARE of the documents or more) are kept by the
    reader, as their posting readers keep their decoded blocks (`_LeafMatcher`): the same
    common words are looked up by query after query (a hash, two reads and a decode each).
    Whoosh only reads an entry (`W3TermInfo`); one of postings stored outside it is never
    changed, so it is shared as it is.
    """

    def __init__(self, terms, doccount: int) -> None:  # noqa: ANN001 - whoosh's W3TermsReader
        self._terms = terms
        self._entries: dict[tuple[str, bytes], object] = {}
        self._common = max(1, int(COMMON_SHARE * doccount))

    def __getattr__(self, name: str):  # noqa: ANN204 - everything else as it was
        return getattr(self._terms, name)

    def __contains__(self, term) -> bool:  # noqa: ANN001
        # `Term.matcher` asks this before every posting reader: answered from the entry.
        fieldname, tbytes = term
        return self.entry(fieldname, tbytes) is not None

    def term_info(self, fieldname: str, tbytes: bytes):  # noqa: ANN201
        info = self.entry(fieldname, tbytes)
        if info is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return info

    def entry(self, fieldname: str, tbytes: bytes):  # noqa: ANN201
        """The term's entry (`W3TermInfo`), or None when the dictionary lacks it."""
        key = (fieldname, tbytes)
        try:
            return self._entries[key]
        except KeyError:
            terms = self._terms
            table = getattr(terms, "_tindex", None)
            if table is None:
                try:
                    info = terms.term_info(fieldname, tbytes)
                except TermNotFound:
                    info = None
            else:
                kept = _kept(terms, "_kb_common_entries", MAX_COMMON_ENTRIES, renew=False)
                info = kept.get(key)
                if info is None:
                    others = _kept(terms, "_kb_other_entries", MAX_OTHER_ENTRIES, renew=True)
                    info = others.get(key)
                    if info is None:
                        value = _entry(table, terms._keycoder(fieldname, tbytes))  # noqa: SLF001
                        info = None if value is None else W3TermInfo.from_bytes(value)
                        if (
                            info is not None
                            and info.doc_frequency() >= self._common
                            and not info.is_inlined()
                        ):
                            if kept.room():
                                kept[key] = info
                        elif others.room():
                            others[key] = _ABSENT if info is None else info
                    elif info is _ABSENT:
                        info = None
            self._entries[key] = info
        return info

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        try:
            return self.term_info(fieldname, tbytes).doc_frequency()
        except TermNotFound:
            raise KeyError(tbytes) from None  # what the reader turns into 0

    def matcher(self, fieldname: str, tbytes: bytes, format_, scorer=None):  # noqa: ANN001, ANN201
        terms = self._terms
        info = self.term_info(fieldname, tbytes)
        if info.is_inlined():
            # A short list kept in the entry itself: Whoosh's list matcher, as it does.
            return terms._codec.postings_reader(  # noqa: SLF001 - as W3TermsReader.matcher
                terms._postfile,  # noqa: SLF001
                info,
                format_,
                term=(fieldname, tbytes),
                scorer=scorer,
            )
        offset, length = info.extent()
        decoded, headers = self.stores(info)
        return _LeafMatcher(
            terms._postfile,  # noqa: SLF001
            offset,
            length,
            format_,
            term=(fieldname, tbytes),
            scorer=scorer,
            decoded=decoded,
            headers=headers,
        )

    def stores(self, info) -> tuple[_Kept, _Kept]:  # noqa: ANN001 - a W3TermInfo
        """Where the posting reader of a term keeps its decoded blocks and block headers:
        the common terms' stores, or the rarer terms' (`_Kept`)."""
        terms = self._terms
        if info.doc_frequency() >= self._common:
            return (
                _kept(
                    terms,
                    "_kb_decoded",
                    MAX_COMMON_BLOCKS,
                    renew=False,
                    max_bytes=MAX_COMMON_BLOCK_BYTES,
                ),
                _kept(terms, "_kb_headers", MAX_COMMON_BLOCKS, renew=False),
            )
        return (
            _kept(
                terms,
                "_kb_other_decoded",
                MAX_OTHER_BLOCKS,
                renew=True,
                max_bytes=MAX_OTHER_BLOCK_BYTES,
            ),
            _kept(terms, "_kb_other_headers", MAX_OTHER_BLOCKS, renew=True),
        )


class _LeafMatcher(W3LeafMatcher):
    """Whoosh's on-disk posting reader, reading a block at once and skipping by bisection.

    - `W3LeafMatcher._goto` unpickles a block's header straight from the compound file, and
      the unpickler reads it a few bytes at a time (about 25 seeks and reads per block at
      10 000 documents: 148 000 reads for the 153 benchmark queries); the block's data is then
      read again. Here a block is read in one piece and both are parsed from memory.
    - A block's ids are stored as deltas; they are summed in C.
    - `W3LeafMatcher.skip_to` steps through a block's ids one `next()` at a time to reach a
      target (three method calls per posting); an AND of common words at 10 000 documents
      spent a fifth of the search there. The ids of a block are sorted, so bisection lands on
      the same posting.
    """

    _block_data = b""
    _pickled = b""  # a block whose values are not loaded yet (`_read_data`)
    # The reader's decoded blocks of common terms, by where their data starts in the postings
    # file; None for any other term.
    _decoded: dict[int, tuple[array, array]] | None = None
    # And their blocks' headers, by where the block starts (`_goto`); None for other terms.
    _headers: dict[int, tuple] | None = None
    _window = b""
    _window_start = 0

    def __init__(self, *args, decoded=None, headers=None, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        # The reader's kept blocks and headers are known before the first block is read.
        self._decoded = decoded
        self._headers = headers
        super().__init__(*args, **kwargs)

    def _read_header(self) -> None:
        # As W3LeafMatcher._read_header, from the first window of the postings.
        self._read = _positional_reader(self._postfile)
        # whoosh-reloaded 2.7.5 decodes a term's postings length as a 1-tuple
        # (`W3TermInfo.from_bytes`): either shape is accepted.
        length = self._length
        self._end = self._startoffset + (length[0] if isinstance(length, tuple) else length)
        magic = self._bytes(self._startoffset, len(WHOOSH3_HEADER_MAGIC))
        if magic != WHOOSH3_HEADER_MAGIC:
            raise Exception(f"Block tag error {magic!r}")  # noqa: TRY002 - as Whoosh raises
        self._baseoffset = self._startoffset + len(WHOOSH3_HEADER_MAGIC)

    def _bytes(self, position: int, length: int) -> bytes:
        """`length` bytes of the postings file at `position`, from the window read last when
        it holds them, else from a new window (up to _POSTINGS_WINDOW bytes of this term's
        postings, never fewer than asked for)."""
        start = position - self._window_start
        window = self._window
        if start >= 0 and start + length <= len(window):
            return window[start : start + length]
        ahead = min(_POSTINGS_WINDOW, self._end - position)
        window = self._window = self._read(position, max(length, ahead))
        self._window_start = position
        return window[:length]

    def _goto(self, position: int) -> None:
        # As W3LeafMatcher._goto, with the same fields set from one read of the block; for a
        # common term, from the header kept when the block was first read (the walk of an
        # AND passes over most blocks of its common terms on their headers alone: 28 block
        # headers read a page, 16 of other terms, over 200 new queries at 10 011 documents).
        # Its data is then read only when asked for (`_read_data`), and where its ids and
        # weights are kept (`_read_ids`), never.
        self._data = None
        self._pickled = b""
        self._ids = None
        self._weights = None
        self._values = None
        self._i = 0
        headers = self._headers
        if headers is not None:
            kept = headers.get(position)
            if kept is not None:
                (
                    last,
                    self._nextoffset,
                    self._dataoffset,
                    self._blocklength,
                    self._maxid,
                    self._maxweight,
                    self._compression,
                    self._minlength,
                    self._maxlength,
                ) = kept
                if last:
                    self._lastblock = True
                self._block_data = None
                return
        length = unpack_int(self._bytes(position, _INT_SIZE))[0]
        last = length < 0
        if last:
            self._lastblock = True
            length = -length
        self._nextoffset = position + _INT_SIZE + length
        data = self._bytes(position + _INT_SIZE, length)
        # `pickle.loads` stops at the summary's STOP and ignores the data after it, but does
        # not tell where that was; the summary's pattern does. A file object for
        # `pickle.load` and `tell` cost twice as much (2.2 against 1.1 us a block header, 22
        # such headers a search page at 10 011 documents). Any other layout: as Whoosh reads it.
        summary = _SUMMARY.match(data)
        if summary is None:
            block = io.BytesIO(data)
            info = pickle.load(block)
            size = block.tell()
        else:
            info = pickle.loads(data)
            size = summary.end()
        self._dataoffset = position + _INT_SIZE + size
        self._block_data = data[size:]
        (
            self._blocklength,
            self._maxid,
            self._maxweight,
            self._compression,
            mnlen,
            mxlen,
        ) = info
        self._minlength = byte_to_length(mnlen)
        self._maxlength = byte_to_length(mxlen)
        if headers is not None and headers.room():
            headers[position] = (
                last,
                self._nextoffset,
                self._dataoffset,
                *info[:4],
                self._minlength,
                self._maxlength,
            )

    def _read_data(self) -> None:
        # The block's (ids, weights) without its values, which only phrases read: in the
        # fields with positions each value is a `bytes`, which pickle protocol 2 writes as a
        # call of `_codecs.encode` (about 2 us a posting to load, 0.2-0.4 ms a block).
        data = self._block_data
        if data is None:  # a kept header (`_goto`): the data is read now
            data = self._bytes(self._dataoffset, self._nextoffset - self._dataoffset)
        if self._compression:
            data = zlib.decompress(data)
        if self._fixedsize is None:
            # The positions of kb/search/codec.py's blocks start at its mark, the last item
            # of the tuple: cut there, the tuple ends with None.
            cut = data.find(VALUES_MARK)
            if cut >= 0:
                self._pickled = data
                self._data = pickle.loads(data[:cut] + _NO_VALUES)
                return
        cut = data.find(_BYTES_VALUE) if self._fixedsize is None else -1
        if cut < 0 or data.find(_OTHER_GLOBAL, 0, cut) >= 0:
            self._data = pickle.loads(data)
            return
        # The values are a tuple of one `bytes` per posting, the first of them written at
        # `cut`; a tuple of more than three items opens with a mark.
        if self._blocklength > 3:  # noqa: PLR2004 - pickle's TUPLE1-3 take no mark
            cut -= 1
        self._pickled = data
        self._data = pickle.loads(data[:cut] + _NO_VALUES)

    def _read_values(self) -> None:
        if self._data is None:
            self._read_data()
        if self._pickled:
            self._data = pickle.loads(self._pickled)
            self._pickled = b""
        super()._read_values()

    def _read_ids(self) -> None:
        # As W3LeafMatcher._read_ids, the deltas summed in C (`accumulate`) rather than by
        # Whoosh's generator (`delta_decode`, one Python step per posting): the same ids.
        decoded = self._decoded
        if decoded is not None and self._data is None:
            block = decoded.get(self._dataoffset)
            if block is not None:
                self._ids, self._weights = block
                return
        if self._data is None:
            self._read_data()
        ids = self._data[0]  # deltas, or a long block's ids as they are (kb/search/codec.py)
        if self._byteids:
            self._ids = ids
            return
        self._ids = ids.ids if type(ids) is Ids else tuple(accumulate(ids))
        if decoded is None:
            return
        if self._weights is None:
            self._read_weights()
        # Kept compact (4 + 4 bytes a posting: the weights are float32 on disk); they read
        # back as the same numbers.
        weights = self._weights
        if type(weights) is not array or weights.typecode != "f":
            weights = array("f", weights)
        if not decoded.room(_BLOCK_BYTES + 8 * len(weights)):  # at most 4 + 4 bytes a posting
            return
        ids = self._ids
        block = (ids if type(ids) is array else array("I", ids), weights)
        decoded[self._dataoffset] = block
        self._ids, self._weights = block

    def _read_weights(self) -> None:
        # As W3LeafMatcher._read_weights, a block's equal weights repeated in C (Whoosh fills
        # the array from a generator, a Python step per posting).
        decoded = self._decoded
        if decoded is not None and self._data is None and self._dataoffset in decoded:
            self._read_ids()
            return
        if self._data is None:
            self._read_data()
        weights = self._data[1]
        if weights is None:
            weights = 1.0
        if isinstance(weights, float):
            self._weights = array("f", (weights,)) * self._blocklength
        else:
            self._weights = weights

    def skip_to(self, targetid: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        if targetid > self._maxid:
            self._skip_to_block(lambda: targetid > self._maxid)
            if not self.is_active():
                return
        if self._ids is None:
            self._read_ids()
        # The block's largest id is >= targetid, so the position is inside the block.
        self._i = bisect_left(self._ids, targetid, self._i, self._blocklength)


def doc_frequencies(reader, fieldname: str, texts: list[str]) -> dict[str, int]:  # noqa: ANN001
    """`{text: reader.doc_frequency(fieldname, text)}`, the same numbers (and the same errors).

    Query shaping asks this for each of a query's words in each field (kb/search/query.py),
    most of them absent from the short fields; through Whoosh's reader each is three layers
    of calls and, when absent, two exceptions raised and caught (`TermNotFound`, then
    `KeyError`). Under `one_query` the term dictionary answers directly; on any other reader
    Whoosh's own path is taken.
    """
    terms = getattr(reader, "_terms", None)
    if type(terms) is not _TermsOnce or fieldname not in reader.schema:
        return {text: reader.doc_frequency(fieldname, text) for text in texts}
    field = reader.schema[fieldname]
    if reader.is_closed:
        raise ReaderClosed
    if field.format is None:  # as `_test_field`: not indexed
        raise TermNotFound(f"Field {fieldname!r} is not indexed")
    frequencies = {}
    for text in texts:
        info = terms.entry(fieldname, field.to_bytes(text))
        frequencies[text] = 0 if info is None else info.doc_frequency()
    return frequencies


def documents_with(searcher, fieldname: str, text: str) -> list[int]:  # noqa: ANN001
    """The document numbers holding `text` in `fieldname`, as `searcher.document_numbers`
    finds them, from one look-up of the term's entry and its postings (Whoosh's own path
    looks the term up five times and builds a scorer: 0.5 ms a call at 10 000 documents)."""
    reader = searcher.reader()
    terms = getattr(reader, "_terms", None)  # a single segment's term dictionary, else None
    terms = getattr(terms, "_terms", terms)  # under one_query(): the dictionary it wraps
    table = getattr(terms, "_tindex", None)
    if table is None or not searcher.is_atomic() or reader.has_deletions():
        return list(searcher.document_numbers(**{fieldname: text}))
    tbytes = reader.schema[fieldname].to_bytes(text)
    value = _entry(table, terms._keycoder(fieldname, tbytes))  # noqa: SLF001
    if value is None:
        return []
    info = W3TermInfo.from_bytes(value)
    if info.is_inlined():
        return list(info.inlined_postings()[0])
    offset, length = info.extent()
    postings = _LeafMatcher(
        terms._postfile,  # noqa: SLF001
        offset,
        length,
        reader.schema[fieldname].format,
        term=(fieldname, tbytes),
    )
    return list(postings.all_ids())


@contextlib.contextmanager
def one_query(searcher) -> Iterator[None]:  # noqa: ANN001
    """Within this block, each term's entry is read once from the searcher's term dictionary.

    A searcher belongs to one thread (kb/search/caches.py), so the swap is seen by nobody else.
    """
    reader = searcher.reader()
    terms = getattr(reader, "_terms", None)
    if terms is None or isinstance(terms, _TermsOnce) or not hasattr(terms, "_codec"):
        yield
        return
    reader._terms = _TermsOnce(terms, reader.doc_count_all())  # noqa: SLF001
    try:
        yield
    finally:
        reader._terms = terms  # noqa: SLF001


def lengths_in_memory(searcher) -> None:  # noqa: ANN001
    """Read the scored fields' length columns into memory, once per reader."""
    reader = searcher.reader()
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or getattr(perdoc, "_kb_lengths_in_memory", False):
        return
    with _loading:
        if getattr(perdoc, "_kb_lengths_in_memory", False):
            return
        doccount = perdoc._doccount  # noqa: SLF001
        for fieldname in SCORED_FIELDS:
            lenfield = _lenfield(fieldname)
            column = perdoc._cached_reader(lenfield, LENGTHS_COLUMN)  # noqa: SLF001
            if not isinstance(column, NumericColumn.Reader) or column._fixedlen != 1:  # noqa: SLF001
                continue
            # One byte per document; documents past the column's end have the default, 0.
            stored = column._dbfile.get(column._basepos, column._count)  # noqa: SLF001
            # doc_field_length() accepts docnum == doccount: one spare byte.
            lengths = stored + bytes(doccount + 1 - len(stored))
            perdoc._readers[lenfield] = lengths  # noqa: SLF001
        perdoc._kb_lengths_in_memory = True  # noqa: SLF001


def length_norms(perdoc, fieldname: str, avgfl: float, B: float, K1: float) -> list | None:  # noqa: ANN001, N803 - BM25's own names
    """Per document, the part of BM25F that depends on its field length and not on the term:
    `K1 * ((1 - B) + B * fl / avgfl)` (`whoosh/scoring.py`, `bm25`), the same float, computed
    once per reader instead of for every posting scored; None where the field is empty.

    A field's length is one byte per document (`lengths_in_memory`), so there are at most 255
    distinct values, each computed once and shared by the documents of that length. Where
    the byte is 0, Whoosh's scorer asks `doc_field_length`, which then returns None (no
    length recorded) and `bm25` raises TypeError on it; None here raises it too. A posting
    always has a length, so that never happens on an index Whoosh wrote.

    None when the field's lengths are not in memory (any other kind of reader).
    """
    lengths = getattr(perdoc, "_readers", {}).get(_lenfield(fieldname))
    if not isinstance(lengths, bytes):
        return None
    cache = perdoc.__dict__.setdefault("_kb_norms", {})
    key = (fieldname, avgfl, B, K1)
    norms = cache.get(key)
    if norms is None:
        by_byte = [None] + [K1 * ((1 - B) + B * byte_to_length(b) / avgfl) for b in range(1, 256)]
        norms = cache[key] = list(map(by_byte.__getitem__, lengths))
    return norms


def stored_fields(searcher, docnum: int) -> dict:  # noqa: ANN001
    """`searcher.stored_fields(docnum)`, the document's bytes read by position.

    Whoosh reaches a document's stored fields through its column readers and three file
    layers (a seek, then a read through the compound file's buffered reader); here they are
    one `os.pread`, then decompressed and unpickled as Whoosh does, and kept to the schema's
    fields as Whoosh keeps them. Measured over the 1 046 hits shown for the 153 benchmark
    queries (10 000 documents, taking turns): 177 us against 145 us a read. Any other kind
    of reader or column keeps Whoosh's path.
    """
    reader = searcher.reader()
    perdoc = getattr(reader, "_perdoc", None)
    column = None
    if perdoc is not None and searcher.is_atomic():
        column = perdoc._cached_reader("_stored", STORED_COLUMN)  # noqa: SLF001
    read = getattr(column, "_kb_read", None)
    if read is None:
        read = _stored_reader(column)
    if read is None:
        return searcher.stored_fields(docnum)
    if reader.is_closed:
        raise ReaderClosed
    assert docnum >= 0  # noqa: S101 - as Whoosh's reader asserts
    pickled = read(docnum)
    if not pickled:
        return {}
    schema = reader.schema
    return {name: value for name, value in pickle.loads(pickled).items() if name in schema}


def _stored_reader(column):  # noqa: ANN001, ANN202
    """For Whoosh's stored column (pickles in a compressed byte column), a function giving a
    document's pickle as that column gives it; None for any other column."""
    if type(column) is not PickleColumn.Reader:
        return None
    inner = column._child  # noqa: SLF001
    if type(inner) is not CompressedBytesColumn.Reader:
        return None
    get = _positional_reader(inner._dbfile)  # noqa: SLF001
    if get == inner._dbfile.get:  # noqa: SLF001 - not a file read by position
        return None
    offsets, lengths, base = inner._offsets, inner._lengths, inner._basepos  # noqa: SLF001
    decompress = inner._decompress  # noqa: SLF001

    def read(docnum: int) -> bytes:
        length = lengths[docnum]
        if not length:
            return b""
        return decompress(get(base + offsets[docnum], length))

    column._kb_read = read  # noqa: SLF001
    return read


def holds_all(searcher, fieldname: str, words) -> bool | None:  # noqa: ANN001
    """Whether some document holds every one of `words` in `fieldname`, from their posting
    lists' ids alone (rarest first, stopping at an empty intersection); None when this
    cannot be told here (no per-query term dictionary, a word absent, deletions), where
    Whoosh's own matcher decides as cheaply.

    A phrase needs all its words in one document: where none holds them all, Whoosh's
    phrase matcher still builds a matcher and scorer per word and walks their postings to
    find no common document (0.7-1.6 ms of the slowest benchmark queries, whose phrases of
    seven words in the symptom and title fields matched nothing).
    """
    reader = searcher.reader()
    terms = getattr(reader, "_terms", None)
    if not isinstance(terms, _TermsOnce) or not searcher.is_atomic() or reader.has_deletions():
        return None
    field = reader.schema[fieldname]
    found = []
    for word in words:
        try:
            tbytes = field.to_bytes(word)
            info = terms.term_info(fieldname, tbytes)
        except (ValueError, TermNotFound):
            return None
        found.append((info.doc_frequency(), tbytes, info))
    common: set[int] | None = None
    for _, tbytes, info in sorted(found, key=lambda item: item[0]):
        ids = _term_ids(terms, (fieldname, tbytes), info, field.format)
        common = set(ids) if common is None else common.intersection(ids)
        if not common:
            return False
    return True


def _term_ids(terms, term: tuple[str, bytes], info, format_) -> list[int]:  # noqa: ANN001
    """Every document number in a term's postings, block by block (ids only)."""
    if info.is_inlined():
        return list(info.inlined_postings()[0])
    offset, length = info.extent()
    decoded, headers = terms.stores(info)
    postings = _LeafMatcher(
        terms._terms._postfile,  # noqa: SLF001
        offset,
        length,
        format_,
        term=term,
        decoded=decoded,
        headers=headers,
    )
    ids: list[int] = []
    while postings.is_active():
        postings._read_ids()  # noqa: SLF001
        ids.extend(postings._ids[postings._i : postings._blocklength])  # noqa: SLF001
        postings._i = postings._blocklength - 1  # noqa: SLF001
        postings.next()  # on to the next block, or past the last
    return ids
