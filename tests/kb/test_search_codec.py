"""Posting blocks as kb/search/codec.py stores them (no zlib, long lists as arrays, positions
after a mark): each block reads back as written, by Whoosh's own reader and by ours, and an
index written with `BlockCodec` answers as one written by Whoosh's default codec (ids,
weights, positions, scores), on small indexes in temporary folders."""

from __future__ import annotations

import pickle
from array import array
from itertools import accumulate

import pytest
from whoosh.codec import default_codec
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.qparser import QueryParser
from whoosh.query import And, Or, Phrase, Term
from whoosh_reference import walk

from kb.search import reading
from kb.search.codec import (
    ARRAY_MIN,
    VALUES_MARK,
    BlockCodec,
    Ids,
    block_data,
    block_summary,
)

_NO_VALUES = b"N\x87."  # None, TUPLE3, STOP: a block's tuple cut before its positions


def _decode(data: bytes) -> tuple[list[int], list[float], object]:
    """A block's ids, weights and values as Whoosh's reader makes them of the pickle."""
    steps, weights, values = pickle.loads(data)  # noqa: S301 - our own bytes
    ids = list(accumulate(steps))
    if weights is None:
        weights = [1.0] * len(ids)
    elif isinstance(weights, float):
        weights = [weights] * len(ids)
    return ids, list(weights), values


def _float32(numbers: list[float]) -> array:
    return array("f", numbers)


@pytest.mark.parametrize(
    ("ids", "weights"),
    [
        ([0], [1.0]),  # one posting, weight 1: stored as None
        ([7], [0.0]),  # a zero weight
        ([3, 9], [2.5, 2.5]),  # equal weights: one float
        (list(range(ARRAY_MIN - 1)), [float(i % 3) for i in range(ARRAY_MIN - 1)]),  # tuples
        (list(range(0, 128 * 3, 3)), [1.0 + i for i in range(128)]),  # a full block: arrays
        ([10, 300, 70_000, 2**32 - 2], [1e30, 0.5, 0.0, 3.0]),  # large ids, a large weight
        (list(range(2**32 - 129, 2**32 - 1)), [float(i % 7) for i in range(128)]),
        (list(range(50_000, 50_000 + 128 * 600, 600)), [1.0] * 128),  # deltas of 2 bytes
    ],
)
def test_a_block_reads_back_as_written(ids: list[int], weights: list[float]) -> None:
    stored = _float32(weights)
    data = block_data(ids, stored, None)
    assert not data.startswith(b"x\x9c")  # not zlib
    assert _decode(data) == (ids, list(stored), None)
    steps = pickle.loads(data)[0]  # noqa: S301
    assert (type(steps) is Ids) == (len(ids) >= ARRAY_MIN)


def test_a_ids_past_32_bits_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bits"):
        block_data(list(range(2**32, 2**32 + ARRAY_MIN)), _float32([2.0] * ARRAY_MIN), None)


@pytest.mark.parametrize("count", [1, 3, ARRAY_MIN, 128])
def test_positions_come_after_the_mark_and_can_be_cut_off(count: int) -> None:
    ids = list(range(5, 5 + 2 * count, 2))
    weights = _float32([float(1 + i % 4) for i in range(count)])
    positions = tuple(bytes([i % 256, 1, 2]) * (1 + i % 3) for i in range(count))
    data = block_data(ids, weights, positions)
    assert _decode(data) == (ids, list(weights), positions)
    cut = data.find(VALUES_MARK)
    assert cut > 0
    assert _decode(data[:cut] + _NO_VALUES) == (ids, list(weights), None)


def test_arrays_holding_the_mark_give_way_to_tuples() -> None:
    """Weights whose float32 bytes spell the mark: the mark must still lead to the values."""
    spelled = list(array("f", VALUES_MARK))
    weights = _float32([*spelled, *([0.25] * (ARRAY_MIN - len(spelled)))])
    ids = list(range(ARRAY_MIN))
    positions = tuple(b"\x01" for _ in ids)
    data = block_data(ids, weights, positions)
    cut = data.find(VALUES_MARK)
    assert _decode(data) == (ids, list(weights), positions)
    assert _decode(data[:cut] + _NO_VALUES) == (ids, list(weights), None)


def test_a_summary_says_no_compression() -> None:
    assert pickle.loads(block_summary(3, 99, 2.5, 4, 9))[3] == 0  # noqa: S301


def test_kept_stores_are_bounded_by_bytes_too() -> None:
    keeping = reading._Kept(10, renew=False, max_bytes=100)  # noqa: SLF001
    assert keeping.room(60)
    keeping[1] = 1
    assert not keeping.room(60)  # 120 bytes: keeps what it holds
    assert keeping.room(40)
    renewing = reading._Kept(10, renew=True, max_bytes=100)  # noqa: SLF001
    assert renewing.room(60)
    renewing[1] = 1
    assert renewing.room(60)  # full by bytes: starts again empty
    assert renewing == {}
    assert renewing.used == 60  # noqa: PLR2004


# --- whole indexes: BlockCodec against Whoosh's default codec -----------------------------

DOCS = 700


def _schema() -> Schema:
    return Schema(
        slug=ID(stored=True, unique=True),
        title=TEXT(phrase=True),  # positions
        body=TEXT(phrase=False),  # frequencies only
    )


def _index(folder, codec):  # noqa: ANN001, ANN202
    folder.mkdir()
    ix = FileStorage(str(folder), supports_mmap=False).create_index(_schema())
    writer = ix.writer(codec=codec)
    for i in range(DOCS):
        title = f"doc{i % 9} volume mount" + (" fails again" if i % 5 == 0 else "")
        title += " rare" if i in (3, 650) else ""
        body = " ".join(
            ["kubernetes"] * (1 + i % 4)
            + ["volume"] * (i % 3)
            + (["sidecar"] * (1 + i % 6) if i % 13 == 0 else [])
            + ["lonely"] * (i == 699)
        )
        writer.add_document(slug=f"d{i}", title=title, body=body)
    writer.commit()
    return ix


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):  # noqa: ANN001, ANN201
    root = tmp_path_factory.mktemp("codec")
    return _index(root / "whoosh", default_codec()), _index(root / "ours", BlockCodec())


TERMS = [
    ("title", "volume"),
    ("title", "fails"),
    ("title", "rare"),
    ("title", "doc4"),
    ("body", "kubernetes"),
    ("body", "volume"),
    ("body", "sidecar"),
    ("body", "lonely"),
]


def test_every_posting_reads_as_with_whoosh_default_codec(indexes) -> None:  # noqa: ANN001
    whoosh, ours = indexes
    with whoosh.reader() as expected_reader, ours.reader() as reader:
        assert type(reader._segment.codec()) is BlockCodec  # noqa: SLF001 - kept in the TOC
        for field, word in TERMS:
            expected = walk(expected_reader.postings(field, word))
            assert expected, (field, word)
            # Whoosh's own reader on our blocks
            plain = reader.postings(field, word)
            assert type(plain) is W3LeafMatcher
            assert walk(plain) == expected, (field, word)
            # ours, ids and weights first (positions cut off), then positions
            terms = reader._terms  # noqa: SLF001
            info = terms.term_info(field, word.encode())
            offset, length = info.extent()
            decoded = reading._Kept(100, renew=False, max_bytes=1 << 20)  # noqa: SLF001
            mine = reading._LeafMatcher(  # noqa: SLF001
                terms._postfile,  # noqa: SLF001
                offset,
                length,
                reader.schema[field].format,
                term=(field, word.encode()),
                decoded=decoded,
            )
            mine._read_ids()  # noqa: SLF001
            mine._read_weights()  # noqa: SLF001
            if field == "title":
                assert mine._pickled  # noqa: SLF001 - positions not loaded yet
            assert walk(mine) == expected, (field, word)
            assert decoded  # kept, as float32: the same numbers


def test_searches_score_as_with_whoosh_default_codec(indexes) -> None:  # noqa: ANN001
    whoosh, ours = indexes
    queries = [
        Term("body", "kubernetes"),
        Or([Term("body", "sidecar"), Term("title", "fails"), Term("body", "volume")]),
        And([Term("body", "kubernetes"), Term("body", "sidecar")]),
        Phrase("title", ["volume", "mount", "fails"]),
        QueryParser("title", _schema()).parse('"mount fails" OR rare OR doc4'),
    ]
    with whoosh.searcher() as expected_searcher, ours.searcher() as searcher:
        for query in queries:
            expected = [(h.docnum, h.score) for h in expected_searcher.search(query, limit=None)]
            assert expected, query
            found = [(h.docnum, h.score) for h in searcher.search(query, limit=None)]
            assert found == expected, query
            with reading.one_query(searcher):
                found = [(h.docnum, h.score) for h in searcher.search(query, limit=None)]
            assert found == expected, query


def test_the_index_is_smaller_uncompressed_than_twice_whoosh(indexes) -> None:  # noqa: ANN001
    """Not a limit of the design, a guard against a block format gone wrong."""
    whoosh, ours = indexes

    def size(ix) -> int:  # noqa: ANN001
        storage = ix.storage
        return sum(storage.file_length(name) for name in storage.list())

    assert size(ours) < 2 * size(whoosh)
