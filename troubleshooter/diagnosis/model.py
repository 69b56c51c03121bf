"""The confidence model: a logistic combination of the evidence features, stored as data.

``troubleshooter/data/diagnosis.yaml`` holds the weights (fitted on the tuning part of the
development set by ``manage.py evaluate_diagnosis --fit``), the threshold and the word lists.
``fit`` is a plain gradient-descent logistic regression: no numerical library needed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from troubleshooter.diagnosis.evidence import Index
from troubleshooter.diagnosis.knowledge import ArticleCause, Knowledge
from troubleshooter.diagnosis.tree import TreeError, TreeProblem

__all__ = [
    "FEATURES",
    "MODEL_FILE",
    "NOT_COVERED_FACTOR",
    "Parameters",
    "article_confidences",
    "calibrated",
    "confidence",
    "fit_calibration",
    "fit",
    "index_for",
    "outranked",
    "parameters",
]

MODEL_FILE = Path(__file__).resolve().parents[1] / "data" / "diagnosis.yaml"
FEATURES = (
    "symptom",
    "exact",
    "symptom_lead",
    "near_miss",
    "bm25",
    "bm25_share",
    "bm25_top",
    "prose_share",
    "component",
    "storage",
    "effect",
    "off_context",
    "fix_applied",
    "tree",
    "not_covered",
    "neighbour_bm25",
    "neighbour_mechanism",
    "neighbour_symptom",
    "facets_together",
)


@dataclass(frozen=True)
class Parameters:
    weights: dict[str, float]
    threshold: float = 0.5
    close: float = 0.12
    exact_confidence: float = 0.0
    # A neighbour (a not-covered mechanism) at least this close below an article's confidence
    # keeps the article from being named: the text is as much the neighbour's as ours.
    neighbour_margin: float = 0.0
    software: tuple[str, ...] = ()
    # (model output, observed accuracy) knots: what a confidence shown to a person is mapped
    # through (``calibrated``). Empty: shown as it is.
    calibration: tuple[tuple[float, float], ...] = ()
    generic_words: frozenset[str] = field(default_factory=frozenset)
    # Below the threshold, a refusal lists articles only when one of ours came at least this
    # close: the cause that came closest first, then search results for the text's words.
    related_floor: float = 0.0
    weak_words: frozenset[str] = field(default_factory=frozenset)
    # Names of a setup (a distribution, an installer, a network plugin, a deployment tool):
    # damped like the weak words, and never a mechanism term (evidence.Index).
    setup_words: frozenset[str] = field(default_factory=frozenset)
    # Platforms that open a setup sentence ("AKS 1.27 with Azure CNI") and may be mechanism
    # terms too, so not setup words (evidence.Index.setup_sentence).
    platforms: frozenset[str] = field(default_factory=frozenset)


def load_parameters(path: Path = MODEL_FILE) -> Parameters:
    """Read and check the model file; problems raise ``TreeError`` with file:line."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = []
    weights = data.get("weights") if isinstance(data, dict) else None
    if not isinstance(weights, dict):
        raise TreeError([TreeProblem(path, 1, "'weights' must be a mapping")])
    unknown = sorted(set(weights) - set(FEATURES) - {"bias"})
    if unknown:
        problems.append(TreeProblem(path, 1, f"unknown feature {unknown[0]!r}"))
    if not all(isinstance(v, (int, float)) for v in weights.values()):
        problems.append(TreeProblem(path, 1, "weights must be numbers"))
    threshold = data.get("threshold", 0.5)
    if not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        problems.append(TreeProblem(path, 1, "'threshold' must be between 0 and 1"))
    calibration = _calibration_knots(data.get("calibration") or [], path, problems)
    if problems:
        raise TreeError(problems)
    return Parameters(
        weights={k: float(v) for k, v in weights.items()},
        threshold=float(threshold),
        close=float(data.get("close", 0.12)),
        exact_confidence=float(data.get("exact_confidence", 0.0)),
        neighbour_margin=float(data.get("neighbour_margin", 0.0)),
        software=tuple(str(s).lower() for s in data.get("software") or ()),
        calibration=calibration,
        generic_words=frozenset(str(s).lower() for s in data.get("generic_words") or ()),
        related_floor=float(data.get("related_floor", 0.0)),
        weak_words=frozenset(str(s).lower() for s in data.get("weak_words") or ()),
        setup_words=frozenset(str(s).lower() for s in data.get("setup_words") or ()),
        platforms=frozenset(str(s).lower() for s in data.get("platforms") or ()),
    )


def _calibration_knots(raw: object, path: Path, problems: list) -> tuple[tuple[float, float], ...]:
    """Check the ``calibration`` list: [output, observed] pairs, outputs increasing, observed
    never decreasing, all within 0..1 (a map that could reorder answers is refused)."""
    knots: list[tuple[float, float]] = []
    if not isinstance(raw, list):
        problems.append(TreeProblem(path, 1, "'calibration' must be a list of [output, observed]"))
        return ()
    for pair in raw:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in pair)
        ):
            problems.append(TreeProblem(path, 1, f"calibration knot {pair!r}: two numbers in 0..1"))
            return ()
        knots.append((float(pair[0]), float(pair[1])))
    for (x0, y0), (x1, y1) in zip(knots, knots[1:], strict=False):
        if x1 <= x0 or y1 < y0:
            problems.append(
                TreeProblem(path, 1, "calibration: outputs must increase, observed never fall")
            )
            return ()
    return tuple(knots)


@cache
def parameters() -> Parameters:
    return load_parameters()


def exact_lead(features: dict[str, float]) -> bool:
    """An article's own exact message, clearly ahead of every other article's, no near miss."""
    return (
        bool(features.get("exact"))
        and features.get("symptom_lead", 0) >= 0.25
        and not (features.get("near_miss"))
    )


def confidence(features: dict[str, float], params: Parameters) -> float:
    """The logistic model; an exact leading symptom is worth at least its measured accuracy."""
    p = _logistic(features, params)
    if params.exact_confidence and exact_lead(features):
        return max(p, params.exact_confidence)
    return p


def calibrated(p: float, params: Parameters) -> float:
    """The confidence shown for a model output ``p``: the share of tuning answers at that
    output that were right, read off the fitted knots (linear between them, flat outside).

    The map never decreases, so it changes no decision and no order: the threshold and every
    comparison work on ``p``; only what a person reads (the percentage, the API's
    ``confidence``) is the calibrated value."""
    knots = params.calibration
    if not knots:
        return p
    if p <= knots[0][0]:
        return knots[0][1]
    for (x0, y0), (x1, y1) in zip(knots, knots[1:], strict=False):
        if p <= x1:
            return y0 + (y1 - y0) * (p - x0) / (x1 - x0)
    return knots[-1][1]


def fit_calibration(
    pairs: Sequence[tuple[float, bool]], *, min_items: int = 25
) -> tuple[tuple[float, float], ...]:
    """Knots of a non-decreasing map from model output to observed accuracy.

    ``pairs`` are (output of the top article, whether it was the expected one) for tuning
    items. Isotonic regression (pool adjacent violators) over the outputs in order, then
    neighbouring blocks merged until each holds ``min_items`` items, so a knot never rests on
    a handful of items. A knot sits at its block's mean output with the block's accuracy."""
    same: dict[float, list[float]] = {}  # answers of one output are one group
    for p, right in pairs:
        group = same.setdefault(p, [0.0, 0.0, 0.0])
        group[0] += p
        group[1] += float(right)
        group[2] += 1.0
    blocks: list[list[float]] = []  # [sum of outputs, sum of right, count], by output
    for _p, group in sorted(same.items()):
        blocks.append(group)
        # Pool while the order is violated.
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            for i in range(3):
                blocks[-1][i] += last[i]
    while len(blocks) > 1:
        small = min(range(len(blocks)), key=lambda i: blocks[i][2])
        if blocks[small][2] >= min_items:
            break
        other = small - 1 if small == len(blocks) - 1 else small + 1
        if 0 < small < len(blocks) - 1:
            rate = blocks[small][1] / blocks[small][2]
            left, right_ = blocks[small - 1], blocks[small + 1]
            if abs(left[1] / left[2] - rate) <= abs(right_[1] / right_[2] - rate):
                other = small - 1
        low, high = sorted((small, other))
        for i in range(3):
            blocks[low][i] += blocks[high][i]
        del blocks[high]
    knots: list[tuple[float, float]] = []
    for total, right, count in blocks:
        x, y = round(total / count, 3), round(right / count, 3)
        if knots and x <= knots[-1][0]:
            continue
        knots.append((x, max(y, knots[-1][1]) if knots else y))
    return tuple(knots)


# A not-covered answer from the tree scales every article without an exact symptom down.
NOT_COVERED_FACTOR = 0.3


def article_confidences(
    features: dict[str, dict[str, float]],
    params: Parameters,
    neighbours: Collection[str],
    *,
    known: Mapping[str, float] | None = None,
) -> tuple[dict[str, float], tuple[float, str]]:
    """Every article's confidence, and the best neighbour's (confidence, slug).

    ``features`` holds the articles' and the neighbours' features (``neighbours`` names the
    latter). An article the tree's not-covered answer speaks against, or that a neighbour
    explains as well, is scaled down unless its own exact message leads. ``known``: the
    model's output (``confidence``) for some of the causes, when the caller has it already."""
    known = known or {}
    best = (0.0, "")
    for slug in neighbours:
        if slug in features:
            p = known.get(slug)
            if p is None:
                p = confidence(features[slug], params)
            best = max(best, (p, slug))
    articles = (slug for slug in features if slug not in neighbours)
    return scaled_confidences(features, params, articles, best[0], known), best


def scaled_confidences(
    features: dict[str, dict[str, float]],
    params: Parameters,
    articles: Iterable[str],
    neighbour: float,
    known: Mapping[str, float],
) -> dict[str, float]:
    """The confidence of each of ``articles`` (``article_confidences``), given the best
    neighbour's confidence and the model's output where ``known``."""
    result = {}
    for slug in articles:
        own = features[slug]
        p = known.get(slug)
        if p is None:
            p = confidence(own, params)
        if own.get("not_covered") and not own.get("exact"):
            # The tree recognised a mechanism we do not cover (a shell glob, a CPU shortage):
            # only an article's own exact message outweighs that.
            p *= NOT_COVERED_FACTOR
        elif outranked(p, own, neighbour, params):
            p *= NOT_COVERED_FACTOR
        result[slug] = p
    return result


def outranked(p: float, features: dict[str, float], neighbour: float, params: Parameters) -> bool:
    """Whether the best neighbour's confidence keeps an article of confidence ``p`` from being
    named: only the article's own exact, leading message outweighs a neighbour as close."""
    return neighbour > 0.0 and not exact_lead(features) and neighbour >= p - params.neighbour_margin


def _logistic(features: dict[str, float], params: Parameters) -> float:
    weights = params.weights
    z = weights.get("bias", 0.0)
    for name, value in features.items():
        # A zero feature adds a zero (z + 0.0 is z, or -0.0 for 0.0, and exp gives the same):
        # most features of most causes are zero, so they are left out.
        if value:
            z += weights.get(name, 0.0) * value
    z = max(-30.0, min(30.0, z))
    return 1.0 / (1.0 + math.exp(-z))


# One index per knowledge generation: rebuilt when the imported articles change.
_lock = threading.Lock()
_indexes: dict[str, Index] = {}


def index_for(knowledge: Knowledge, neighbours: tuple[ArticleCause, ...] = ()) -> Index:
    key = f"{knowledge.generation or id(knowledge)}:{id(neighbours)}"
    index = _indexes.get(key)
    if (
        index is None
        or index.neighbours is not neighbours
        or index.knowledge is not knowledge
        and index.knowledge != knowledge
    ):
        params = parameters()
        index = Index(
            knowledge,
            neighbours=neighbours,
            weak_words=params.weak_words,
            setup_words=params.setup_words,
            platforms=params.platforms,
            software=params.software,
        )
        with _lock:
            if len(_indexes) > 8:
                _indexes.clear()
            _indexes[key] = index
    return index


def fit(
    rows: Sequence[tuple[dict[str, float], int]],
    *,
    l2: float = 1.0,
    iterations: int = 30,
) -> dict[str, float]:
    """Logistic regression fitted by Newton's method: rows of (features, 0 or 1).

    ``l2`` keeps weights finite when a feature separates the rows perfectly (exact symptoms).
    1.0 rather than 0.1 since the eleventh collection: 5-fold cross-validation on the tuning
    part named 408 rather than 404 of 485 on-topic items first, with the same 474 of 565
    refusals (3.0: 407 and 471).
    Twelve weights: the normal equations are solved by Gaussian elimination, no library.
    """
    names = ("bias", *FEATURES)
    size = len(names)
    weights = [0.0] * size
    vectors = [[1.0] + [f.get(n, 0.0) for n in FEATURES] for f, _label in rows]
    labels = [label for _f, label in rows]
    for _ in range(iterations):
        gradient = [l2 * w if i else 0.0 for i, w in enumerate(weights)]
        hessian = [[(l2 if i == j and i else 0.0) for j in range(size)] for i in range(size)]
        for x, y in zip(vectors, labels, strict=False):
            z = max(-30.0, min(30.0, sum(w * v for w, v in zip(weights, x, strict=False))))
            p = 1.0 / (1.0 + math.exp(-z))
            weight = p * (1 - p)
            for i in range(size):
                if x[i]:
                    gradient[i] += (p - y) * x[i]
                    row = hessian[i]
                    for j in range(size):
                        if x[j]:
                            row[j] += weight * x[i] * x[j]
        step = _solve(hessian, gradient)
        weights = [w - s for w, s in zip(weights, step, strict=False)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return {n: round(w, 3) for n, w in zip(names, weights, strict=False)}


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Solve matrix · x = vector by Gaussian elimination with partial pivoting."""
    size = len(vector)
    a = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12:
            a[pivot][col] = 1e-12
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, size):
            factor = a[r][col] / a[col][col]
            if factor:
                for c in range(col, size + 1):
                    a[r][c] -= factor * a[col][c]
    x = [0.0] * size
    for r in range(size - 1, -1, -1):
        x[r] = (a[r][size] - sum(a[r][c] * x[c] for c in range(r + 1, size))) / a[r][r]
    return x
