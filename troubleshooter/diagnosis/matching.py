"""Match pasted error text against the tree's signatures.

``diagnose(text)`` returns the known causes that fit, best first, each with a confidence; a
question when a signature fits several causes and the text does not say which; or nothing at all
(``Diagnosis.known`` is false) when no specific signature matches. Refusing is a feature: an
``OOMKilled`` or ``Insufficient cpu`` is not one of our causes, and a guess would mislead.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field

from kb.errortext import MAX_LINE_CHARS, normalize
from troubleshooter.diagnosis.tree import (
    CauseNode,
    NotCoveredNode,
    QuestionNode,
    Signature,
    Tree,
    get_tree,
)

__all__ = ["Diagnosis", "Match", "NotCovered", "Question", "diagnose"]

# Below this a match is too unspecific to name a cause.
MIN_CONFIDENCE = 0.4
# A cause reached by answering a question from context words is a little less certain than one
# named by its own signature.
_CONTEXT_RESOLVED_FACTOR = 0.9
_CONTEXT_BONUS = 0.04
_MAX_CONTEXT_BONUS = 0.08


@dataclass(frozen=True)
class Match:
    """A known cause that fits the text."""

    node: str
    article: str
    section: str
    confidence: float
    signature: str  # signature id
    signature_text: str
    title: str
    line: str  # the normalized line that matched
    via_question: str | None = None


@dataclass(frozen=True)
class Question:
    """The question that separates the causes a signature fits."""

    node: str
    text: str
    options: tuple[tuple[str, str], ...]  # (label, target node id)
    signature: str = ""


@dataclass(frozen=True)
class NotCovered:
    """A recognized error whose cause this knowledge base does not cover."""

    node: str
    title: str
    advice: str
    signature: str


@dataclass(frozen=True)
class Diagnosis:
    matches: tuple[Match, ...] = ()
    question: Question | None = None
    not_covered: tuple[NotCovered, ...] = ()
    lines: tuple[str, ...] = field(default=(), compare=False)

    @property
    def known(self) -> bool:
        """True when at least one known cause matched."""
        return bool(self.matches)


def diagnose(text: str, *, tree: Tree | None = None) -> Diagnosis:
    """Return the diagnosis for pasted error text (a log, ``kubectl describe`` output, a line)."""
    tree = tree or get_tree()
    lowered = unicodedata.normalize("NFKC", text).lower()
    lines = _candidate_lines(lowered, tree)
    if not lines:
        return Diagnosis()
    normalized_lines = normalize("\n".join(lines)).split("\n")
    context = _ContextWords(lowered)

    matches: dict[str, Match] = {}
    questions: list[tuple[float, Question]] = []
    not_covered: dict[str, NotCovered] = {}
    for signature in tree.signatures:
        line = _first_match(signature, normalized_lines)
        if line is None:
            continue
        confidence = _confidence(signature, context)
        if confidence < MIN_CONFIDENCE:
            continue
        node, via, confidence = _resolve(tree, signature.target, context, confidence)
        if isinstance(node, CauseNode):
            match = Match(
                node=node.id,
                article=node.article,
                section=node.section,
                confidence=round(confidence, 2),
                signature=signature.id,
                signature_text=signature.text,
                title=node.title,
                line=line,
                via_question=via,
            )
            best = matches.get(node.id)
            if best is None or match.confidence > best.confidence:
                matches[node.id] = match
        elif isinstance(node, QuestionNode):
            question = Question(
                node=node.id,
                text=node.text,
                options=tuple((o.label, o.target) for o in node.options),
                signature=signature.id,
            )
            questions.append((confidence, question))
        elif isinstance(node, NotCoveredNode) and node.id not in not_covered:
            not_covered[node.id] = NotCovered(node.id, node.title, node.advice, signature.id)

    ranked = tuple(sorted(matches.values(), key=lambda m: (-m.confidence, m.node)))
    # A question whose answer is already among the matches has been answered.
    open_questions = [
        (confidence, q)
        for confidence, q in questions
        if not any(target in matches for _label, target in q.options)
    ]
    question = max(open_questions, key=lambda item: item[0])[1] if open_questions else None
    return Diagnosis(
        matches=ranked,
        question=question,
        not_covered=tuple(not_covered.values()),
        lines=tuple(lines),
    )


def _candidate_lines(lowered: str, tree: Tree) -> list[str]:
    """Return the lines that contain a probe word of some signature, in order, deduplicated.

    ``str.find`` per probe keeps this linear and fast on a 2 MB paste; only these lines are then
    normalized and matched.
    """
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", lowered))
    hits: set[int] = set()
    for probe in {p for s in tree.signatures for p in s.probes}:
        position = lowered.find(probe)
        while position != -1:
            index = bisect.bisect_right(starts, position) - 1
            hits.add(index)
            # Skip to the next line: one hit per line is enough.
            next_start = starts[index + 1] if index + 1 < len(starts) else len(lowered)
            position = lowered.find(probe, next_start)
    lines = []
    seen = set()
    for index in sorted(hits):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(lowered)
        line = lowered[starts[index] : end].strip()[:MAX_LINE_CHARS]
        if line and line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


def _first_match(signature: Signature, lines: list[str]) -> str | None:
    for line in lines:
        if any(probe in line for probe in signature.probes) and signature.pattern.search(line):
            return line
    return None


class _ContextWords:
    """Whole-word look-ups in the pasted text, cached; ``str.find`` keeps each one linear."""

    def __init__(self, lowered: str):
        self._text = lowered
        self._cache: dict[str, bool] = {}

    def __contains__(self, word: str) -> bool:
        if word not in self._cache:
            self._cache[word] = self._find(word)
        return self._cache[word]

    def _find(self, word: str) -> bool:
        text = self._text
        check_before = _is_word_char(word[:1])
        check_after = _is_word_char(word[-1:])
        position = text.find(word)
        while position != -1:
            end = position + len(word)
            before_ok = not check_before or position == 0 or not _is_word_char(text[position - 1])
            after_ok = not check_after or end == len(text) or not _is_word_char(text[end])
            if before_ok and after_ok:
                return True
            position = text.find(word, position + 1)
        return False


def _is_word_char(char: str) -> bool:
    return bool(char) and (char.isalnum() or char == "_")


def _confidence(signature: Signature, context: _ContextWords) -> float:
    base = min(0.9, 0.35 + signature.specificity / 80)
    bonus = min(
        _MAX_CONTEXT_BONUS, _CONTEXT_BONUS * sum(word in context for word in signature.context)
    )
    return min(0.99, base + bonus)


def _resolve(
    tree: Tree, node_id: str, context: _ContextWords, confidence: float
) -> tuple[CauseNode | QuestionNode | NotCoveredNode, str | None, float]:
    """Follow questions whose answer the text gives (exactly one option's words occur)."""
    node = tree.node(node_id)
    via = None
    seen = set()
    while isinstance(node, QuestionNode) and node.id not in seen:
        seen.add(node.id)
        answered = [o for o in node.options if any(word in context for word in o.when)]
        if len(answered) != 1:
            break
        via = via or node.id
        confidence *= _CONTEXT_RESOLVED_FACTOR
        node = tree.node(answered[0].target)
    return node, via, confidence
