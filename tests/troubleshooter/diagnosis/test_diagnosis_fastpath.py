"""The diagnosis's shortcuts give the full computation's answer, to the last bit.

A text shows most causes nothing (no phrase word, no retrieval word, no mechanism term), so
``diagnose`` weighs only the causes ``Index.shown`` returns and gives every other cause one
shared set of features and one model output. Each shortcut is checked here against the
computation it replaces, on real texts: the articles' and the tree neighbours' own symptoms,
near misses and reports in English, Japanese and Chinese, their titles and summaries, and
pastes of several lines.
"""

import math
from pathlib import Path

import pytest

from kb import errortext
from troubleshooter.diagnosis import diagnose, get_tree, load_articles_dir, model
from troubleshooter.diagnosis.evidence import (
    CauseEvidence,
    Index,
    _shares,
    number_tokens,
    prepare,
    tokens,
)
from troubleshooter.diagnosis.knowledge import ArticleCause, Knowledge, neighbours_of
from troubleshooter.diagnosis.matching import _greatest_nothing_shown

ARTICLES = Path(__file__).resolve().parents[3] / "articles"
KNOWLEDGE = load_articles_dir(ARTICLES)
NEIGHBOURS = neighbours_of(get_tree())


def _texts() -> list[str]:
    texts: list[str] = []
    for cause in (*KNOWLEDGE.causes, *NEIGHBOURS):
        own = [*cause.symptoms, *cause.near_misses, cause.title, cause.summary]
        for reports in cause.reports.values():
            own.extend(reports)
        texts.extend(own)
        # A paste of several lines: two reports around a line of noise.
        if len(own) >= 2:
            texts.append(f"{own[0]}\nINFO nothing to see 2026-12-02T07:00:00Z\n{own[-1]}")
    texts += [
        "how to mount a volume read only",
        "コンテナが再起動を繰り返す",
        "容器不断重启",
        "Bus error (core dumped)",
        "sh: 1: cp: Argument list too long",
    ]
    return list(dict.fromkeys(t for t in texts if t.strip()))


TEXTS = _texts()


def _index() -> Index:
    return model.index_for(KNOWLEDGE, NEIGHBOURS)


def _in_full(text: str, monkeypatch: pytest.MonkeyPatch):
    """The diagnosis with every cause's evidence, zero or not, given to the matching: each
    cause's features and model output are computed, none is shared (the full path)."""
    shown = Index.shown

    def every_cause(index: Index, prepared):
        found = shown(index, prepared)
        return {slug: found.get(slug) or CauseEvidence(slug) for slug in index.slugs}

    with monkeypatch.context() as patch:
        patch.setattr(Index, "shown", every_cause)
        return diagnose(text, knowledge=KNOWLEDGE)


def test_it_has_texts_in_three_languages_that_name_causes_ask_and_refuse():
    answers = [diagnose(t, knowledge=KNOWLEDGE) for t in TEXTS]
    assert len(TEXTS) > 1000
    assert any("\u3040" <= c <= "\u30ff" for t in TEXTS for c in t)  # Japanese
    assert sum(1 for a in answers if a.matches) > 100
    assert sum(1 for a in answers if a.question) > 10
    assert sum(1 for a in answers if a.not_covered) > 100
    assert sum(1 for a in answers if not (a.matches or a.question or a.not_covered)) > 10


def test_it_answers_as_the_full_computation_every_feature_and_confidence(monkeypatch):
    for text in TEXTS:
        fast = diagnose(text, knowledge=KNOWLEDGE)
        full = _in_full(text, monkeypatch)
        assert fast == full, text  # matches (evidence, confidence), question, not covered
        assert fast.ranking == full.ranking, text
        assert list(fast.features.items()) == list(full.features.items()), text


def test_it_weighs_an_article_the_tree_names_but_the_text_shows_nothing_of(monkeypatch):
    """The tree's questions name the articles of their options (0.4) and of the option the
    text answers (1.0) even when the text holds none of their words: such an article's shared
    features carry the tree's answer, and a not-covered answer speaks against it."""
    unrelated = {
        slug: ArticleCause(slug=slug, title=title, summary="zebra giraffe okapi", symptoms=(title,))
        for slug, title in (
            ("php-opcache-hugepages", "Striped zebras graze"),
            ("httpd-network-docroot-sendfile-mmap", "Tall giraffes browse"),
            ("kubelet-max-pods", "Shy okapis hide"),
        )
    }
    knowledge = Knowledge(causes=tuple(unrelated.values()), generation="unrelated")
    shown = Index.shown

    def every_cause(index: Index, prepared):
        found = shown(index, prepared)
        return {slug: found.get(slug) or CauseEvidence(slug) for slug in index.slugs}

    seen = set()
    for text in (
        "Bus error (core dumped)",
        "Bus error (core dumped) with hugepages",
        "0/3 nodes are available: 3 Insufficient cpu.",
        "Bus error\n0/3 nodes are available: 3 Insufficient cpu.",
    ):
        fast = diagnose(text, knowledge=knowledge)
        for slug in unrelated:
            seen.add((fast.features[slug]["tree"], fast.features[slug]["not_covered"]))
        with monkeypatch.context() as patch:
            patch.setattr(Index, "shown", every_cause)
            full = diagnose(text, knowledge=knowledge)
        assert fast == full and fast.ranking == full.ranking, text
        assert list(fast.features.items()) == list(full.features.items()), text
    assert {(0.4, 0.0), (1.0, 0.0), (0.0, 1.0), (0.4, 1.0)} <= seen


def test_it_finds_the_greatest_neighbour_the_text_shows_nothing_of():
    """Untouched neighbours of one tree answer share one confidence: the best of a tie is the
    greatest slug, as max() over (confidence, slug) picks it."""
    index = _index()
    some = set(sorted(index.neighbour_slugs)[::9])
    for text in TEXTS[::3]:
        shown = index.shown(prepare(text))
        for reached in (set(), some):
            expected = []
            for answer in (0.0, 1.0):
                left = [
                    s
                    for s in index.neighbour_slugs
                    if s not in shown and (s in reached) == bool(answer)
                ]
                if left:
                    expected.append((answer, max(left)))
            assert _greatest_nothing_shown(index, shown, reached) == expected, text


def test_it_finds_the_best_neighbour_as_every_neighbours_confidence_does(monkeypatch):
    """Refusing with a neighbour's advice reads the best neighbour: computed over every
    neighbour's features, it is the one the diagnosis named."""
    params = model.parameters()
    index = _index()
    refused = 0
    for text in TEXTS:
        diagnosis = diagnose(text, knowledge=KNOWLEDGE)
        raw, (best, slug) = model.article_confidences(
            diagnosis.features, params, index.neighbour_slugs
        )
        ranking = sorted(raw.items(), key=lambda item: (-item[1], item[0]))
        assert diagnosis.ranking == tuple(
            (s, round(model.calibrated(p, params), 3)) for s, p in ranking
        ), text
        if best >= params.threshold and not diagnosis.matches and not diagnosis.question:
            refused += 1
            assert diagnosis.not_covered[0].node == slug.split("/", 1)[1], text
    assert refused > 10


def test_every_cause_it_leaves_out_has_the_zero_evidence():
    index = _index()
    for text in TEXTS:
        prepared = prepare(text)
        shown = index.shown(prepared)
        every = index.evidence(prepared)
        assert list(every) == list(index.slugs)
        for slug, found in every.items():
            if slug in shown:
                assert found == shown[slug]
            else:
                assert found == CauseEvidence(slug), (text, slug)


def test_its_retrieval_scores_are_the_plain_bm25_sums():
    """idf x term weight, added token by token in the query's order, from zero."""
    index = _index()
    for text in TEXTS[::7]:
        prepared = prepare(text)
        query = set().union(*prepared.line_tokens)
        evidence = index.evidence(prepared)
        for slug in index.slugs:
            length = sum(index._doc_tf[slug].values())
            norm = index.K1 * (1 - index.B + index.B * length / index._avg)
            score = 0.0
            for token in query:
                weight = index._idf.get(token)
                tf = index._doc_tf[slug].get(token)
                if weight and tf:
                    score += weight * (tf * (index.K1 + 1) / (tf + norm))
            assert evidence[slug].bm25 == score, (text, slug)


def _plain_shares(scores: dict[str, float], neighbours: frozenset[str]) -> dict:
    """(score, share of the best, lead of the best): an article against every cause, a
    neighbour against the articles and itself, each best two taken from a full sort."""
    result = {}
    for slug, score in scores.items():
        rivals = [v for s, v in scores.items() if s not in neighbours or s == slug]
        pool = rivals if slug in neighbours else list(scores.values())
        top, runner = ([*sorted(pool, reverse=True), 0.0, 0.0])[:2]
        share = score / top if top > 0 else 0.0
        lead = (top - runner) / top if top > 0 and score == top else 0.0
        result[slug] = (score, share, lead)
    return result


def test_its_shares_leave_out_zero_scores_without_changing_one():
    neighbours = frozenset({"n1", "n2", "n3"})
    cases = [
        {"a": 2.0, "b": 2.0, "c": 0.0, "n1": 2.0, "n2": 1.0, "n3": 0.0},
        {"a": 2.0, "b": 1.0, "c": 0.5, "n1": 2.0, "n2": 1.0, "n3": 1.5},
        {"a": 0.5, "b": 0.0, "c": 0.0, "n1": 3.0, "n2": 3.0, "n3": 0.0},
        {"a": 1.0, "b": 0.25, "c": 0.25, "n1": 0.25, "n2": 0.0, "n3": 4.0},
        {"a": 0.0, "b": 0.0, "c": 0.0, "n1": 0.0, "n2": 0.0, "n3": 0.0},
        {"a": 0.0, "b": 0.0, "c": 0.0, "n1": 0.7, "n2": 0.0, "n3": 0.0},
    ]
    for scores in cases:
        plain = _plain_shares(scores, neighbours)
        assert _shares(scores, neighbours) == plain, scores
        sparse = _shares({s: v for s, v in scores.items() if v}, neighbours)
        for slug, value in plain.items():
            assert sparse.get(slug, (0.0, 0.0, 0.0)) == value, (scores, slug)


def test_its_logistic_without_the_zero_features_is_the_plain_sum():
    params = model.parameters()
    for text in TEXTS[::5]:
        for features in diagnose(text, knowledge=KNOWLEDGE).features.values():
            z = params.weights.get("bias", 0.0)
            for name, value in features.items():
                z += params.weights.get(name, 0.0) * value
            plain = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            assert model._logistic(features, params) == plain


def _all_substitutions(text: str) -> str:
    """errortext.normalize with every substitution, digits or not."""
    text = "\n".join(line[: errortext.MAX_LINE_CHARS] for line in text.splitlines())
    for pattern, replacement in errortext._SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    text = errortext._TRIM_RE.sub("", text)
    return "\n".join(line for line in text.split("\n") if line)


def test_normalize_skips_only_substitutions_that_need_a_digit():
    lines = [line for text in TEXTS for line in text.splitlines()]
    lines += ["/var/lib/kubelet/pods/x/volumes", "deadbeef-cafe-babe-face-feedfacecafe", "a\t b  c"]
    without = 0
    for line in lines:
        lowered = errortext.unicodedata.normalize("NFKC", line).lower()
        without += not errortext._DIGIT_RE.search(lowered)
        assert errortext.normalize(line) == _all_substitutions(lowered), line
    assert without > 500
    # What may match without a digit: hex ids and UUIDs in letters, paths, spaces. A new
    # substitution must be placed in one group or the other on purpose.
    assert [p.pattern[:12] for p, _r in errortext._WITHOUT_DIGITS] == [
        r"\b[0-9a-f]{8",
        r"\b[0-9a-f]{3",
        r"(?<![\w/.:])",
        r"[\t\f\v]| {2",
        "  +",
    ]


def test_prepare_tokenizes_an_unchanged_line_once_to_the_same_set_in_the_same_order():
    for text in TEXTS:
        prepared = prepare(text)
        for normalized, lowered, got in zip(
            prepared.normalized, prepared.lowered_lines, prepared.line_tokens, strict=True
        ):
            twice = frozenset(tokens(normalized + " " + lowered)) | number_tokens(lowered)
            assert got == twice and list(got) == list(twice), text
