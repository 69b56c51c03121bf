"""The mechanism terms a text is searched for: only those whose key the text holds.

``_TermKeys`` may skip a term only when ``find_term`` could not find it; these tests put every
real mechanism term (articles and neighbours) into texts that do and do not hold it as a word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from troubleshooter.diagnosis.evidence import Index, _TermKeys, find_term, prepare
from troubleshooter.diagnosis.knowledge import load_articles_dir, neighbours_of
from troubleshooter.diagnosis.tree import DEFAULT_TREE_FILES, load_tree

ARTICLES = Path(__file__).resolve().parents[3] / "articles"


@pytest.fixture(scope="module")
def index() -> Index:
    knowledge = load_articles_dir(ARTICLES)
    tree = load_tree(DEFAULT_TREE_FILES, known_articles={c.slug for c in knowledge.causes})
    return Index(knowledge, neighbours=neighbours_of(tree))


def contexts(term: str) -> list[str]:
    """Texts around a term: as a word, glued to letters, digits or CJK, in a sentence."""
    word = term.rstrip("*")
    return [
        word,
        f"the {word} here",
        f"x{word}",
        f"{word}x",
        f"_{word}_",
        f"{word}ed and more",
        f"({word})",
        f"9{word}9",
        f"服务{word}失败",
        f"{word}が起きた",
        f"line one\nfoo: {word}\nline three",
    ]


def test_every_term_found_in_a_text_is_among_its_candidates(index):
    terms = list(index._term_places)
    assert len(terms) > 1000, "the articles and neighbours hold this many mechanism terms"
    keys = index._term_keys
    missed = []
    for term in terms:
        for text in contexts(term):
            if find_term(text, term) != -1 and term not in keys.candidates(text):
                missed.append((term, text))
    assert missed == []


def test_a_text_without_the_term_does_not_look_it_up(index):
    candidates = index._term_keys.candidates("0/3 nodes are available: 3 Too many pods.")
    assert "too many pods" in candidates
    assert "envsubst" not in candidates and "hugepage*" not in candidates
    assert len(candidates) < len(index._term_places) // 10


@pytest.mark.parametrize(
    ("term", "found", "pruned"),
    [
        ("truncat*", "files arrive truncated", "untruncated files"),
        ("_port_", "the _port_ variable", "s_port_80_tcp"),
        ("bind()", "nginx: [emerg] bind() to 0.0.0.0:80", "rebind() failed"),
        ("/dev/shm", "mount /dev/shm small", "/proc/shm"),
        ("d state", "stuck in d state", "it stated"),
        ("大页", "节点开启大页之后", "大量页面"),
        ("卡", "df 卡死", "挂起"),
        ("ip アドレス", "ip アドレスが足りない", "ipv6 アドレス"),
    ],
)
def test_a_term_is_a_candidate_where_found_and_pruned_without_its_key(term, found, pruned):
    keys = _TermKeys([term])
    assert find_term(found, term) != -1 and keys.candidates(found) == [term]
    # A text may hold the key and still not the term (candidates are a superset); a text
    # without the key is never searched for it.
    assert find_term(pruned, term) == -1 and keys.candidates(pruned) == []


def test_facets_are_those_of_a_look_up_of_every_term(index):
    # The same facets as looking for every term of every cause, on a mixed text.
    text = "上千个 service 的 namespace 里 nginx 容器 envsubst: Argument list too long\n" + (
        "EFS mount hangs, processes in D state; HugePages_Total: 512; bus error"
    )
    prepared = prepare(text)
    evidence = index.evidence(prepared)
    for slug, facets in index._facets.items():
        expected = {}
        for facet, terms in facets.items():
            hits = [t for t in terms if find_term(prepared.lowered, t) != -1]
            if hits:
                expected[facet] = True
        assert dict.fromkeys(evidence[slug].facets, True) == expected, slug
