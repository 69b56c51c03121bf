# ruff: noqa: E501  (an article symptom is kept whole)
"""The labelled examples (troubleshooter/diagnosis/examples.py): no item sees its own
source's examples when it is evaluated or fitted on, a cross-validation fold's examples are
its training folds' only, the runtime index holds tuning items only, and an article without
examples is still diagnosed by its own evidence."""

from pathlib import Path

import pytest

from troubleshooter.diagnosis import diagnose, load_articles_dir
from troubleshooter.diagnosis import examples as examples_module
from troubleshooter.diagnosis.evidence import prepare
from troubleshooter.diagnosis.examples import Example, ExampleIndex, is_held_out
from troubleshooter.management.commands import evaluate_diagnosis as command

ARTICLES = Path(__file__).resolve().parents[2] / "articles"
KNOWLEDGE = load_articles_dir(ARTICLES)

OWN = "quasar flux capacitor overheated inside the kubelet-max-pods sandbox"
OTHER = "pods stuck pending because the node reached its maximum number of pods"
UNRELATED = "the java heap ran out of memory during garbage collection"


def small_index() -> ExampleIndex:
    return ExampleIndex(
        [
            Example(OWN, "kubelet-max-pods", "https://example.org/own"),
            Example(OTHER, "kubelet-max-pods", "https://example.org/other"),
            Example(UNRELATED, "", "https://example.org/unrelated"),
        ]
    )


def test_a_text_sees_its_own_example_unless_its_source_is_left_out():
    index = small_index()
    seen = index.whole.features(prepare(OWN))["kubelet-max-pods"]
    assert seen["example_best"] == pytest.approx(1.0)
    blind = index.view(["https://example.org/own"]).features(prepare(OWN))
    assert blind.get("kubelet-max-pods", {}).get("example_best", 0.0) < 0.5


def test_evaluate_never_lets_an_item_see_its_own_source():
    """Through the command's own evaluate(): each item's text is unique to its source, so
    the only example as close as 1.0 would be its own."""
    items = [
        {
            "id": "own",
            "text": OWN,
            "expect": "kubelet-max-pods",
            "source": "https://example.org/own",
        },
        {"id": "u", "text": UNRELATED, "expect": None, "source": "https://example.org/unrelated"},
    ]
    index = small_index()
    results = command.evaluate(items, knowledge=KNOWLEDGE, examples=index)["results"]
    for result in results:
        for features in result["features"].values():
            assert features.get("example_best", 0.0) < 0.999, result["item"]["id"]
    # The same text from another source does see it: the test above can fail.
    other = [{**items[0], "source": "https://example.org/elsewhere"}]
    seen = command.evaluate(other, knowledge=KNOWLEDGE, examples=index)["results"][0]
    assert seen["features"]["kubelet-max-pods"]["example_best"] == pytest.approx(1.0)


def test_a_fold_index_refuses_a_held_back_source():
    train = [{"text": OWN, "expect": "kubelet-max-pods", "source": "https://example.org/a"}]
    test = [{"text": OTHER, "expect": "kubelet-max-pods", "source": "https://example.org/a"}]
    if is_held_out("https://example.org/a"):
        pytest.skip("the example source fell in the held-out part")
    with pytest.raises(ValueError, match="held-back source"):
        command.fold_examples(train, test)


def test_every_cross_validation_fold_holds_only_its_training_sources():
    items = command.load_items(sorted(command.DEFAULT_DIR.glob("*.yaml")))
    tuning = [i for i in items if not is_held_out(str(i["source"]))]
    for k in range(5):
        train = [i for i in tuning if command.fold_of(str(i["source"]), 5) != k]
        test = [i for i in tuning if command.fold_of(str(i["source"]), 5) == k]
        index = command.fold_examples(train, test)
        assert len(index.examples) == len(train)
        assert not index.sources() & {str(i["source"]) for i in test}


def test_the_runtime_index_holds_tuning_items_only():
    index = examples_module.index_for(KNOWLEDGE)
    assert len(index.examples) > 500
    assert not any(is_held_out(e.source) for e in index.examples)
    assert index.articles <= {c.slug for c in KNOWLEDGE.causes}


OWN_ARTICLE = """\
---
title: "Redis refuses writes: the snapshot volume is read-only"
summary: "When Redis cannot save its RDB snapshot it stops accepting writes."
tags: [redis, storage]
symptoms:
  - "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk"
reports:
  en: ["redis refuses writes after the volume became read-only"]
mechanism:
  component: [redis]
  storage: [rdb, snapshot]
  effect: [misconf]
---
## Cause {#cause}

The folder Redis saves its snapshot to is read-only or full, so BGSAVE fails.
"""


def test_an_article_without_examples_is_diagnosed_by_its_own_evidence(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for path in ARTICLES.glob("*.md"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "redis-misconf-readonly-volume.md").write_text(OWN_ARTICLE, encoding="utf-8")
    knowledge = load_articles_dir(folder)
    assert "redis-misconf-readonly-volume" not in examples_module.index_for(knowledge).articles
    text = (
        "(error) MISCONF Redis is configured to save RDB snapshots, but it's currently "
        "unable to persist to disk. Commands that may modify the data set are disabled"
    )
    diagnosis = diagnose(text, knowledge=knowledge)
    assert diagnosis.matches[0].article == "redis-misconf-readonly-volume"
    own = diagnosis.features["redis-misconf-readonly-volume"]
    assert not any(own.get(name) for name in examples_module.EXAMPLE_FEATURES)


def test_without_examples_the_features_hold_none_of_them():
    text = "0/3 nodes are available: 3 Too many pods."
    plain = diagnose(text, knowledge=KNOWLEDGE, examples=examples_module.NO_EXAMPLES)
    assert not any(
        f.get(name) for f in plain.features.values() for name in examples_module.EXAMPLE_FEATURES
    )
    with_examples = diagnose(text, knowledge=KNOWLEDGE)
    assert with_examples.features["kubelet-max-pods"]["example_best"] > 0.3
