"""Evidence from labelled real reports: how close a text is to the reports of each article.

The other evidence (``evidence.py``) is what the articles say a cause looks like. This one is
what people actually pasted: every item of the TUNING part of the development set
(``troubleshooter/data/devset/*.yaml``, split by ``is_held_out``) is an example, labelled with
its article's slug or as unrelated. A text is compared with every example by the cosine of
their TF-IDF vectors over the tokens ``evidence.prepare`` makes (stemmed words, CJK bigrams,
from the same kept lines), and each article gets a few features for the confidence model:

- ``example_best``: the cosine of the nearest example of the article;
- ``example_top``: the mean cosine of its three nearest examples (missing ones count 0);
- ``example_share``: the article's part of the similarity of the ``K`` nearest examples,
  unrelated ones included, times ``example_best`` (a share alone would be 1.0 for a text
  that is only faintly like one example);
- ``example_lead`` / ``example_behind``: how far the article's nearest example is ahead of /
  behind the nearest unrelated example.

Why the examples are read from the development set at runtime rather than copied into the
articles: the items already carry their article, their language, their kind and the source
URL they paraphrase or quote, and the unrelated items (most of the examples) belong to no
article at all. One place keeps the split honest: only tuning items are examples, so the
held-out part measures the model on reports it never saw. An article without examples (a
team's new article) gets none of these features and is weighed by the others alone.

No leakage: ``ExampleIndex.view(exclude_sources=...)`` leaves out every example of the given
sources. ``evaluate_diagnosis`` computes each tuning item's features without the examples
of its own source, and ``--cv`` builds one index per fold from the training folds only.

Cost: the index is built once per knowledge generation (``index_for``). A text is reduced to
at most ``evidence.MAX_LINES`` lines first; its distinct tokens walk an inverted index whose
commonest tokens (in more than ``COMMON`` of the examples, weighing little) are left out, so a
text costs at most its distinct tokens times the examples holding each.

No Django imports.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from troubleshooter.diagnosis.evidence import PreparedText, prepare
from troubleshooter.diagnosis.knowledge import Knowledge

__all__ = [
    "DEVSET_DIR",
    "EXAMPLE_FEATURES",
    "NO_EXAMPLES",
    "Example",
    "ExampleIndex",
    "ExampleView",
    "index_for",
    "is_held_out",
    "query_tokens",
    "tuning_examples",
]

DEVSET_DIR = Path(__file__).resolve().parents[1] / "data" / "devset"
EXAMPLE_FEATURES = (
    "example_best",
    "example_top",
    "example_share",
    "example_lead",
    "example_behind",
)
UNRELATED = ""  # the label of an example no article explains
K = 10  # nearest examples for ``example_share``
TOP = 3  # nearest examples of one article for ``example_top``
COMMON = 0.3  # a token in more than this share of the examples is left out of the index


def is_held_out(source: str) -> bool:
    """The development set's split: by a hash of the item's source URL (40 % held out)."""
    return int(hashlib.sha256(source.encode()).hexdigest(), 16) % 10 < 4


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # an article's slug, or UNRELATED
    source: str


def query_tokens(prepared: PreparedText) -> frozenset[str]:
    """The distinct tokens of the kept lines: what a text is compared by."""
    lines = prepared.line_tokens
    return frozenset().union(*lines) if lines else frozenset()


def _text_tokens(text: str) -> frozenset[str]:
    return query_tokens(prepare(text)) if text.strip() else frozenset()


class ExampleIndex:
    """TF-IDF vectors of the examples, inverted (token -> [(example, weight)])."""

    def __init__(self, examples: Iterable[Example]):
        self.examples = tuple(examples)
        vectors = [_text_tokens(e.text) for e in self.examples]
        count = len(vectors)
        df: dict[str, int] = defaultdict(int)
        for vector in vectors:
            for token in vector:
                df[token] += 1
        # Smoothed idf; the commonest tokens weigh little and would make every text touch
        # most of the examples: they are left out.
        limit = max(2, COMMON * count)
        self._idf = {t: math.log(1 + count / n) for t, n in df.items() if n <= limit}
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for number, vector in enumerate(vectors):
            weights = {t: self._idf[t] for t in vector if t in self._idf}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for token, weight in weights.items():
                self._postings[token].append((number, weight / norm))
        self._postings = dict(self._postings)
        self.labels = tuple(e.label for e in self.examples)
        self._by_source: dict[str, list[int]] = defaultdict(list)
        for number, example in enumerate(self.examples):
            self._by_source[example.source].append(number)
        self.articles = frozenset(label for label in self.labels if label != UNRELATED)
        self.whole = ExampleView(self)

    def sources(self) -> frozenset[str]:
        return frozenset(self._by_source)

    def view(self, exclude_sources: Collection[str] = ()) -> ExampleView:
        """The index without the examples of ``exclude_sources`` (leave-source-out)."""
        if not exclude_sources:
            return self.whole
        excluded = frozenset(n for s in exclude_sources for n in self._by_source.get(s, ()))
        return ExampleView(self, excluded)

    def similarities(self, query: Collection[str], excluded: Collection[int]) -> dict[int, float]:
        """Cosine of the text's vector with every example that shares a token with it."""
        weights = {t: self._idf[t] for t in query if t in self._idf}
        if not weights:
            return {}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        scores: dict[int, float] = {}
        get = scores.get
        for token, weight in weights.items():
            w = weight / norm
            for number, other in self._postings[token]:
                scores[number] = get(number, 0.0) + w * other
        for number in excluded:
            scores.pop(number, None)
        return scores


@dataclass(frozen=True)
class ExampleView:
    """An example index seen without some of its examples (``ExampleIndex.view``)."""

    index: ExampleIndex | None
    excluded: frozenset[int] = frozenset()

    def features(self, prepared: PreparedText) -> dict[str, dict[str, float]]:
        """The example features of each article some example of which shares a token with
        the text (every other article's are all zero)."""
        if self.index is None:
            return {}
        scores = self.index.similarities(query_tokens(prepared), self.excluded)
        if not scores:
            return {}
        labels = self.index.labels
        per_label: dict[str, list[float]] = defaultdict(list)
        for number, score in scores.items():
            per_label[labels[number]].append(score)
        nearest = heapq.nlargest(K, scores.items(), key=lambda item: (item[1], -item[0]))
        total = sum(score for _n, score in nearest) or 1.0
        near_share: dict[str, float] = defaultdict(float)
        for number, score in nearest:
            near_share[labels[number]] += score / total
        unrelated = max(per_label.get(UNRELATED, ()), default=0.0)
        result = {}
        for label, values in per_label.items():
            if label == UNRELATED:
                continue
            top = heapq.nlargest(TOP, values)
            best = top[0]
            result[label] = {
                "example_best": best,
                "example_top": sum(top) / TOP,
                "example_share": near_share.get(label, 0.0) * best,
                "example_lead": max(0.0, best - unrelated),
                "example_behind": max(0.0, unrelated - best),
            }
        return result


NO_EXAMPLES = ExampleView(None)


def tuning_examples(
    items: Iterable[dict], articles: Collection[str] | None = None
) -> list[Example]:
    """Examples from development set items: the TUNING part only (``is_held_out``), labelled
    with their article (``expect``), or unrelated. With ``articles``, an item of an article
    not among them is left out (its article is not in this knowledge base)."""
    examples = []
    for item in items:
        source = str(item.get("source") or "")
        text = item.get("text")
        if not source or not isinstance(text, str) or is_held_out(source):
            continue
        label = item.get("expect") or UNRELATED
        if label != UNRELATED and articles is not None and label not in articles:
            continue
        examples.append(Example(unicodedata.normalize("NFC", text), str(label), source))
    return examples


def read_devset(directory: Path = DEVSET_DIR) -> list[dict]:
    """Every item of the development set files (a file that is not a list is skipped)."""
    items: list[dict] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if isinstance(data, list):
            items.extend(i for i in data if isinstance(i, dict))
    return items


_lock = threading.Lock()
_indexes: dict[frozenset[str], ExampleIndex] = {}
_devset: list[list[dict]] = []


def index_for(knowledge: Knowledge) -> ExampleIndex:
    """The example index of a knowledge generation: the tuning items of its articles and the
    unrelated ones, built once (the development set files are read once per process)."""
    slugs = frozenset(c.slug for c in knowledge.causes)  # what the examples depend on
    index = _indexes.get(slugs)
    if index is None:
        with _lock:
            if not _devset:
                _devset.append(read_devset())
            index = ExampleIndex(tuning_examples(_devset[0], slugs))
            if len(_indexes) > 8:
                _indexes.clear()
            _indexes[slugs] = index
    return index


def fold_index(items: Sequence[dict], articles: Collection[str] | None = None) -> ExampleIndex:
    """An index of exactly these items' examples (the training folds of a cross-validation)."""
    return ExampleIndex(tuning_examples(items, articles))
