"""The rarer terms' kept stores (kb/search/reading.py `_Kept`): decoded posting blocks, block
headers and term entries (absent terms too) of terms below COMMON_SHARE, kept by the reader
in stores that start again empty when full. Read back, they are Whoosh's blocks, headers and
entries; a search that reads them scores as Whoosh does; a full store makes room. Also the
top N's plain additions (an OR of boost 1 at document 0) against Whoosh's collector, and
the AND's walk over kept blocks searched as lists. Real index, temporary folder."""

from __future__ import annotations

from array import array

import pytest
from whoosh.query import And, Term
from whoosh.query.compound import PreloadedOr
from whoosh_reference import top_against_whoosh, whoosh_blocks

from kb.search import caches, rebuild_index
from kb.search.reading import _Kept

DOCS = 400


def _corpus() -> None:
    from kb.models import Article

    Article.objects.bulk_create(
        Article(
            slug=f"doc-{i}",
            title=f"Doc {i:04d} volume mount" + (" fails" if i % 7 == 0 else ""),
            lang="en",
            markdown="",
            symptoms=[f"mount {'denied' if i % 2 else 'timeout'} on node"],
            html=(
                "<p>"
                + " kubernetes" * (1 + i % 5)
                + " volume" * (1 + i % 3)
                # rarer words (below 40 documents): in 1 of 13 (31), 1 of 29 (14), 1 of 17 (24)
                + (" sidecar" * (1 + i % 4) if i % 13 == 0 else "")
                + (" finalizer" if i % 29 == 0 else "")
                + (" tolerations" * (1 + i % 2) if i % 17 == 0 else "")
                + " filler" * (i % 11)
                + "</p>"
            ),
        )
        for i in range(DOCS)
    )


@pytest.fixture
def searcher(db):  # noqa: ANN001, ANN201, ARG001 - the corpus needs the database
    """A real index of the corpus in the test's temporary folder, and its searcher."""
    _corpus()
    rebuild_index()
    return caches.searchers.get()


def _top(searcher, clauses: list, limit: int = DOCS) -> tuple[list, list]:  # noqa: ANN001
    return top_against_whoosh(searcher, clauses, limit)


RARER = ("sidecar", "finalizer", "tolerations")


def _clauses() -> list:
    return [
        Term("body_text", "sidecar"),
        Term("body_text", "finalizer"),
        Term("title_text", "fails"),
        Term("body_text", "nosuchword"),
        And([Term("body_text", "tolerations"), Term("body_text", "volume")], boost=1.5),
        And([Term("body_text", "kubernetes"), Term("body_text", "filler")]),
    ]


def test_rarer_terms_blocks_are_kept_as_whoosh_decodes_them(searcher) -> None:  # noqa: ANN001
    reader = searcher.reader()
    first = _top(searcher, _clauses())
    assert first[0] == first[1]
    assert len(first[0]) > 300  # noqa: PLR2004
    stored = reader._terms.__dict__  # noqa: SLF001
    kept = dict(stored["_kb_other_decoded"])
    expected = {}
    for word in RARER:
        expected.update(whoosh_blocks(reader, "body_text", word))
    assert set(expected) <= set(kept)
    for offset, (ids, weights) in expected.items():
        kept_ids, kept_weights = kept[offset]
        assert type(kept_ids) is array
        assert type(kept_weights) is array
        assert (list(kept_ids), list(kept_weights)) == (ids, weights), offset
    # Common terms stay in their own stores, the rarer ones never go there.
    assert not set(expected) & set(stored["_kb_decoded"])
    assert set(whoosh_blocks(reader, "body_text", "kubernetes")) <= set(stored["_kb_decoded"])
    # Read again from the stores: the same scores, Whoosh's.
    second = _top(searcher, _clauses())
    assert second == first


def test_rarer_and_absent_entries_are_kept_and_read_back(searcher) -> None:  # noqa: ANN001
    from kb.search.reading import one_query

    reader = searcher.reader()
    first = _top(searcher, _clauses())
    entries = dict(reader._terms.__dict__["_kb_other_entries"])  # noqa: SLF001
    assert entries[("body_text", b"nosuchword")] is False  # absent: kept as absent
    for word in RARER:
        info = entries[("body_text", word.encode())]
        whoosh = reader._terms.term_info("body_text", word.encode())  # noqa: SLF001
        assert info.doc_frequency() == whoosh.doc_frequency() > 0
        assert info.extent() == whoosh.extent()
        assert info.max_weight() == whoosh.max_weight()
    common = reader._terms.__dict__["_kb_common_entries"]  # noqa: SLF001
    assert ("body_text", b"kubernetes") in common
    assert not {("body_text", w.encode()) for w in RARER} & set(common)
    with one_query(searcher):
        # Answered from the stores: the same frequencies as Whoosh's, 0 for the absent word.
        assert reader.doc_frequency("body_text", "nosuchword") == 0
        assert reader.doc_frequency("body_text", "finalizer") == 14  # noqa: PLR2004
        assert reader.doc_frequency("body_text", "sidecar") == 31  # noqa: PLR2004
    assert _top(searcher, _clauses()) == first


def test_a_full_store_renews_or_keeps() -> None:
    renewing = _Kept(2, renew=True)
    for key in (1, 2):
        assert renewing.room()
        renewing[key] = key
    assert renewing.room()  # full: starts again empty
    assert renewing == {}
    keeping = _Kept(2, renew=False)
    for key in (1, 2):
        assert keeping.room()
        keeping[key] = key
    assert not keeping.room()  # full: keeps what it holds
    assert keeping == {1: 1, 2: 2}


def test_small_stores_renewing_still_score_as_whoosh(searcher, monkeypatch) -> None:  # noqa: ANN001
    """Stores of two items, emptied again and again during one search: the same scores."""
    from kb.search import reading

    monkeypatch.setattr(reading, "MAX_OTHER_BLOCKS", 2)
    monkeypatch.setattr(reading, "MAX_OTHER_ENTRIES", 2)
    reader = searcher.reader()
    ours, whoosh = _top(searcher, _clauses())
    assert ours == whoosh
    assert len(reader._terms.__dict__["_kb_other_decoded"]) <= 2  # noqa: PLR2004, SLF001
    assert len(reader._terms.__dict__["_kb_other_entries"]) <= 2  # noqa: PLR2004, SLF001
    assert _top(searcher, _clauses()) == (ours, whoosh)


def test_boosted_or_and_limits_score_as_whoosh(searcher) -> None:  # noqa: ANN001
    """The top N adds scores without the OR's boost when it is 1; a boosted OR and short
    limits (ties broken by document number) still give Whoosh's list."""
    from kb.search.lookup import top_hits
    from kb.search.union import SparseUnionOr

    clauses = _clauses()
    for limit in (1, 10, 30, DOCS):
        ours, whoosh = _top(searcher, clauses, limit)
        assert ours == whoosh, limit
    boosted = SparseUnionOr(clauses, boost=2.5)
    ours = [(h.docnum, h.score) for h in top_hits(searcher, boosted, limit=50)]
    found = searcher.search(PreloadedOr(clauses, boost=2.5), limit=50)
    whoosh = [(h.docnum, h.score) for h in found]
    assert ours == whoosh
    assert len(ours) == 50  # noqa: PLR2004
