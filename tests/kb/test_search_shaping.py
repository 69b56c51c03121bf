"""Query shaping against a real Whoosh index: the shape of the query object, the cap on long
queries, and answers equal to an exhaustive scoring of every document."""

from __future__ import annotations

import re

import pytest
from whoosh.query import Or

from kb.search import build_query, caches, prepare_query, rebuild_index, search_articles


def _generated(count: int) -> None:
    """Articles sharing common words, each with a few rarer ones (some in Japanese)."""
    from kb.models import Article

    animals = ["wolf", "yak", "lynx", "puma", "otter", "heron", "bison", "moose"]
    Article.objects.bulk_create(
        Article(
            slug=f"note-{i}",
            title=f"Note {i}" + (" alpha" if i % 9 == 0 else ""),
            lang="en",
            markdown="",
            html=(
                f"<h2 id='symptoms'>Symptoms</h2><p>kubernetes pod restarts {animals[i % 8]} "
                f"{animals[(i * 3) % 8]} note {i}</p><p>ノードの設定が反映されない</p>"
            ),
        )
        for i in range(count)
    )


def _flat(query) -> bool:  # noqa: ANN001
    return isinstance(query, Or) and not any(isinstance(q, Or) for q in query.subqueries)


@pytest.mark.django_db
def test_the_query_is_one_flat_or() -> None:
    # Whoosh's array union matcher reports the largest of its children's best scores as its
    # own best score, not their sum: nested under a binary union, it was cut off as unable to
    # reach the top N, and documents matching several words of it were lost.
    _generated(60)
    rebuild_index()
    reader = caches.searchers.get().reader()
    for text in ("alpha wolf yak lynx puma", "kubernetes pod 設定が反映されない", "页"):
        query = build_query(prepare_query(text), reader)
        assert _flat(query), query
    assert _flat(build_query("wolf yak lynx"))


@pytest.mark.django_db
def test_the_top_hits_equal_an_exhaustive_scoring() -> None:
    _generated(120)
    rebuild_index()
    searcher = caches.searchers.get()
    for text in ("alpha wolf yak lynx puma", "note otter heron bison", "kubernetes pod moose"):
        query = build_query(prepare_query(text), searcher.reader())
        limited = searcher.search(query, limit=5)
        everything = searcher.search(query, limit=None)
        assert [(h.docnum, round(h.score, 6)) for h in limited] == [
            (h.docnum, round(h.score, 6)) for h in everything[:5]
        ], text
    assert search_articles("alpha wolf yak lynx puma")


@pytest.mark.django_db
def test_reading_once_changes_no_score_and_leaves_the_reader_as_it_was() -> None:
    from kb.search.lookup import top_hits
    from kb.search.reading import SCORED_FIELDS, lengths_in_memory, one_query

    _generated(120)
    rebuild_index()
    searcher = caches.searchers.get()
    reader = searcher.reader()
    terms = reader._terms
    queries = [
        build_query(prepare_query(text), reader)
        for text in ("alpha wolf yak lynx puma", "kubernetes pod moose", "設定が反映されない")
    ]
    plain = [[(h.docnum, h.score) for h in searcher.search(q, limit=20)] for q in queries]
    lengths = {
        (doc, field): reader.doc_field_length(doc, field)
        for doc in range(reader.doc_count_all())
        for field in SCORED_FIELDS
    }
    assert any(lengths.values())

    lengths_in_memory(searcher)
    assert {key: reader.doc_field_length(*key) for key in lengths} == lengths
    assert [[(h.docnum, h.score) for h in top_hits(searcher, q, limit=20)] for q in queries] == (
        plain
    )
    with pytest.raises(RuntimeError), one_query(searcher):
        assert reader._terms is not terms
        assert reader.doc_frequency("body_text", "no-such-word") == 0
        assert reader.doc_frequency("body_text", "wolf") > 0
        raise RuntimeError
    assert reader._terms is terms


@pytest.mark.django_db
def test_two_cjk_characters_and_one_find_their_article() -> None:
    from kb.models import Article

    Article.objects.bulk_create(
        [
            Article(
                slug="hugepages",
                title="大页内存",
                lang="zh",
                markdown="",
                html="<p>巨页分配失败</p>",
            ),
            Article(slug="other", title="网络", lang="zh", markdown="", html="<p>连接超时</p>"),
        ]
    )
    rebuild_index()
    assert [hit.slug for hit in search_articles("巨页")] == ["hugepages"]
    assert [hit.slug for hit in search_articles("页")] == ["hugepages"]


@pytest.mark.django_db
def test_the_sparse_union_scores_as_whoosh_array_union() -> None:
    from whoosh.query.compound import PreloadedOr

    from kb.search.union import SparseUnionOr

    _generated(150)
    rebuild_index()
    searcher = caches.searchers.get()
    for text in ("alpha wolf yak lynx puma", "kubernetes pod moose", "ノードの設定", "zzz"):
        query = build_query(prepare_query(text), searcher.reader())
        if query is None:
            continue
        assert isinstance(query, SparseUnionOr)
        ours = searcher.search(query, limit=None)
        whoosh = searcher.search(PreloadedOr(query.subqueries), limit=None)
        assert [(h.docnum, h.score) for h in ours] == [(h.docnum, h.score) for h in whoosh], text
        assert len(ours) > 0 or text == "zzz"


QUESTION = (
    "I have 3 nginx pods behind a Kubernetes service, how can nginx read the real client "
    "IP addresses of the HTTP requests?"
)


def test_a_question_in_plain_english_is_not_matched_by_its_little_words(search_index) -> None:
    """At the knowledge base's own size (tens of articles) no word is rare by count, so "the",
    "of" and "can" were matched and marked in every article's snippet. They are left to the
    phrase match; the words that carry the question find and mark the sections."""
    caches.results.clear()
    hits = search_articles(QUESTION)
    assert hits and hits[0].slug == "client-source-ip-external-traffic-policy"
    for hit in hits:
        marked = {m.lower() for m in re.findall(r"<mark>(.*?)</mark>", hit.snippet)}
        assert not marked & {"the", "of", "have", "can", "a", "the client"}, (hit.slug, marked)


def test_a_query_of_little_words_only_still_searches_them(search_index) -> None:
    caches.results.clear()
    assert search_articles("how to")  # nothing else to look for: the words themselves
