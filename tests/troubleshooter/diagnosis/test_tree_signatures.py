"""Every signature in the real tree matches its examples and none of its near misses."""

import pytest

from kb.errortext import normalize
from troubleshooter.diagnosis import NODE_ID_RE, SECTIONS, CauseNode, article_slugs, load_tree

TREE = load_tree()
CASES = [
    pytest.param(signature, example, expected, id=f"{signature.id}-{kind}{index}")
    for signature in TREE.signatures
    for kind, expected, texts in (
        ("example", True, signature.examples),
        ("near-miss", False, signature.near_misses),
    )
    for index, example in enumerate(texts)
]


def _matches(signature, text: str) -> bool:
    return any(signature.pattern.search(line) for line in normalize(text).split("\n"))


@pytest.mark.parametrize(("signature", "text", "expected"), CASES)
def test_it_matches_examples_and_refuses_near_misses(signature, text, expected):
    assert _matches(signature, text) is expected


def test_it_covers_every_article_with_three_signatures_or_more():
    per_article: dict[str, int] = dict.fromkeys(article_slugs(), 0)
    for signature in TREE.signatures:
        # A signature counts for every article its node, or the answers of its question, reach.
        reached = {signature.target}
        pending = [signature.target]
        while pending:
            node = TREE.node(pending.pop())
            for option in getattr(node, "options", ()):
                if option.target not in reached:
                    reached.add(option.target)
                    pending.append(option.target)
        for article in {
            TREE.node(n).article for n in reached if isinstance(TREE.node(n), CauseNode)
        }:
            per_article[article] += 1
    assert per_article and all(count >= 3 for count in per_article.values()), per_article


def test_it_uses_kebab_case_ids_and_real_sections():
    assert all(NODE_ID_RE.fullmatch(node_id) for node_id in TREE.nodes)
    for node in TREE.nodes.values():
        if isinstance(node, CauseNode):
            assert node.section in SECTIONS
            assert node.fix.strip()


def test_it_has_an_honest_not_covered_leaf_for_each_ambiguous_symptom():
    for question_id in ("argument-list-too-long", "bus-error", "cannot-allocate-memory"):
        kinds = {TREE.node(o.target).kind for o in TREE.node(question_id).options}
        assert "not-covered" in kinds and "cause" in kinds
