"""Measure the troubleshooter on a development set: accuracy, refusals, questions, calibration.

    python manage.py evaluate_diagnosis [FILE ...] [--part tuning|held-out|all] [--articles DIR]
    python manage.py evaluate_diagnosis --part tuning --fit        # refit the model's weights
    python manage.py evaluate_diagnosis --part tuning --show-errors  # what tuning items miss

Files default to ``troubleshooter/data/devset/*.yaml``. Each item (a YAML list) has ``id``,
``text``, ``lang``, ``expect`` (an article slug, or null for an unrelated error that must be
refused), ``kind`` and ``source``. The split is fixed by the source: an item is HELD-OUT when
``int(sha256(source), 16) % 10 < 4``, else TUNING. Only tuning items may be fitted on or
printed; for the held-out part only the aggregate figures are shown.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from troubleshooter.diagnosis import diagnose, load_articles_dir
from troubleshooter.diagnosis import model as model_module
from troubleshooter.diagnosis.knowledge import NEIGHBOUR_PREFIX

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "devset"
BINS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)


def is_held_out(source: str) -> bool:
    """The contract's split: by a hash of the item's source URL."""
    return int(hashlib.sha256(source.encode()).hexdigest(), 16) % 10 < 4


def load_items(paths: list[Path]) -> list[dict]:
    items = []
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            raise CommandError(f"{path}: a development set file is a YAML list of items")
        for number, item in enumerate(data, 1):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise CommandError(f"{path}: item {number} needs a 'text'")
            if not item.get("source"):
                raise CommandError(f"{path}: item {item.get('id', number)} needs a 'source'")
            items.append({**item, "_file": path.name})
    return items


def evaluate(items: list[dict], *, knowledge=None) -> dict:  # noqa: ANN001
    """Diagnose every item and gather the figures (no texts)."""
    results = []
    floor = model_module.parameters().related_floor
    for item in items:
        diagnosis = diagnose(item["text"], knowledge=knowledge)
        top, confidence = diagnosis.ranking[0] if diagnosis.ranking else (None, 0.0)
        # What a refusal would offer first (troubleshooter.views.diagnose._search_fallback).
        near = next(
            (s for s, c in diagnosis.ranking if c >= floor and not _neighbour(s)),
            None,
        )
        named = diagnosis.matches[0].article if diagnosis.matches else None
        results.append(
            {
                "item": item,
                "expect": item.get("expect"),
                "named": named,
                "question": diagnosis.question is not None and not diagnosis.matches,
                "top": top,
                "confidence": confidence,
                "features": diagnosis.features,
                "near": near,
            }
        )
    return {"results": results}


class Command(BaseCommand):
    help = "Evaluate the troubleshooter's diagnosis on a development set."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("files", nargs="*", type=Path)
        parser.add_argument("--part", choices=("tuning", "held-out", "all"), default="all")
        parser.add_argument(
            "--articles",
            type=Path,
            help="read the causes from this folder of articles instead of the imported ones",
        )
        parser.add_argument("--fit", action="store_true", help="refit the weights (tuning only)")
        parser.add_argument(
            "--show-errors", action="store_true", help="print the missed TUNING items"
        )
        parser.add_argument(
            "--cv",
            type=int,
            metavar="K",
            help="K-fold cross-validation on the tuning part: refit per fold, count on the rest",
        )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        files = options["files"] or sorted(DEFAULT_DIR.glob("*.yaml"))
        if not files:
            raise CommandError(f"no development set files (looked in {DEFAULT_DIR})")
        part = options["part"]
        if (options["fit"] or options["show_errors"] or options["cv"]) and part != "tuning":
            raise CommandError("--fit, --show-errors and --cv only work on --part tuning")
        if options["cv"] is not None and not 2 <= options["cv"] <= 20:
            raise CommandError("--cv takes a number of folds from 2 to 20")
        items = load_items([Path(f) for f in files])
        if part != "all":
            items = [i for i in items if is_held_out(str(i["source"])) == (part == "held-out")]
        if not items:
            raise CommandError(f"no items in the {part} part")
        knowledge = load_articles_dir(options["articles"]) if options["articles"] else None
        report = evaluate(items, knowledge=knowledge)
        self._print(report, part)
        if options["show_errors"]:
            self._errors(report)
        if options["cv"]:
            self._cross_validate(report, knowledge, options["cv"])
        if options["fit"]:
            self._fit(report, knowledge)

    # --- output ---------------------------------------------------------------------------

    def _print(self, report: dict, part: str) -> None:
        w = self.stdout.write
        results = report["results"]
        on_topic = [r for r in results if r["expect"]]
        unrelated = [r for r in results if not r["expect"]]
        w(
            f"Development set, part: {part}; {len(results)} items "
            f"({len(on_topic)} on-topic, {len(unrelated)} unrelated)"
        )
        if on_topic:
            right = sum(r["named"] == r["expect"] for r in on_topic)
            questions = sum(r["question"] for r in on_topic)
            wrong = sum(bool(r["named"]) and r["named"] != r["expect"] for r in on_topic)
            w(
                f"on-topic: right cause first {right}/{len(on_topic)} = "
                f"{right / len(on_topic):.1%}; "
                f"question {questions} ({questions / len(on_topic):.1%}); wrong cause {wrong}; "
                f"nothing {len(on_topic) - right - questions - wrong}"
            )
        if unrelated:
            refused = sum(not r["named"] for r in unrelated)
            w(f"unrelated: refused {refused}/{len(unrelated)} = {refused / len(unrelated):.1%}")
        w(f"question rate (all items): {sum(r['question'] for r in results) / len(results):.1%}")
        w("")
        w("By language (on-topic right / unrelated refused):")
        for lang in ("en", "ja", "zh"):
            own = [r for r in on_topic if r["item"].get("lang") == lang]
            other = [r for r in unrelated if r["item"].get("lang") == lang]
            a = f"{sum(r['named'] == r['expect'] for r in own)}/{len(own)}" if own else "-"
            b = f"{sum(not r['named'] for r in other)}/{len(other)}" if other else "-"
            w(f"  {lang}: {a:>8}  {b:>8}")
        refused = [r for r in results if not r["named"] and not r["question"]]
        own = [r for r in refused if r["expect"]]
        other = [r for r in refused if not r["expect"]]
        w(
            f"Refusals that offer articles (related_floor "
            f"{model_module.parameters().related_floor}): unrelated "
            f"{sum(bool(r['near']) for r in other)} of {len(other)} refused; on-topic "
            f"{sum(bool(r['near']) for r in own)} of {len(own)} refused, the right article "
            f"first {sum(r['near'] == r['expect'] for r in own)}"
        )
        w("By kind (on-topic right / unrelated refused):")
        for kind in ("error", "log", "description"):
            own = [r for r in on_topic if r["item"].get("kind") == kind]
            other = [r for r in unrelated if r["item"].get("kind") == kind]
            a = f"{sum(r['named'] == r['expect'] for r in own)}/{len(own)}" if own else "-"
            b = f"{sum(not r['named'] for r in other)}/{len(other)}" if other else "-"
            w(f"  {kind:<11}: {a:>8}  {b:>8}")
        w("")
        w("Top-1 accuracy per cause:")
        per = defaultdict(list)
        for r in on_topic:
            per[r["expect"]].append(r["named"] == r["expect"])
        for slug in sorted(per):
            hits = per[slug]
            w(f"  {slug:<45} {sum(hits):>3}/{len(hits):<3} {sum(hits) / len(hits):6.1%}")
        w("")
        pairs = Counter()
        for r in results:
            got = r["named"] or ("(question)" if r["question"] else "(refused)")
            if got != (r["expect"] or "(refused)") and not (not r["expect"] and not r["named"]):
                pairs[(r["expect"] or "(unrelated)", got)] += 1
        w("Confusion pairs (expected -> answered), most frequent first:")
        for (expect, got), count in pairs.most_common(15):
            w(f"  {count:>3}  {expect} -> {got}")
        if not pairs:
            w("  none")
        w("")
        w("Calibration: the top cause's confidence against how often it is the expected one")
        w("  (every item; an unrelated item's top cause is always wrong)")
        _calibration(w, results, answer="top")
        named = [r for r in results if r["named"]]
        w("")
        w("Answers given: the named cause's confidence against how often it is right")
        _calibration(w, named, answer="named")

    def _errors(self, report: dict) -> None:
        self.stdout.write("\nMissed TUNING items:")
        for r in report["results"]:
            if r["named"] == r["expect"] or (not r["expect"] and not r["named"]):
                continue
            item = r["item"]
            text = re.sub(r"\s+", " ", item["text"])[:220]
            self.stdout.write(
                f"- {item.get('id')} [{item.get('lang')}] expect={r['expect']} "
                f"named={r['named']} question={r['question']} top={r['top']} "
                f"{r['confidence']:.2f}\n    {text}"
            )

    def _cross_validate(self, report: dict, knowledge, folds: int) -> None:  # noqa: ANN001
        from troubleshooter.diagnosis.source import current_knowledge

        article_rows = symptom_rows(knowledge or current_knowledge())
        answers: list[dict] = []
        outcomes: list[dict] = []
        right, on, refused, off = cross_validate(
            report["results"], article_rows, folds, answers, outcomes=outcomes
        )
        w = self.stdout.write
        w(
            f"\n{folds}-fold cross-validation on the tuning part (weights and threshold refitted"
            f" per fold, questions aside): right cause first {right}/{on} = "
            f"{right / max(on, 1):.1%}; unrelated refused {refused}/{off} = "
            f"{refused / max(off, 1):.1%}"
        )
        breakdown = (("lang", ("en", "ja", "zh")), ("kind", ("error", "log", "description")))
        for key, values in breakdown:
            w(f"By {key}, held-back folds (on-topic right / unrelated refused):")
            for value in values:
                own = [o for o in outcomes if o["expect"] and o["item"].get(key) == value]
                other = [o for o in outcomes if not o["expect"] and o["item"].get(key) == value]
                a = f"{sum(o['named'] == o['expect'] for o in own)}/{len(own)}"
                b = f"{sum(not o['named'] for o in other)}/{len(other)}"
                w(f"  {value:<11}: {a:>8}  {b:>8}")
        w(
            "Answers given on the held-back folds: the calibrated confidence (knots fitted on"
            " the other folds) against how often it is right"
        )
        _calibration(w, answers, answer="named")

    def _fit(self, report: dict, knowledge) -> None:  # noqa: ANN001
        from troubleshooter.diagnosis.source import current_knowledge

        article_rows = symptom_rows(knowledge or current_knowledge())
        fitted = fit_parameters(report["results"], article_rows)
        weights, exact_confidence, best = fitted.weights, fitted.exact_confidence, fitted.best
        exact_hits, exact_all = fitted.exact_counts
        rows = fitted.rows
        path = model_module.MODEL_FILE
        text = path.read_text(encoding="utf-8")
        block = "weights:\n" + "".join(f"  {k}: {v}\n" for k, v in weights.items())
        text = re.sub(r"^weights:\n(?:  .*\n)+", block, text, count=1, flags=re.MULTILINE)
        text = _set_line(text, "threshold", best[1])
        text = _set_line(text, "neighbour_margin", fitted.neighbour_margin)
        knots = calibration_for(report["results"], fitted.parameters)
        text = _set_line(text, "calibration", [[x, y] for x, y in knots])
        text = _set_line(
            text, "exact_confidence", f"{exact_confidence}  # {exact_hits}/{exact_all} tuning items"
        )
        path.write_text(text, encoding="utf-8")
        model_module.parameters.cache_clear()
        self.stdout.write(
            f"\nFitted on {rows} (item, article) rows; threshold {best[1]}, neighbour margin "
            f"{fitted.neighbour_margin} "
            f"(min of the two rates + 1% of their sum: {best[0]:.3f}); wrote {path}:\n{block}"
        )


def _set_line(text: str, key: str, value: object) -> str:
    """The model file with its top-level ``key: ...`` line set to ``value`` (added after the
    threshold line when the file has none yet)."""
    line = f"{key}: {value}"
    if re.search(rf"^{key}: ", text, flags=re.M):
        return re.sub(rf"^{key}: .*$", lambda _m: line, text, count=1, flags=re.M)
    return re.sub(
        r"^(threshold: .*)$", lambda m: f"{m.group(1)}\n{line}", text, count=1, flags=re.M
    )


@dataclass(frozen=True)
class Fitted:
    weights: dict[str, float]
    exact_confidence: float
    exact_counts: tuple[int, int]
    best: tuple[float, float]  # (score, threshold)
    rows: int
    neighbour_margin: float = 0.0

    @property
    def parameters(self) -> model_module.Parameters:
        return model_module.Parameters(
            weights=self.weights,
            threshold=self.best[1],
            exact_confidence=self.exact_confidence,
            neighbour_margin=self.neighbour_margin,
        )


# Candidate margins: a neighbour keeps an article from being named when its confidence is at
# least the article's minus this (negative: it must be ahead by that much).
MARGINS = (-0.3, -0.2, -0.1, 0.0, 0.1, 0.2)


def symptom_rows(knowledge) -> list[tuple[dict[str, float], int]]:  # noqa: ANN001
    """The articles' own symptoms and near misses as fitting rows: an exact symptom must name
    its article, a near miss must not."""
    rows = []
    for cause in knowledge.causes:
        for text, own in [(s, True) for s in cause.symptoms] + [
            (n, False) for n in cause.near_misses
        ]:
            for slug, features in diagnose(text, knowledge=knowledge).features.items():
                if not _neighbour(slug):
                    rows.append((features, int(own and slug == cause.slug)))
    return rows


def _neighbour(slug: str) -> bool:
    return slug.startswith(NEIGHBOUR_PREFIX)


def top_output(result: dict, params: model_module.Parameters) -> tuple[float, str | None]:
    """The best article's model output for one evaluated item, and its slug."""
    features = result["features"]
    confidences, _neighbour_best = model_module.article_confidences(
        features, params, {s for s in features if _neighbour(s)}
    )
    best = max(((p, s) for s, p in confidences.items()), default=None)
    return best if best else (0.0, None)


def named_by(result: dict, params: model_module.Parameters, threshold: float) -> str | None:
    """The cause these parameters would name for one evaluated item (questions aside)."""
    p, slug = top_output(result, params)
    return slug if p >= threshold else None


def calibration_for(results: list[dict], params: model_module.Parameters):
    """Calibration knots fitted on these items' top outputs under ``params``."""
    pairs = []
    for r in results:
        p, slug = top_output(r, params)
        pairs.append((p, slug is not None and slug == r["expect"]))
    return model_module.fit_calibration(pairs)


def rates(
    results: list[dict],
    params: model_module.Parameters,
    threshold: float,
    tops: list[tuple[float, str | None]] | None = None,
):
    """(right first, on-topic items, refused, unrelated items). ``tops``: each result's
    ``top_output`` under ``params``, when the caller has them (they do not depend on the
    threshold, so a sweep over thresholds computes them once)."""
    right = refused = on = off = 0
    if tops is None:
        tops = [top_output(r, params) for r in results]
    for r, (p, slug) in zip(results, tops, strict=True):
        named = slug if p >= threshold else None
        if r["expect"]:
            on += 1
            right += named == r["expect"]
        else:
            off += 1
            refused += named is None
    return right, on, refused, off


def fit_parameters(results: list[dict], article_rows: list) -> Fitted:
    """Weights, the exact-symptom floor and the threshold, from evaluated items only."""
    rows = [
        (features, int(slug == r["expect"]))
        for r in results
        for slug, features in r["features"].items()
        if not _neighbour(slug)
    ] + article_rows
    weights = model_module.fit(rows)
    # How often an exact, leading symptom names the expected article on these items
    # (+1 smoothing): the floor of its confidence.
    exact_hits = exact_all = 0
    for r in results:
        for slug, features in r["features"].items():
            if not _neighbour(slug) and model_module.exact_lead(features):
                exact_all += 1
                exact_hits += slug == r["expect"]
    exact_confidence = round((exact_hits + 1) / (exact_all + 2), 3)
    # The threshold (and how close a neighbour may come) that best balance naming the right
    # cause and refusing the rest: they maximise the worse of the two rates; their sum breaks
    # ties, then the smaller margin (the neighbours veto no more than they must).
    best, margin = (0.0, 0.5), MARGINS[0]
    for candidate in MARGINS:
        params = model_module.Parameters(
            weights=weights, exact_confidence=exact_confidence, neighbour_margin=candidate
        )
        tops = [top_output(r, params) for r in results]
        for step in range(20, 81, 2):
            right, on, refused, off = rates(results, params, step / 100, tops)
            a, b = right / max(on, 1), refused / max(off, 1)
            score = min(a, b) + (a + b) / 100
            if score > best[0] + 1e-9:
                best, margin = (score, step / 100), candidate
    return Fitted(weights, exact_confidence, (exact_hits, exact_all), best, len(rows), margin)


def fold_of(source: str, folds: int) -> int:
    """The cross-validation fold of an item: by a hash of its source, so the items of one
    thread stay together."""
    digest = hashlib.sha256(("cv:" + source).encode()).hexdigest()
    return int(digest, 16) % folds


def cross_validate(
    results: list[dict],
    article_rows: list,
    folds: int,
    answers: list | None = None,
    *,
    outcomes: list | None = None,
) -> tuple[int, ...]:
    """Refit on all folds but one and count on that one, for each fold (folds by a hash of
    the source, ``fold_of``). Questions are left aside.

    ``answers``, when given, receives one entry per answer given on a held-back fold: its
    calibrated confidence (knots fitted on the other folds) and whether it was right.
    ``outcomes``, when given, receives every held-back item with what was named (for the
    figures per language and kind)."""
    totals = [0, 0, 0, 0]
    fold = [fold_of(str(r["item"]["source"]), folds) for r in results]
    for k in range(folds):
        train = [r for r, f in zip(results, fold, strict=True) if f != k]
        test = [r for r, f in zip(results, fold, strict=True) if f == k]
        if not train or not test:
            continue
        fitted = fit_parameters(train, article_rows)
        # The calibration changes what is shown, never the model's output or what is named.
        params = replace(fitted.parameters, calibration=calibration_for(train, fitted.parameters))
        tops = [top_output(r, params) for r in test]
        found = rates(test, params, params.threshold, tops)
        for r, (p, slug) in zip(test, tops, strict=True):
            named = slug if slug is not None and p >= params.threshold else None
            if outcomes is not None:
                outcomes.append({"item": r["item"], "expect": r["expect"], "named": named})
            if answers is not None and named:
                answers.append(
                    {
                        "confidence": model_module.calibrated(p, params),
                        "named": slug,
                        "expect": r["expect"],
                    }
                )
        totals = [a + b for a, b in zip(totals, found, strict=True)]
    return tuple(totals)


def _calibration(w, results: list[dict], *, answer: str) -> None:  # noqa: ANN001 - a writer
    """One calibration table: per confidence bin, the items and how many `answer` got right."""
    w("  confidence     items  right  observed")
    for low, high in zip(BINS, BINS[1:], strict=False):
        inside = [r for r in results if low <= r["confidence"] < high]
        if not inside:
            continue
        right = sum(r[answer] == r["expect"] for r in inside)
        w(
            f"  {low:.1f}-{min(high, 1.0):.1f}      {len(inside):>5}  {right:>5}  "
            f"{right / len(inside):8.1%}"
        )
