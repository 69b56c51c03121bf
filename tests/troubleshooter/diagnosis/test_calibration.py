"""The confidence a person reads is calibrated: the model's output mapped through knots fitted
on the tuning part, so that answers shown at 80 % are right about 80 % of the time.

The map never decreases: it changes what is shown, never which cause is named or in what
order."""

import random
from pathlib import Path

import pytest

from troubleshooter.diagnosis import TreeError, diagnose, load_articles_dir, model
from troubleshooter.diagnosis.knowledge import NEIGHBOUR_PREFIX

ROOT = Path(__file__).resolve().parents[3]


def params(*knots):
    return model.Parameters(weights={}, calibration=tuple(knots))


def test_without_knots_the_output_is_shown_as_it_is():
    assert model.calibrated(0.37, params()) == 0.37


def test_between_knots_it_is_linear_and_outside_them_flat():
    p = params((0.2, 0.1), (0.6, 0.5), (0.9, 0.8))
    assert model.calibrated(0.4, p) == pytest.approx(0.3)
    assert model.calibrated(0.75, p) == pytest.approx(0.65)
    assert model.calibrated(0.05, p) == 0.1
    assert model.calibrated(0.99, p) == 0.8
    assert model.calibrated(0.6, p) == pytest.approx(0.5)


def test_the_fit_follows_the_observed_accuracy():
    # Outputs whose accuracy is known: below 0.5 one in five is right, above 0.8 nine in ten.
    rng = random.Random(7)
    pairs = [(rng.uniform(0.0, 0.5), i % 5 == 0) for i in range(200)]
    pairs += [(rng.uniform(0.8, 1.0), i % 10 != 0) for i in range(200)]
    knots = model.fit_calibration(pairs)
    p = params(*knots)
    assert model.calibrated(0.25, p) == pytest.approx(0.2, abs=0.1)
    assert model.calibrated(0.9, p) == pytest.approx(0.9, abs=0.07)


def test_the_fit_never_decreases_and_never_rests_on_few_items():
    rng = random.Random(11)
    pairs = [(rng.random(), rng.random() < 0.6) for _ in range(300)]
    knots = model.fit_calibration(pairs, min_items=25)
    xs = [x for x, _ in knots]
    ys = [y for _, y in knots]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert ys == sorted(ys)
    assert len(knots) <= 300 // 25
    outputs = [i / 100 for i in range(101)]
    shown = [model.calibrated(x, params(*knots)) for x in outputs]
    assert shown == sorted(shown)


def test_a_pool_of_identical_outputs_is_one_knot():
    # Many answers clamp to the same output (an exact symptom's floor): one knot, their rate.
    pairs = [(0.914, i % 10 != 0) for i in range(50)] + [(0.3, False)] * 30
    knots = model.fit_calibration(pairs)
    assert knots == ((0.3, 0.0), (0.914, 0.9))


def write_model(tmp_path, calibration: str) -> Path:
    text = model.MODEL_FILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("calibration:")]
    path = tmp_path / "diagnosis.yaml"
    path.write_text("\n".join(lines) + f"\ncalibration: {calibration}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "calibration",
    [
        "[[0.2, 0.5], [0.6, 0.4]]",  # observed falls: would reorder answers
        "[[0.6, 0.4], [0.2, 0.5]]",  # outputs out of order
        "[[0.2, 1.5]]",  # not a share
        "[[0.2]]",
        "{0.2: 0.5}",
    ],
)
def test_a_map_that_could_reorder_answers_is_refused(tmp_path, calibration):
    with pytest.raises(TreeError, match="calibration"):
        model.load_parameters(write_model(tmp_path, calibration))


def test_the_shipped_model_is_calibrated_and_reads_back(tmp_path):
    shipped = model.parameters()
    assert len(shipped.calibration) >= 4
    again = model.load_parameters(write_model(tmp_path, "[[0.1, 0.05], [0.9, 0.88]]"))
    assert again.calibration == ((0.1, 0.05), (0.9, 0.88))


def test_a_named_cause_shows_its_calibrated_confidence():
    knowledge = load_articles_dir(ROOT / "articles")
    text = "0/3 nodes are available: 3 Too many pods."
    diagnosis = diagnose(text, knowledge=knowledge)
    match = diagnosis.matches[0]
    assert match.article == "kubelet-max-pods"
    shipped = model.parameters()
    neighbours = {s for s in diagnosis.features if s.startswith(NEIGHBOUR_PREFIX)}
    raw, _best = model.article_confidences(diagnosis.features, shipped, neighbours)
    assert match.confidence == round(model.calibrated(raw[match.article], shipped), 2)
    assert diagnosis.ranking[0] == (
        match.article,
        round(model.calibrated(raw[match.article], shipped), 3),
    )
