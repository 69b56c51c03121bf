"""Posting blocks of the fields with positions, read without their positions until a phrase
asks for them (kb/search/reading.py `_LeafMatcher._read_data`): the same ids, weights and
positions as Whoosh's own reader, on a real index in a temporary folder."""

from __future__ import annotations

import pytest
from whoosh_reference import walk

from kb.search import caches, rebuild_index


def _corpus() -> None:
    from kb.models import Article

    def title(i: int) -> str:
        words = [f"doc{i % 7}", "common"]
        if i < 129:
            words.append("tail")  # 129 postings: a full block and a block of one
        if i < 131:
            words.append("trio")  # a full block and a block of three
        if i % 200 < 2:
            words.append("pair")  # a block of two, then of four
        if i < 4:
            words.append("four")
        words += ["yak"] * (1 + i % 4)  # weights that differ inside a block
        if i % 3 == 0:
            words += ["same", "same"]  # every weight of a block equal
        return " ".join(words)

    Article.objects.bulk_create(
        Article(
            slug=f"doc-{i}",
            title=title(i),
            lang="en",
            markdown="",
            html=f"<p>body {i}</p>",
            symptoms=[f"error number {i % 5} common yak"],
        )
        for i in range(400)
    )


@pytest.mark.django_db
def test_blocks_give_whoosh_ids_weights_and_positions() -> None:
    from whoosh.codec.whoosh3 import W3LeafMatcher

    from kb.search import reading

    _corpus()
    rebuild_index()
    searcher = caches.searchers.get()
    reader = searcher.reader()
    checked = 0
    for field in ("title_text", "symptom_text"):
        for word in ("common", "tail", "trio", "pair", "four", "yak", "same", "doc3", "error"):
            if not reader.doc_frequency(field, word):
                continue
            whoosh = reader.postings(field, word)
            assert type(whoosh) is W3LeafMatcher
            expected = walk(whoosh)
            with reading.one_query(searcher):
                ours = reader.postings(field, word)
                assert type(ours) is reading._LeafMatcher  # noqa: SLF001
                # ids and weights first, as a term's scoring reads them: no positions loaded
                ours._read_ids()  # noqa: SLF001
                ours._read_weights()  # noqa: SLF001
                assert ours._pickled, (field, word)  # noqa: SLF001
                assert walk(ours) == expected, (field, word)
                ours = reader.postings(field, word)
                assert [(ours.id(), ours.weight())] == [expected[0][:2]]
            checked += 1
    assert checked == 11


@pytest.mark.django_db
def test_phrases_find_what_whoosh_finds() -> None:
    from whoosh.query import Phrase

    from kb.search import reading

    _corpus()
    rebuild_index()
    searcher = caches.searchers.get()
    matched = 0
    for field, words in [
        ("title_text", ["common", "tail"]),
        ("title_text", ["yak", "yak", "yak"]),
        ("title_text", ["tail", "common"]),
        ("symptom_text", ["common", "yak"]),
        ("symptom_text", ["error", "yak"]),
    ]:
        query = Phrase(field, words)
        expected = [(hit.docnum, hit.score) for hit in searcher.search(query, limit=None)]
        with reading.one_query(searcher):
            found = [(hit.docnum, hit.score) for hit in searcher.search(query, limit=None)]
        assert found == expected, words
        matched += bool(found)
    assert matched == 3  # "tail common" and "error yak" never occur in that order


@pytest.mark.django_db
def test_a_phrase_whose_words_no_document_holds_together_answers_as_whoosh() -> None:
    from whoosh.query import Or, Phrase, Term

    from kb.search import reading
    from kb.search.lookup import top_hits
    from kb.search.union import SparseUnionOr

    _corpus()
    rebuild_index()
    searcher = caches.searchers.get()
    cases = {
        ("tail", "pair"): True,  # doc-0 and doc-1 hold both (not as a phrase)
        ("common", "tail"): True,
        ("four", "same", "tail"): True,  # doc-0 and doc-3
        ("pair", "four", "doc5"): False,  # the pair and the four are in doc0-doc3 and doc-200/1
        ("trio", "doc1", "pair", "same"): False,
        ("tail", "absent"): None,  # a word no document holds: Whoosh's own shortcut
    }
    for words, expected in cases.items():
        with reading.one_query(searcher):
            assert reading.holds_all(searcher, "title_text", words) is expected, words
        clauses = [Phrase("title_text", list(words), boost=4.0), Term("title_text", words[0])]
        whoosh = searcher.search(Or(clauses), limit=None, optimize=False)
        expected_hits = [(hit.docnum, hit.score) for hit in whoosh]
        with reading.one_query(searcher):
            ours = top_hits(searcher, SparseUnionOr(clauses), limit=1000)
            assert [(hit.docnum, hit.score) for hit in ours] == expected_hits, words
