"""Decoded posting blocks of common terms, kept by the reader (kb/search/reading.py
`_LeafMatcher`, COMMON_SHARE): read back, they are Whoosh's ids and weights, block by block;
a phrase over a kept block still gets its positions; the scores of a search that reads them
from the cache are Whoosh's; and rare terms are never kept. Real index, temporary folder."""

from __future__ import annotations

import pytest
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query import And, Phrase, Term
from whoosh_reference import top_against_whoosh, whoosh_blocks

from kb.search import caches, rebuild_index

DOCS = 500


def _corpus() -> None:
    from kb.models import Article

    Article.objects.bulk_create(
        Article(
            slug=f"doc-{i}",
            title=f"Doc {i:04d} pod restarts" + (" often" if i % 3 == 0 else ""),
            lang="en",
            markdown="",
            symptoms=[f"pod restarts after {'oom' if i % 2 else 'probe'} kill"],
            html=(
                "<p>"
                + " kubernetes" * (1 + i % 5)
                + " pod" * (1 + i % 3)
                + (" rareword" if i % 97 == 0 else "")
                + " filler" * (i % 17)
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


def _common_and_rare() -> list:
    """A rare word, a common one, and an AND of two common ones: every kind of kept block."""
    return [
        Term("body_text", "rareword"),
        Term("body_text", "filler"),
        And([Term("body_text", "kubernetes"), Term("body_text", "pod")], boost=1.5),
    ]


def _top(searcher, clauses: list, limit: int = DOCS) -> tuple[list, list]:  # noqa: ANN001
    return top_against_whoosh(searcher, clauses, limit)


def test_kept_blocks_are_whoosh_blocks_and_score_as_whoosh(searcher) -> None:  # noqa: ANN001
    reader = searcher.reader()
    clauses = _common_and_rare()
    first = _top(searcher, clauses)
    decoded = reader._terms.__dict__["_kb_decoded"]  # noqa: SLF001
    kept = dict(decoded)
    expected = {}
    for word in ("kubernetes", "pod", "filler"):
        expected.update(whoosh_blocks(reader, "body_text", word))
    assert len(expected) >= 9  # several blocks per common term
    assert set(kept) == set(expected)  # every block of the common terms, no other
    for offset, (ids, weights) in kept.items():
        assert (list(ids), list(weights)) == expected[offset], offset
    # The same search again reads every block from the cache: the same scores, Whoosh's.
    second = _top(searcher, clauses)
    assert first[0] == first[1]
    assert second[0] == second[1] == first[0]
    assert len(first[0]) > 300
    rare = whoosh_blocks(reader, "body_text", "rareword")
    assert not set(rare) & set(decoded)  # six documents: never kept


def test_a_phrase_over_kept_blocks_still_reads_their_positions(searcher) -> None:  # noqa: ANN001
    reader = searcher.reader()
    # A search over the common symptom words keeps their blocks...
    warm = [Term("symptom_text", "pod"), Term("symptom_text", "restarts")]
    assert _top(searcher, warm)[0]
    kept = set(reader._terms.__dict__["_kb_decoded"])  # noqa: SLF001
    assert kept & set(whoosh_blocks(reader, "symptom_text", "restarts"))
    # ...and a phrase then needs their positions, which the cache does not hold.
    for clauses in (
        [Phrase("symptom_text", ["restarts", "after", "oom"], boost=4.0), Term("body_text", "pod")],
        [Phrase("title_text", ["pod", "restarts", "often"]), Term("symptom_text", "kill")],
    ):
        ours, whoosh = _top(searcher, clauses)
        assert ours == whoosh, clauses
        assert len(ours) > 100


def _fields(info) -> tuple:  # noqa: ANN001 - a W3TermInfo
    return (
        info.doc_frequency(),
        info.weight(),
        info.extent(),
        info.max_weight(),
        info.min_length(),
        info.max_length(),
        info.min_id(),
        info.max_id(),
    )


def test_kept_entries_are_whoosh_entries_of_common_terms_only(searcher) -> None:  # noqa: ANN001
    from kb.search.reading import one_query

    reader = searcher.reader()
    clauses = [
        Term("body_text", "rareword"),
        Term("body_text", "filler"),
        And([Term("body_text", "kubernetes"), Term("body_text", "pod")]),
        Term("title_text", "often"),
    ]
    first = _top(searcher, clauses)
    kept = dict(reader._terms.__dict__["_kb_common_entries"])  # noqa: SLF001
    assert set(kept) == {
        ("body_text", b"filler"),
        ("body_text", b"kubernetes"),
        ("body_text", b"pod"),
        ("title_text", b"often"),
    }
    for (fieldname, tbytes), info in kept.items():
        whoosh = reader._terms.term_info(fieldname, tbytes)  # noqa: SLF001 - outside one_query
        assert _fields(info) == _fields(whoosh)
        assert info.doc_frequency() == reader.doc_frequency(fieldname, tbytes.decode())
    with one_query(searcher):
        # A query reads them from the reader, not from the file: the same frequencies.
        assert reader.doc_frequency("body_text", "pod") == DOCS
        assert reader.doc_frequency("body_text", "rareword") == 6  # noqa: PLR2004
    second = _top(searcher, clauses)
    assert first[0] == first[1] == second[0] == second[1]


def _whoosh_headers(reader, fieldname: str, text: str) -> dict[int, tuple]:  # noqa: ANN001
    """{block position: the block's header fields} as Whoosh's own posting reader reads them."""
    terms = reader._terms  # noqa: SLF001 - Whoosh's dictionary (outside one_query)
    offset, length = terms.term_info(fieldname, text.encode()).extent()
    postings = W3LeafMatcher(terms._postfile, offset, length, reader.schema[fieldname].format)  # noqa: SLF001
    headers, position = {}, postings._baseoffset  # noqa: SLF001
    while True:
        headers[position] = (
            postings._lastblock,  # noqa: SLF001
            postings._nextoffset,  # noqa: SLF001
            postings._dataoffset,  # noqa: SLF001
            postings._blocklength,  # noqa: SLF001
            postings._maxid,  # noqa: SLF001
            postings._maxweight,  # noqa: SLF001
            postings._compression,  # noqa: SLF001
            postings._minlength,  # noqa: SLF001
            postings._maxlength,  # noqa: SLF001
        )
        if postings._lastblock:  # noqa: SLF001
            return headers
        position = postings._nextoffset  # noqa: SLF001
        postings._next_block()  # noqa: SLF001


def test_kept_block_headers_are_whoosh_headers_of_common_terms_only(searcher) -> None:  # noqa: ANN001
    reader = searcher.reader()
    clauses = _common_and_rare()
    first = _top(searcher, clauses)
    kept = dict(reader._terms.__dict__["_kb_headers"])  # noqa: SLF001
    expected = {}
    for word in ("kubernetes", "pod", "filler"):
        expected.update(_whoosh_headers(reader, "body_text", word))
    assert set(kept) == set(expected)
    assert kept == expected
    assert any(header[0] for header in kept.values())  # the last blocks, marked so
    assert not set(_whoosh_headers(reader, "body_text", "rareword")) & set(kept)
    # Read again from the kept headers: the same answer, Whoosh's.
    assert _top(searcher, clauses) == first
    assert first[0] == first[1]
