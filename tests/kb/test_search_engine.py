"""The engine's own parts (kb/search/union.py, kb/search/reading.py) against Whoosh's, on a real
index in a temporary folder: the same documents, in the same order, with the same float scores.

The corpus is large enough that common words have posting lists of several on-disk blocks
(Whoosh writes 128 postings per block), so block reads, skips and the bulk scoring of a term's
postings are all exercised.
"""

from __future__ import annotations

import pytest
from whoosh.query import And, Phrase, Term
from whoosh.query.compound import PreloadedOr

from kb.search import build_query, caches, prepare_query, rebuild_index

ANIMALS = ["wolf", "yak", "lynx", "puma", "otter", "heron", "bison", "moose", "crane", "eel"]
DOCS = 420


def _corpus(count: int = DOCS) -> None:
    from kb.models import Article

    Article.objects.bulk_create(
        Article(
            slug=f"note-{i}",
            title=f"Note {i} " + ANIMALS[i % 10] + (" alpha" if i % 7 == 0 else ""),
            lang="en",
            markdown="",
            symptoms=[f"pod restarts {ANIMALS[(i * 3) % 10]}"] if i % 5 == 0 else [],
            html=(
                f"<h2 id='symptoms'>Symptoms</h2><p>kubernetes pod restarts {ANIMALS[i % 10]} "
                f"{ANIMALS[(i * 3) % 10]} note {i}"
                + (" kubernetes" * (i % 4))
                + "</p>"
                + (f"<p>{' filler' * (i % 50)}</p>" if i % 3 else "")
                + "<p>ノードの設定が反映されない</p>"
            ),
        )
        for i in range(count)
    )


def _hand_built() -> list[list]:
    """Clauses as the shaping builds them, and more: long lists, an AND, a phrase, a boost."""
    return [
        [Term("body_text", "kubernetes"), Term("body_text", "wolf"), Term("title_text", "alpha")],
        [Term("body_text", "pod"), Term("body_text", "restarts"), Term("body_text", "filler")],
        [
            Term("body_text", "yak"),
            And([Term("body_text", "kubernetes"), Term("body_text", "pod")], boost=1.5),
            Phrase("symptom_text", ["pod", "restarts"], boost=4.0),
            Term("body_text", "moose", boost=2.0),
            Term("body_text", "no-such-word"),
        ],
        [Term("body_text", "設定"), Term("ja_text", "設定"), Term("body_text", "note")],
    ]


def _scored(searcher, query) -> list[tuple[int, float]]:  # noqa: ANN001
    return [(hit.docnum, hit.score) for hit in searcher.search(query, limit=None)]


@pytest.mark.django_db
def test_bulk_scored_terms_give_whoosh_array_union_scores() -> None:
    from kb.search.lookup import top_hits
    from kb.search.reading import lengths_in_memory, one_query
    from kb.search.union import SparseArrayUnionMatcher, SparseUnionOr, _and_plan, _term_plan

    _corpus()
    rebuild_index()
    searcher = caches.searchers.get()
    reader = searcher.reader()
    assert reader.doc_frequency("body_text", "kubernetes") > 3 * 128  # several blocks
    lengths_in_memory(searcher)
    shaped = [
        build_query(prepare_query(text), reader)
        for text in ("alpha wolf yak lynx puma", "kubernetes pod restarts moose", "ノードの設定")
    ]
    queries = [SparseUnionOr(clauses) for clauses in _hand_built()] + shaped
    bulk = ands = 0
    for query in queries:
        with one_query(searcher):
            ours = _scored(searcher, query)
            matcher = query.matcher(searcher)
        whoosh = _scored(searcher, PreloadedOr(query.subqueries))
        assert ours == whoosh, query
        assert ours
        # The top N taken from the OR's scores: Whoosh's collector keeps the same, ties to
        # the lower docnum.
        for limit in (1, 3, 10, 30):
            top = [(h.docnum, h.score) for h in top_hits(searcher, query, limit=limit)]
            expected = [
                (h.docnum, h.score)
                for h in searcher.search(PreloadedOr(query.subqueries), limit=limit)
            ]
            assert top == expected, (query, limit)
        # The bulk path was taken for the bare terms (else this test would compare Whoosh
        # with itself).
        if len(query.subqueries) > 1:
            assert isinstance(matcher, SparseArrayUnionMatcher)
        perdoc = reader._perdoc  # noqa: SLF001
        with one_query(searcher):
            fresh = [sub.matcher(searcher) for sub in query.subqueries]
        bulk += any(_term_plan(m, perdoc) is not None for m in fresh)
        ands += any(_and_plan(m, perdoc) is not None for m in fresh)
    assert bulk >= len(_hand_built())
    assert ands >= 2


def _walk(matcher) -> list[tuple[int, float]]:  # noqa: ANN001
    postings = []
    while matcher.is_active():
        postings.append((matcher.id(), matcher.weight()))
        matcher.next()
    return postings


@pytest.mark.django_db
def test_block_reads_and_skips_land_on_whoosh_postings() -> None:
    from whoosh.codec.whoosh3 import W3LeafMatcher

    from kb.search.reading import _LeafMatcher, one_query

    _corpus()
    rebuild_index()
    searcher = caches.searchers.get()
    reader = searcher.reader()
    for field, word in (("body_text", "kubernetes"), ("body_text", "filler"), ("body_text", "pod")):
        whoosh = reader.postings(field, word)
        assert type(whoosh) is W3LeafMatcher
        expected = _walk(whoosh)
        with one_query(searcher):
            ours = reader.postings(field, word)
        assert type(ours) is _LeafMatcher
        assert _walk(ours) == expected, word
        assert len(expected) > 128
        ids = [docnum for docnum, _ in expected]
        for target in (0, 1, 127, 128, 129, 200, 300, ids[-1], ids[-1] + 1):
            a = reader.postings(field, word)
            with one_query(searcher):
                b = reader.postings(field, word)
            a.skip_to(target)
            b.skip_to(target)
            assert a.is_active() == b.is_active(), (word, target)
            if a.is_active():
                assert (a.id(), a.weight(), a.block_max_weight()) == (
                    b.id(),
                    b.weight(),
                    b.block_max_weight(),
                ), (word, target)


@pytest.mark.django_db
def test_the_first_articles_keep_every_version_of_them_and_no_other() -> None:
    from kb.models import Article
    from kb.search.lookup import RELATIVE_CUTOFF, _first_articles, top_hits
    from kb.search.reading import one_query

    originals = []
    for i in range(40):
        originals.append(
            Article.objects.create(
                slug=f"art-{i}",
                title=f"Pod {ANIMALS[i % 10]}",
                lang="en",
                markdown="",
                html=f"<p>kubernetes pod {ANIMALS[i % 10]} {ANIMALS[(i * 7) % 10]} {i}</p>",
            )
        )
    for original in originals[::2]:
        for lang in ("ja", "zh"):
            Article.objects.create(
                slug=original.slug,
                title=f"{original.title} {lang}",
                lang=lang,
                translation_of=original,
                markdown="",
                html=f"<p>kubernetes pod {original.title.split()[1]} 設定 {lang}</p>",
            )
    rebuild_index()
    searcher = caches.searchers.get()
    checked = 0
    for text in ("kubernetes pod wolf", "yak lynx", "pod 設定", "moose eel crane"):
        with one_query(searcher):
            query = build_query(prepare_query(text), searcher.reader())
            found = top_hits(searcher, query, limit=30)
        top = found[0].score
        ranked = [(hit.docnum, hit.score) for hit in found if hit.score >= RELATIVE_CUTOFF * top]
        every = [(d, searcher.stored_fields(d), score) for d, score in ranked]
        for limit in (1, 2, 3, 5, 10):
            slugs: list[str] = []
            for _, fields, _ in every:
                if fields["slug"] not in slugs:
                    slugs.append(fields["slug"])
            first = set(slugs[:limit])
            expected = [(d, f, score) for d, f, score in every if f["slug"] in first]
            assert _first_articles(searcher, ranked, limit=limit) == expected, (text, limit)
            checked += len(expected) > len(first)  # some article had several versions
    assert checked


@pytest.mark.django_db
def test_term_entries_and_slug_postings_read_as_whoosh_reads_them() -> None:
    from kb.models import Article
    from kb.search.reading import _entry, documents_with

    _corpus(200)
    for i in range(0, 200, 3):
        original = Article.objects.get(slug=f"note-{i}", lang="en")
        Article.objects.create(
            slug=original.slug,
            title="ノート",
            lang="ja",
            translation_of=original,
            markdown="",
            html="<p>設定</p>",
        )
    rebuild_index()
    searcher = caches.searchers.get()
    reader = searcher.reader()
    terms = reader._terms  # noqa: SLF001
    table = terms._tindex  # noqa: SLF001
    checked = 0
    for fieldname, tbytes in reader.all_terms():
        key = terms._keycoder(fieldname, tbytes)  # noqa: SLF001
        assert _entry(table, key) == table[key], (fieldname, tbytes)
        assert _entry(table, key + b"-absent") is None
        checked += 1
    assert checked > 500
    assert _entry(table, terms._keycoder("body_text", b"no-such-term")) is None  # noqa: SLF001
    several = 0
    for i in range(200):
        slug = f"note-{i}"
        expected = list(searcher.document_numbers(slug=slug))
        assert documents_with(searcher, "slug", slug) == expected, slug
        several += len(expected) > 1
    assert several > 50
    assert documents_with(searcher, "slug", "no-such-slug") == []
