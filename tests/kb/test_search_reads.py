"""How the engine reads the index (kb/search/reading.py): the same bytes and postings as
Whoosh's own file layer, on a real index in a temporary folder."""

from __future__ import annotations

import pytest

from kb.search import caches, rebuild_index

WORDS = ["wolf", "yak", "lynx", "puma", "otter", "heron", "bison", "moose", "crane", "eel"]


def _corpus(count: int) -> None:
    from kb.models import Article

    Article.objects.bulk_create(
        Article(
            slug=f"doc-{i}",
            title=f"Doc {i} {WORDS[i % 10]}",
            lang="en",
            markdown="",
            html=(
                f"<p>kubernetes pod {WORDS[i % 10]} {WORDS[(i * 7) % 10]} doc {i}"
                + " restarts" * (i % 5)
                + "</p>"
            ),
        )
        for i in range(count)
    )


def _postings(matcher) -> list[tuple[int, float]]:  # noqa: ANN001
    found = []
    while matcher.is_active():
        found.append((matcher.id(), matcher.weight()))
        matcher.next()
    return found


@pytest.mark.django_db
def test_it_reads_the_bytes_whoosh_reads_at_any_position() -> None:
    from kb.search.reading import _positional_reader

    _corpus(300)
    rebuild_index()
    reader = caches.searchers.get().reader()
    files = [reader._terms._tindex.dbfile, reader._terms._postfile]  # noqa: SLF001
    for structfile in files:
        get = _positional_reader(structfile)
        assert get is not structfile.get  # a sub-file of the segment: read by position
        size = structfile.file._length  # noqa: SLF001
        for position, length in [(0, 1), (0, 64), (size // 2, 300), (size - 10, 10),
                                 (size - 10, 100), (size, 5), (size + 3, 5), (7, 0)]:  # fmt: skip
            assert get(position, length) == structfile.get(position, length), (position, length)


@pytest.mark.django_db
@pytest.mark.parametrize("window", [4, 9, 700, 16384])
def test_it_walks_and_skips_postings_as_whoosh_whatever_the_window(
    window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whoosh.codec.whoosh3 import W3LeafMatcher

    from kb.search import reading

    monkeypatch.setattr(reading, "_POSTINGS_WINDOW", window)
    _corpus(600)
    rebuild_index()
    searcher = caches.searchers.get()
    reader = searcher.reader()
    assert reader.doc_frequency("body_text", "kubernetes") > 4 * 128  # several blocks
    for word in ("kubernetes", "restarts", "wolf", "doc"):
        whoosh = reader.postings("body_text", word)
        assert type(whoosh) is W3LeafMatcher
        expected = _postings(whoosh)
        with reading.one_query(searcher):
            ours = reader.postings("body_text", word)
        assert type(ours) is reading._LeafMatcher  # noqa: SLF001
        assert _postings(ours) == expected, word
        ids = [docnum for docnum, _ in expected]
        for target in (1, 128, 129, 400, ids[-1], ids[-1] + 1):
            a = reader.postings("body_text", word)
            with reading.one_query(searcher):
                b = reader.postings("body_text", word)
            a.skip_to(target)
            b.skip_to(target)
            assert a.is_active() == b.is_active(), (word, target)
            if a.is_active():
                assert (a.id(), a.weight()) == (b.id(), b.weight()), (word, target)
                b.next()
                a.next()
                assert _postings(b) == _postings(a), (word, target)


@pytest.mark.django_db
def test_it_refuses_to_read_a_closed_index() -> None:
    from kb.search.reading import _positional_reader

    _corpus(20)
    rebuild_index()
    searcher = caches.searchers.get()
    get = _positional_reader(searcher.reader()._terms._postfile)  # noqa: SLF001
    assert get(0, 4)
    caches.searchers.forget()  # closes the searcher and its files
    with pytest.raises(ValueError, match="closed"):
        get(0, 4)


@pytest.mark.django_db
def test_an_and_of_equally_common_terms_scores_as_whoosh_builds_it() -> None:
    """The AND is walked without Whoosh's matcher tree, but its scores are summed in the
    tree's order: with equal document frequencies Whoosh's weighted tree is a chain, not a
    balanced tree, and float sums in another order differ in their last bits."""
    from whoosh.query import And, Term
    from whoosh.query.compound import PreloadedOr

    from kb.models import Article
    from kb.search.lookup import top_hits
    from kb.search.reading import lengths_in_memory, one_query
    from kb.search.union import SparseArrayUnionMatcher, SparseUnionOr, _LeanAnd

    Article.objects.bulk_create(
        Article(
            slug=f"mix-{i}",
            title=f"Mix {i}",
            lang="en",
            markdown="",
            html=(
                "<p>"
                + " alpha" * (1 + i % 3)
                + " beta" * (1 + i % 5)
                + " gamma" * (1 + i % 7)
                + " delta" * (1 + i % 2)
                + " filler" * (i % 23)
                + (" zeta" if i % 4 == 0 else "")
                + "</p>"
            ),
        )
        for i in range(300)
    )
    rebuild_index()
    searcher = caches.searchers.get()
    reader = searcher.reader()
    words = ["alpha", "beta", "gamma", "delta"]
    assert len({reader.doc_frequency("body_text", w) for w in words}) == 1  # equal weights
    clauses = [
        Term("body_text", "zeta"),
        And([Term("body_text", w) for w in words], boost=1.5),
        And([Term("body_text", w) for w in reversed(words)]),
    ]
    query = SparseUnionOr(clauses)
    lengths_in_memory(searcher)  # as top_hits reads them: the terms' postings are bulk-scored
    with one_query(searcher):
        matcher = query.top_matcher(searcher, searcher.context())
    assert isinstance(matcher, SparseArrayUnionMatcher)
    assert sum(type(m) is _LeanAnd for m in matcher._submatchers) == 2  # noqa: SLF001
    ours = [(h.docnum, h.score) for h in top_hits(searcher, query, limit=300)]
    whoosh = [(h.docnum, h.score) for h in searcher.search(PreloadedOr(clauses), limit=300)]
    assert len(ours) == 300
    assert ours == whoosh


@pytest.mark.django_db
def test_an_and_led_by_a_rare_term_finds_whoosh_documents_across_blocks() -> None:
    """The AND reads its rarest term's postings and looks for those documents in the other
    terms' blocks, passing over blocks that hold none of them: the same documents and
    scores as Whoosh's intersection, including documents at the edges of blocks."""
    from whoosh.query import And, Term
    from whoosh.query.compound import PreloadedOr

    from kb.models import Article
    from kb.search.lookup import top_hits
    from kb.search.union import SparseUnionOr

    rare = {0, 3, 127, 128, 130, 255, 256, 400, 511, 598, 599}
    rarer = {127, 130, 256, 598}
    Article.objects.bulk_create(
        Article(
            slug=f"edge-{i}",
            title=f"Edge {i:04d}",  # the rebuild reads articles by title: docnum i
            lang="en",
            markdown="",
            html=(
                "<p>"
                + " kubernetes" * (1 + i % 4)
                + (" rareword" * (1 + i % 2) if i in rare else "")
                + (" otherrare" if i in rarer else "")
                + " filler" * (i % 11)
                + "</p>"
            ),
        )
        for i in range(600)
    )
    rebuild_index()
    searcher = caches.searchers.get()
    # Every document holds "kubernetes": its blocks end at 127, 255, 383, 511, where some
    # of the rare documents are.
    postings = searcher.reader().postings("body_text", "kubernetes")
    assert postings.block_max_id() == 127
    postings.skip_to(128)
    assert postings.block_max_id() == 255
    for clauses in (
        [And([Term("body_text", "rareword"), Term("body_text", "kubernetes")])],
        [
            Term("body_text", "filler"),
            And(
                [Term("body_text", w) for w in ("kubernetes", "otherrare", "rareword")],
                boost=2.0,
            ),
        ],
        [
            Term("body_text", "otherrare"),
            And([Term("body_text", "rareword"), Term("body_text", "filler")]),
        ],
        [
            Term("body_text", "filler"),
            And([Term("body_text", "otherrare"), Term("body_text", "kubernetes")]),
        ],
    ):
        query = (
            SparseUnionOr(clauses)
            if len(clauses) > 1
            else SparseUnionOr([*clauses, Term("body_text", "none")])
        )
        ours = [(h.docnum, h.score) for h in top_hits(searcher, query, limit=600)]
        whoosh = [
            (h.docnum, h.score) for h in searcher.search(PreloadedOr(query.subqueries), limit=600)
        ]
        assert ours == whoosh, clauses
        assert ours
