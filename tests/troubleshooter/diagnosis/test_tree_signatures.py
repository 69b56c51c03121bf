"""Every signature in the real tree matches its examples and none of its near misses."""

import pytest

from troubleshooter.diagnosis import NODE_ID_RE, SECTIONS, CauseNode, article_slugs, load_tree
from troubleshooter.diagnosis.evidence import prepare

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
    # The lines as the diagnosis reads them (NFKC, lower case, Traditional Chinese folded,
    # then normalized), probes first, as troubleshooter/diagnosis/matching.py matches them.
    return any(
        any(probe in line for probe in signature.probes) and signature.pattern.search(line)
        for line in prepare(text).normalized
    )


@pytest.mark.parametrize(("signature", "text", "expected"), CASES)
def test_it_matches_examples_and_refuses_near_misses(signature, text, expected):
    assert _matches(signature, text) is expected


def test_it_leads_signatures_only_to_questions_and_not_covered_answers():
    # What a cause looks like lives in the article's front matter, not here.
    for signature in TREE.signatures:
        assert not isinstance(TREE.node(signature.target), CauseNode), signature.id


def test_it_uses_kebab_case_ids_and_real_sections_and_articles():
    assert all(NODE_ID_RE.fullmatch(node_id) for node_id in TREE.nodes)
    slugs = article_slugs()
    for node in TREE.nodes.values():
        if isinstance(node, CauseNode):
            assert node.section in SECTIONS
            assert node.article in slugs


def test_it_has_an_honest_not_covered_leaf_for_each_ambiguous_symptom():
    for question_id in ("argument-list-too-long", "bus-error", "cannot-allocate-memory"):
        kinds = {TREE.node(o.target).kind for o in TREE.node(question_id).options}
        assert "not-covered" in kinds and "cause" in kinds
