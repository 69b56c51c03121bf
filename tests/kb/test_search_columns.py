"""The union's scores computed with less work (kb/search/union.py, kb/search/reading.py), on a
real index in a temporary folder, against Whoosh's own matchers to the last bit:

- BM25F's length part read from a table per reader (`length_norms`);
- an AND's documents scored a column (a term) at a time, then summed in Whoosh's tree;
- the top N taken from scores compared alone first, then (score, docnum) pairs;
- the union built for the top N alone, which never asks a clause for its first document.
"""

from __future__ import annotations

import pytest
from whoosh.query import And, Term
from whoosh.query.compound import PreloadedOr

from kb.search import caches, rebuild_index

WORDS = ["alpha", "beta", "gamma", "delta"]


def _articles(count: int, html) -> None:  # noqa: ANN001
    from kb.models import Article

    Article.objects.bulk_create(
        Article(
            slug=f"doc-{i}",
            title=f"Doc {i:04d}",  # the rebuild reads articles by title: docnum i
            lang="en",
            markdown="",
            html=html(i),
        )
        for i in range(count)
    )


def _top(searcher, clauses: list, limit: int) -> tuple[list, list]:  # noqa: ANN001
    from kb.search.lookup import top_hits
    from kb.search.union import SparseUnionOr

    ours = [(h.docnum, h.score) for h in top_hits(searcher, SparseUnionOr(clauses), limit=limit)]
    whoosh = [(h.docnum, h.score) for h in searcher.search(PreloadedOr(clauses), limit=limit)]
    return ours, whoosh


@pytest.mark.django_db
def test_it_reads_bm25_length_part_that_whoosh_computes_for_every_document() -> None:
    from whoosh.scoring import BM25FScorer

    from kb.search.reading import length_norms, lengths_in_memory

    # Field lengths from 1 to 200 words: many distinct length bytes, and lengths past 100
    # that the one-byte encoding rounds.
    _articles(200, lambda i: "<p>" + " word" * (1 + i) + (" rare" if i % 9 == 0 else "") + "</p>")
    rebuild_index()
    searcher = caches.searchers.get()
    reader = searcher.reader()
    lengths_in_memory(searcher)
    scorer = searcher.weighting.scorer(searcher, "body_text", "word")
    assert type(scorer) is BM25FScorer
    B, K1, avgfl = scorer.B, scorer.K1, scorer.avgfl  # noqa: N806 - BM25's own names
    norms = length_norms(reader._perdoc, "body_text", avgfl, B, K1)  # noqa: SLF001
    for docnum in range(reader.doc_count_all()):
        fl = reader.doc_field_length(docnum, "body_text")
        assert norms[docnum] == K1 * ((1 - B) + B * fl / avgfl), docnum
    # Every score through the table is the scorer's own.
    ours, whoosh = _top(searcher, [Term("body_text", "word"), Term("body_text", "rare")], 200)
    assert len(ours) == 200
    assert ours == whoosh


@pytest.mark.django_db
def test_an_and_scored_column_by_column_gives_whoosh_scores() -> None:
    """Four terms of unequal weights in unequal field lengths, boosted and not: each
    document's sum is added in the tree's order (a column sum in another order, or the
    boosts multiplied together first, differs from Whoosh in the last bits)."""
    _articles(
        400,
        lambda i: (
            "<p>"
            + " alpha" * (1 + i % 3)
            + (" beta" * (1 + i % 5) if i % 2 else "")
            + (" gamma" * (1 + i % 7) if i % 3 else "")
            + " delta" * (1 + i % 2)
            + " filler" * (i % 31)
            + (" zeta" if i % 4 == 0 else "")
            + "</p>"
        ),
    )
    rebuild_index()
    searcher = caches.searchers.get()
    clauses = [
        Term("body_text", "zeta"),
        And([Term("body_text", w) for w in WORDS], boost=1.5),
        And([Term("body_text", w) for w in ("gamma", "alpha")]),
        And([Term("body_text", w) for w in ("delta", "beta", "zeta")], boost=0.7),
    ]
    for limit in (1, 7, 30, 400):
        ours, whoosh = _top(searcher, clauses, limit)
        assert ours == whoosh, limit
    assert len(ours) == 300  # every document holding zeta or all the terms of an AND


@pytest.mark.django_db
def test_the_top_keeps_whoosh_order_when_scores_tie_at_the_cut() -> None:
    """Groups of documents with the same text score the same: the cut at N falls inside a
    group, where the lower document numbers are kept, as Whoosh's collector keeps them."""
    _articles(120, lambda i: "<p>" + " kubernetes" * (1 + i % 4) + " pod" * (1 + i % 3) + "</p>")
    rebuild_index()
    searcher = caches.searchers.get()
    clauses = [Term("body_text", "kubernetes"), Term("body_text", "pod")]
    for limit in range(1, 121):
        ours, whoosh = _top(searcher, clauses, limit)
        assert ours == whoosh, limit
    # Ties at the cut: the last document kept scores as the first one left out.
    ours, _ = _top(searcher, clauses, 11)
    full, _ = _top(searcher, clauses, 120)
    assert ours[-1][1] == full[11][1]


@pytest.mark.django_db
def test_an_and_whose_first_blocks_hold_no_common_document_is_scored_as_whoosh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The union for the top N never asks a clause for its first document: the common term's
    first blocks, which hold none of the rare term's documents, are passed over on their
    headers and never decoded, and the scores are still Whoosh's."""
    from kb.search import reading
    from kb.search.reading import lengths_in_memory, one_query
    from kb.search.union import SparseUnionOr

    rare = {300, 301, 450, 599}
    _articles(
        600,
        lambda i: (
            "<p>"
            + " kubernetes" * (1 + i % 4)
            + (" rareword" if i in rare else "")
            + " filler" * (i % 13)
            + "</p>"
        ),
    )
    rebuild_index()
    searcher = caches.searchers.get()
    first_block = searcher.reader().postings("body_text", "kubernetes")._dataoffset  # noqa: SLF001
    clauses = [
        Term("body_text", "filler"),
        And([Term("body_text", "kubernetes"), Term("body_text", "rareword")]),
    ]
    decoded = []
    read_data = reading._LeafMatcher._read_data  # noqa: SLF001

    def recording(self) -> None:  # noqa: ANN001
        decoded.append((self._term[1], self._dataoffset))  # noqa: SLF001
        read_data(self)

    monkeypatch.setattr(reading._LeafMatcher, "_read_data", recording)  # noqa: SLF001
    lengths_in_memory(searcher)
    with one_query(searcher):
        matcher = SparseUnionOr(clauses).top_matcher(searcher, searcher.context())
        assert len(matcher.top(600)) > 0
    common = [offset for term, offset in decoded if term == b"kubernetes"]
    assert common  # the blocks holding the rare documents were read
    assert first_block not in common  # documents 0-127: passed over on the header
    ours, whoosh = _top(searcher, clauses, 600)
    assert ours == whoosh
    assert {docnum for docnum, _ in ours} >= rare
