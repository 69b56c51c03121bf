"""How a posting block is stored: Whoosh's layout, without zlib, long lists as raw arrays.

Whoosh 3 (`whoosh/codec/whoosh3.py`, `W3PostingsWriter._write_block`) stores a block of up to
128 postings as a pickled summary (count, last id, highest weight, compression, shortest and
longest field length) and the pickled tuple (id deltas, weights, values), compressed by
zlib. Decoding such a block of 128 postings cost about 150 k instructions on a search page
(callgrind, 10 011 documents, bench/RESULTS.md "Stop 29"): zlib 46-60 k, unpickling 37 k,
the running sum of the deltas 35 k, copying into arrays 47 k; 20.71 M a page in all.

Here the block keeps Whoosh's layout and the same tuple, so Whoosh's own reader (and every
test that compares ours with it) reads it unchanged, with three differences:

- no zlib (the summary says compression 0, which Whoosh's reader honours);
- the tuple is pickled with protocol 3, where a `bytes` value (a posting's positions) is one
  opcode and its bytes, not a call of `_codecs.encode` on a `str` as protocol 2 writes it;
- a tuple of positions is written as a call of `values` (which returns the tuple), so the
  point where they start is the text of that call (VALUES_MARK): a reader after ids and
  weights only (every term a query scores; only phrases read positions) cuts the pickle
  there and never loads them (kb/search/reading.py `_read_data`). The writer makes sure
  the mark cannot be found earlier in the block;
- in a block of ARRAY_MIN postings or more, the ids and the weights are `array`s (the ids
  themselves, not deltas, in the smallest of 1, 2 or 4 bytes that holds them, wrapped in
  `Ids`, which Whoosh's reader iterates as deltas; the weights as float32, which they
  already are in Whoosh's writer). Protocol 3 pickles an array as its machine bytes,
  so unpickling copies them in one piece instead of parsing an opcode per number. Shorter
  blocks (most terms are in a document or a few) keep tuples: an array's pickle costs
  about 60 bytes of names and type codes.

Whoosh's reader decodes the block to the same ids and weights: it sums deltas of any
iterable, and takes a weights sequence as it is (its own writer's weights are float32, so
a float32 array holds the same numbers). The bulk writer (kb/search/bulk.py) and Whoosh's
writer (through `BlockCodec`, kb/search/index.py) both write blocks with `block_data`.
"""

from __future__ import annotations

import pickle
from array import array
from collections.abc import Iterator, Sequence

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3PostingsWriter
from whoosh.system import pack_int
from whoosh.util.numeric import length_to_byte

# The pickle protocol of a block's data: the first with `bytes` as a type of its own.
PROTOCOL = 3
# Postings in a block from which its deltas and weights are stored as arrays.
ARRAY_MIN = 16
# The text of a call of `values` in a pickle of protocol 3 (GLOBAL: module, name).
VALUES_MARK = b"ckb.search.codec\nvalues\n"
# The largest number each array type code holds, smallest first (unsigned 1, 2, 4 bytes).
_ID_CODES = (("B", 0xFF), ("H", 0xFFFF), ("I", 0xFFFFFFFF))


def deltas(ids: Sequence[int]) -> list[int]:
    """Each id minus the one before it (the first minus 0), as Whoosh stores ids."""
    previous = 0
    result = []
    for docnum in ids:
        result.append(docnum - previous)
        previous = docnum
    return result


def _id_array(numbers: list[int]) -> array:
    largest = max(numbers)
    for code, top in _ID_CODES:
        if largest <= top:
            return array(code, numbers)
    raise ValueError(f"a document number past 32 bits: {largest}")


class Ids:
    """A long block's document numbers, stored as they are (an array). Iterated, it gives
    the deltas Whoosh's reader sums (`delta_decode`); our reader takes `ids` as they are,
    with no running sum (39 k instructions a block of 128, callgrind)."""

    __slots__ = ("ids",)

    def __init__(self, ids: array) -> None:
        self.ids = ids

    def __iter__(self) -> Iterator[int]:
        return iter(deltas(self.ids))

    def __reduce__(self) -> tuple:
        return (Ids, (self.ids,))


def values(*parts: bytes) -> tuple[bytes, ...]:
    """The postings' values (positions) of a block, as its pickle gives them back."""
    return parts


class _Values(tuple):
    """A tuple of positions, pickled as a call of `values` (module docstring)."""

    __slots__ = ()

    def __reduce__(self) -> tuple:
        return (values, tuple(self))


def block_data(ids: Sequence[int], weights: array, positions: object) -> bytes:
    """The stored data of one block: the pickle of (id deltas, weights, values).

    `ids` are the block's document numbers (increasing), `weights` their weights as float32
    (`array("f")`), `positions` the values as Whoosh's writer reduces them (`_mini_values`:
    a tuple of `bytes`, joined bytes, or None). The weights are None when all are 1.0 and one float
    when all are equal, as Whoosh writes them.
    """
    first = weights[0]
    if all(weight == 1.0 for weight in weights):
        stored: object = None
    elif all(weight == first for weight in weights):
        stored = first
    elif len(weights) >= ARRAY_MIN:
        stored = array("f", weights)
    else:
        stored = tuple(weights)
    steps: object = Ids(_id_array(list(ids))) if len(ids) >= ARRAY_MIN else tuple(deltas(ids))
    if not isinstance(positions, tuple) or not positions:
        return pickle.dumps((steps, stored, positions), PROTOCOL)
    if type(steps) is Ids or type(stored) is array:
        # An array's bytes are any bytes: where they hold the mark, tuples (whose opcodes
        # and short payloads cannot spell it) keep it to the values.
        head = pickle.dumps((steps, stored), PROTOCOL)
        if VALUES_MARK in head:
            steps = tuple(deltas(ids))
            stored = tuple(stored) if type(stored) is array else stored
    return pickle.dumps((steps, stored, _Values(positions)), PROTOCOL)


def block_summary(
    count: int, maxid: int, maxweight: float, minlength: int | None, maxlength: int
) -> bytes:
    """A block's pickled summary, as Whoosh writes it, with compression 0."""
    return pickle.dumps(
        (count, maxid, maxweight, 0, length_to_byte(minlength), length_to_byte(maxlength)), 2
    )


def block_bytes(summary: bytes, data: bytes, *, last: bool) -> bytes:
    """A whole block: its length (negative for a term's last block), summary and data."""
    size = len(summary) + len(data)
    return pack_int(-size if last else size) + summary + data


class BlockCodec(W3Codec):
    """Whoosh's codec, writing posting blocks with `block_data` and without zlib.

    The segment keeps its codec (Whoosh pickles it into the table of contents), so an index
    written with this one is read with it; reading is Whoosh's (`W3LeafMatcher`), which
    takes these blocks as they are.
    """

    def __init__(self, blocklimit: int = 128, inlinelimit: int = 1) -> None:
        super().__init__(blocklimit=blocklimit, compression=0, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids: bool = False) -> W3PostingsWriter:  # noqa: ANN001, FBT001, FBT002 - Whoosh's signature
        return BlockPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=0,
            inlinelimit=self._inlinelimit,
        )


class BlockPostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer, each block written by `block_data` (term vectors, whose ids
    are bytes, as Whoosh writes them)."""

    def _write_block(self, last: bool = False) -> None:  # noqa: FBT001, FBT002 - Whoosh's signature
        if self._byteids:
            super()._write_block(last)
            return
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        ids = self._ids
        data = block_data(ids, self._weights, self._mini_values())
        summary = block_summary(
            len(ids), ids[-1], self._maxweight, self._minlength, self._maxlength
        )
        self._postfile.write(block_bytes(summary, data, last=last))
        self._blockcount += 1
        self._new_block()
