"""Diagnose pasted text: one calibrated answer from the articles' evidence and the tree.

``diagnose(text, knowledge=...)`` weighs, for every curated article, how much of one of its
exact symptoms a line of the text holds, its mechanism words (component, storage, effect, in
en/ja/zh), and its retrieval score (BM25 over its symptoms, reports, title and summary), plus
what the tree's questions say when the text answers them. A small logistic model
(``troubleshooter/data/diagnosis.yaml``, fitted on the tuning part of the development set)
turns that into one confidence per article. Then:

- at or above the threshold: the cause is named (several when several are confident);
- two confident causes close together: the tree's question that separates them is asked;
- below: nothing is named. A tree question the text raised is asked; else an honest
  not-covered answer, or a plain refusal (search results stay a fallback for the pages).

A question never comes together with a not-covered answer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from troubleshooter.diagnosis import model
from troubleshooter.diagnosis.evidence import (
    CauseEvidence,
    Index,
    PreparedText,
    find_term,
    prepare,
)
from troubleshooter.diagnosis.knowledge import NEIGHBOUR_PREFIX, Knowledge, neighbours_of
from troubleshooter.diagnosis.spelling import canonical_cjk
from troubleshooter.diagnosis.tree import (
    CauseNode,
    NotCoveredNode,
    QuestionNode,
    Signature,
    Tree,
    get_tree,
)

__all__ = ["Diagnosis", "Evidence", "Match", "NotCovered", "Question", "diagnose"]

# Above this confidence a cause is named even when the text leaves a tree question open.
OPEN_QUESTION_OVERRIDE = 0.85

# The features of a cause the text shows nothing of, before the tree's and the neighbours':
# the same for every such cause (its symptom, 0.0, leads nothing).
_NOTHING = {**CauseEvidence("").features(), "symptom_lead": 0.0}
# facets_together by how many of component, storage and effect occur.
_TOGETHER = (0.0, 0.0, 1.0 / 3.0, 1.0)
# Measured and rejected after it (5-fold cv on the tuning part, 2026-12-03; baseline 457/541
# right first, 593/690 refused): a facet named by one word counting half (410 / 622, the
# facets then miss real reports); a feature for the number of distinct facet words (455 /
# 593); a facet whose only words are generic_words dropped (457 / 593: no facet word is
# generic); near_miss graded from 0.7 (453 / 594) or binary from 0.8 (456 / 593).


@dataclass(frozen=True)
class Evidence:
    """Why: the user's own line (as pasted, with its line number) and the words that pointed."""

    kind: str  # "symptom" (an article's exact string), "words" (mechanism/retrieval), "tree"
    line_number: int | None = None
    line: str = ""
    symptom: str = ""
    words: tuple[str, ...] = ()
    facets: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "line_number": self.line_number,
            "line": self.line,
            "symptom": self.symptom,
            "words": list(self.words),
            "mechanism": {facet: list(words) for facet, words in self.facets},
        }


@dataclass(frozen=True)
class Match:
    """A known cause that fits the text."""

    article: str
    section: str
    confidence: float
    title: str
    node: str | None = None  # the tree's cause node, when the tree has one for it
    evidence: tuple[Evidence, ...] = ()
    via_question: str | None = None
    software_note: str = ""  # "the mechanism fits, but the text names other software"

    @property
    def line(self) -> str:
        return next((e.line for e in self.evidence if e.line), "")


@dataclass(frozen=True)
class Question:
    """The question that separates the causes the text may have."""

    node: str
    text: str
    options: tuple[tuple[str, str, str | None], ...]  # (label, target node, article or None)
    help: str = ""


@dataclass(frozen=True)
class NotCovered:
    """A recognized error whose cause this knowledge base does not cover."""

    node: str
    title: str
    advice: str


@dataclass(frozen=True)
class Diagnosis:
    matches: tuple[Match, ...] = ()
    question: Question | None = None
    not_covered: tuple[NotCovered, ...] = ()
    # Every article's confidence, best first (for evaluation and the search page's ranking).
    ranking: tuple[tuple[str, float], ...] = field(default=(), compare=False)
    lines: tuple[str, ...] = field(default=(), compare=False)
    cut: bool = field(default=False, compare=False)
    # Every article's features (for fitting the model on the tuning set).
    features: dict[str, dict[str, float]] = field(default_factory=dict, compare=False)

    @property
    def known(self) -> bool:
        """True when at least one known cause is named."""
        return bool(self.matches)

    @property
    def top_confidence(self) -> float:
        return self.ranking[0][1] if self.ranking else 0.0


class _Words:
    """Whole-word look-ups in the kept text (``find_term``), cached."""

    def __init__(self, lowered: str):
        self._text = lowered
        self._cache: dict[str, bool] = {}

    def __contains__(self, word: str) -> bool:
        if word not in self._cache:
            # The text is read as canonical_cjk reads it; a word of the tree is spelled so too.
            self._cache[word] = find_term(self._text, canonical_cjk(word)) != -1
        return self._cache[word]


def _tree_hits(tree: Tree, prepared: PreparedText) -> list[tuple[Signature, int]]:
    """The tree's signatures that match a kept line: (signature, line index)."""
    hits = []
    lines = prepared.normalized
    for signature in tree.signatures:
        probes = signature.probes
        for index, line in enumerate(lines):
            for probe in probes:  # a loop, not any(): no generator per signature and line
                if probe in line:
                    break
            else:
                continue
            if signature.pattern.search(line):
                hits.append((signature, index))
                break
    return hits


def _resolve(tree: Tree, node_id: str, words: _Words, places: dict[str, list[str]]):
    """Follow questions whose answer the text gives: exactly one option's words occur or,
    when none does, exactly one option leads to an article whose mechanism "where" (its
    storage facet: huge pages, an NFS share, a PVC) the text names (``places``: article ->
    storage words found)."""
    node = tree.node(node_id)
    via = None
    seen = set()
    while isinstance(node, QuestionNode) and node.id not in seen:
        seen.add(node.id)
        answered = [o for o in node.options if any(word in words for word in o.when)]
        if not answered:
            answered = [o for o in node.options if places.get(_option_article(tree, o.target))]
        if len(answered) != 1:
            break
        via = via or node.id
        node = tree.node(answered[0].target)
    return node, via


def _text_answers(tree: Tree, node: QuestionNode, slug: str, words: _Words) -> bool:
    """Whether the text names the option of ``node`` that leads to ``slug`` ("Bus error" with
    huge pages): then the confident answer is the text's own answer to the question, even
    when words of another option occur too (a /dev/shm volume mapped beside the huge pages).
    """
    return any(
        _option_article(tree, o.target) == slug and any(word in words for word in o.when)
        for o in node.options
    )


def _option_article(tree: Tree, target: str) -> str | None:
    node = tree.nodes.get(target)
    return node.article if isinstance(node, CauseNode) else None


def _question(tree: Tree, node: QuestionNode) -> Question:
    return Question(
        node=node.id,
        text=node.text,
        help=node.help,
        options=tuple((o.label, o.target, _option_article(tree, o.target)) for o in node.options),
    )


def _close_pair(scored: list[tuple[float, str]], close: float) -> tuple[str, str] | None:
    """The two best slugs when they are within ``close`` of each other (best first)."""
    if len(scored) >= 2 and scored[0][0] - scored[1][0] < close:
        return scored[0][1], scored[1][1]
    return None


def _primary_nodes(tree: Tree) -> dict[str, str]:
    """The first cause node of each article: where a match without a question leads."""
    primary: dict[str, str] = {}
    for node in tree.nodes.values():
        if isinstance(node, CauseNode):
            primary.setdefault(node.article, node.id)
    return primary


def diagnose(
    text: str, *, knowledge: Knowledge | None = None, tree: Tree | None = None
) -> Diagnosis:
    """The diagnosis of pasted text (a line, a log, ``kubectl describe`` output, a description).

    ``knowledge`` defaults to the imported articles (``troubleshooter.diagnosis.source``).
    """
    tree = tree or get_tree()
    if knowledge is None:
        from troubleshooter.diagnosis.source import current_knowledge

        knowledge = current_knowledge()
    index = model.index_for(knowledge, neighbours_of(tree))
    params = model.parameters()
    if not text or not text.strip():
        return Diagnosis()
    prepared = prepare(text, keep=index.names_mechanism, setup=index.setup_sentence)
    if not prepared.originals:
        return Diagnosis()
    words = _Words(prepared.lowered)
    # Only the causes the text shows anything of: the others' features are ``_NOTHING``'s
    # but for the tree's and the neighbours' (``nothing_shown`` below).
    evidence = index.shown(prepared)

    # The tree: questions raised by signatures, answered by words where the text says which.
    tree_article: dict[str, tuple[str, str | None]] = {}  # article -> (cause node, via question)
    option_articles: set[str] = set()
    open_questions: list[QuestionNode] = []
    not_covered: dict[str, NotCovered] = {}
    places = {slug: found.facets.get("storage") for slug, found in evidence.items()}
    not_covered_lines: set[int] = set()
    for signature, line in _tree_hits(tree, prepared):
        node, via = _resolve(tree, signature.target, words, places)
        if isinstance(node, CauseNode):
            tree_article.setdefault(node.article, (node.id, via))
        elif isinstance(node, QuestionNode):
            if node not in open_questions:
                open_questions.append(node)
            for option in node.options:
                article = _option_article(tree, option.target)
                if article:
                    option_articles.add(article)
        elif isinstance(node, NotCoveredNode):
            not_covered_lines.add(line)
            if node.id not in not_covered:
                not_covered[node.id] = NotCovered(node.id, node.title, node.advice)

    neighbour_slugs = index.neighbour_slugs
    features_of = {slug: found.features() for slug, found in evidence.items()}
    # Padded with zeros: a knowledge base of one article leads nobody, and a cause the text
    # shows nothing of scores 0.0 (only the two best scores are read). A symptom that one of
    # its article's own near misses fits as well is explained away: it leads nothing.
    # An article's lead is over the other articles only: a neighbour's message on the same
    # line (a scheduler line giving a taint and "Too many pods") weighs through the neighbour
    # features, and must not take the protection of the article's own exact message away.
    leading = [e for e in evidence.values() if not features_of[e.slug]["near_miss"]]
    symptom_scores = [*sorted((e.symptom for e in leading), reverse=True), 0.0, 0.0]
    article_scores = [
        *sorted((e.symptom for e in leading if e.slug not in neighbour_slugs), reverse=True),
        0.0,
        0.0,
    ]
    # The neighbours (mechanisms next to ours that the tree describes) are weighed like the
    # articles; the best of them competes with every article (model.article_confidences).
    # Scores are never negative: a neighbour the text shows nothing of changes no maximum.
    shown_neighbours = [found for found in evidence.values() if found.slug in neighbour_slugs]
    neighbour_bm25 = max((found.bm25 for found in shown_neighbours), default=0.0)
    # The same among the neighbours whose own mechanism words occur in the text: a neighbour
    # that shares only common words ("limit", "node") with the text explains nothing.
    neighbour_mechanism = max(
        (found.bm25 for found in shown_neighbours if _mechanism_words(found)), default=0.0
    )
    neighbour_symptom = max((found.symptom for found in shown_neighbours), default=0.0)

    # A cause the text shows nothing of: one set of features per tree answer, and one model
    # output for it, shared by every such cause.
    nothing: dict[tuple[bool, float], tuple[dict[str, float], float]] = {}
    nothing_article = {
        "not_covered": 1.0 if not_covered_lines else 0.0,  # its symptom is below 0.6
        "neighbour_bm25": 0.0,  # its own BM25 is 0.0
        "neighbour_mechanism": 0.0,
        "neighbour_symptom": neighbour_symptom if neighbour_symptom > 0.6 else 0.0,
        "facets_together": 0.0,
    }

    def nothing_shown(neighbour: bool, tree_answer: float) -> tuple[dict[str, float], float]:
        key = (neighbour, tree_answer)
        if key not in nothing:
            rest = {"not_covered": 0.0} if neighbour else nothing_article
            features = {**_NOTHING, "tree": tree_answer, **rest}
            nothing[key] = (features, model.confidence(features, params))
        return nothing[key]

    # The tree's answer for a cause: its cause node reached (1.0), an option of a question it
    # raised (0.4, articles only), else 0.0.
    reached = {NEIGHBOUR_PREFIX + node_id for node_id in not_covered}
    answers = dict.fromkeys(option_articles, 0.4) | dict.fromkeys(tree_article, 1.0)
    all_features: dict[str, dict[str, float]] = {}
    known: dict[str, float] = {}  # the model's output for the articles the text shows nothing of
    # Most causes are neighbours the text shows nothing of and the tree did not reach.
    plain_neighbour = nothing_shown(True, 0.0)[0]
    for slug, neighbour in index.kinds:
        found = evidence.get(slug)
        if found is None and neighbour and slug not in reached:
            all_features[slug] = plain_neighbour.copy()
            continue
        tree_answer = (1.0 if slug in reached else 0.0) if neighbour else answers.get(slug, 0.0)
        if found is None:
            features, output = nothing.get((neighbour, tree_answer)) or nothing_shown(
                neighbour, tree_answer
            )
            all_features[slug] = features.copy()
            if not neighbour:
                known[slug] = output
            continue
        features = features_of[slug]
        # How far this cause's best symptom leads every other cause's (an article: every other
        # article's).
        scores = symptom_scores if neighbour else article_scores
        others = scores[1] if found.symptom == scores[0] else scores[0]
        features["symptom_lead"] = max(0.0, found.symptom - others) if found.symptom >= 0.6 else 0.0
        features["tree"] = tree_answer
        if neighbour:
            features["not_covered"] = 0.0
            all_features[slug] = features
            continue
        # A mechanism we do not cover speaks against the articles whose evidence is on its line,
        # or spread over the whole text; in a log, another line's own symptom is its own story.
        against = bool(not_covered_lines) and (
            found.symptom < 0.6 or found.symptom_line in not_covered_lines
        )
        features["not_covered"] = 1.0 if against else 0.0
        # How well the best neighbour explains the text beside this article: its retrieval
        # score against this article's, and its own message when it fits better than ours.
        features["neighbour_bm25"] = (
            min(1.0, neighbour_bm25 / found.bm25) if found.bm25 > 0 else 0.0
        )
        features["neighbour_mechanism"] = (
            min(1.0, neighbour_mechanism / found.bm25) if found.bm25 > 0 else 0.0
        )
        features["neighbour_symptom"] = (
            neighbour_symptom if neighbour_symptom > max(found.symptom, 0.6) else 0.0
        )
        # How many facets of the mechanism occur together: 0 for none or one, 1/3 for two of
        # component, storage and effect, 1 for all three. Tested as "all three together is
        # strong", the fit gave it a negative weight (-1.05 on the tuning part, with each
        # facet's own weight higher): the facets are not independent evidence, and a near
        # miss of the same family names all three as readily (an nginx cache on NFS that
        # serves stale files). Articles only (a neighbour's confidence is left as it was).
        # 5-fold cross-validation on the tuning part: 460/541 right first and 592/690
        # refused, from 459 and 589; over three fold seeds 1381/1623 and 1767/2070, from
        # 1382 and 1761 (a small gain, near the noise).
        together = sum(features[facet] for facet in ("component", "storage", "effect"))
        features["facets_together"] = _TOGETHER[int(together)]
        all_features[slug] = features
    # The best neighbour, (confidence, slug) as model.article_confidences finds it: among the
    # neighbours the text shows nothing of, those of one tree answer tie, and of a tie the
    # greatest slug is the best.
    neighbour_best, neighbour_slug = 0.0, ""
    candidates = [
        (model.confidence(all_features[found.slug], params), found.slug)
        for found in shown_neighbours
    ]
    for tree_answer, slug in _greatest_nothing_shown(index, evidence, reached):
        candidates.append((nothing_shown(True, tree_answer)[1], slug))
    if candidates:
        neighbour_best, neighbour_slug = max([(neighbour_best, neighbour_slug), *candidates])
    confidences = model.scaled_confidences(
        all_features, params, index.article_slugs, neighbour_best, known
    )
    neighbour_id = neighbour_slug.removeprefix(NEIGHBOUR_PREFIX)
    scored = [(p, slug) for slug, p in confidences.items()]
    scored.sort(key=lambda item: (-item[0], item[1]))
    # What a person reads is the calibrated confidence; decisions below work on the output.
    # Articles the text shows nothing of share one output: each output is mapped once.
    shown_as: dict[float, float] = {}
    for p, _slug in scored:
        if p not in shown_as:
            shown_as[p] = round(model.calibrated(p, params), 3)
    ranking = tuple((slug, shown_as[p]) for p, slug in scored)

    threshold = params.threshold
    question: Question | None = None
    confident = [(p, slug) for p, slug in scored if p >= threshold]
    matches: list[Match] = []

    if confident and open_questions and not all_features[confident[0][1]]["exact"]:
        # The text raised a question it does not answer (a bare "Bus error"): unless the
        # evidence is overwhelming, the tree's question is the honest answer.
        top_p, top_slug = confident[0]
        for node in open_questions:
            if (
                top_slug in {_option_article(tree, o.target) for o in node.options}
                and top_p < OPEN_QUESTION_OVERRIDE
                and not _text_answers(tree, node, top_slug, words)
            ):
                question = _question(tree, node)
                confident = []
                break
    close_pair = _close_pair(confident, params.close)
    if close_pair is None and len(confident) < 2:
        # Two articles whose own message the text holds whole, tied: the tie itself keeps
        # each one's confidence low (no lead, no margin), yet the text is surely one of the
        # two. That is what the tree's question is for, not a refusal.
        exact = [(p, slug) for p, slug in scored if all_features[slug]["exact"]]
        pair = _close_pair(exact, params.close)
        if pair is not None and (not confident or confident[0][1] in pair):
            close_pair = pair
    if close_pair is not None:
        pair = set(close_pair)
        separating = _separating_question(tree, pair, open_questions)
        if separating is not None:
            question = _question(tree, separating)
            confident = []
    primary = _primary_nodes(tree) if confident else {}
    for p, slug in confident:
        cause = knowledge.cause(slug)
        if cause is None:
            continue
        found = evidence.get(slug) or CauseEvidence(slug)
        node_id, via = tree_article.get(slug, (primary.get(slug), None))
        node = tree.nodes.get(node_id) if node_id else None
        matches.append(
            Match(
                article=slug,
                section=node.section if isinstance(node, CauseNode) else "cause",
                confidence=round(model.calibrated(p, params), 2),
                title=cause.title,
                node=node_id,
                evidence=_evidence_for(index, prepared, found, via),
                via_question=via,
                software_note=_software_note(index, slug, words, params.software, found),
            )
        )
    if not matches and question is None and open_questions:
        # Nothing confident, but the text raised a question: ask it (never with "not covered").
        question = _question(tree, open_questions[0])
    if neighbour_best >= threshold and not matches and neighbour_id not in not_covered:
        # The text is a neighbour's: refuse with its advice (first, it explains the text best).
        node = tree.node(neighbour_id)
        not_covered = {neighbour_id: NotCovered(node.id, node.title, node.advice), **not_covered}
    # A named cause answers the text's open questions: they are not shown with it.
    return Diagnosis(
        matches=tuple(matches),
        question=question,
        not_covered=() if (matches or question) else tuple(not_covered.values()),
        ranking=ranking,
        lines=prepared.originals,
        cut=prepared.cut,
        features=all_features,
    )


def _mechanism_words(found: CauseEvidence) -> bool:
    """Whether the text names the cause's program or its effect: its place alone (NFS, a
    share), which many causes have in common, or its context does not tell it apart."""
    return bool(found.facets.get("component") or found.facets.get("effect"))


def _greatest_nothing_shown(
    index: Index, shown: Collection[str], reached: set[str]
) -> list[tuple[float, str]]:
    """Of the neighbours the text shows nothing of, the greatest slug of those whose
    not-covered node the tree reached (tree answer 1.0; ``reached``: their slugs) and of the
    others (0.0)."""
    result = []
    for tree_answer, order in (
        (0.0, index.neighbours_descending),
        (1.0, sorted(reached & index.neighbour_slugs, reverse=True)),
    ):
        for slug in order:
            if slug not in shown and (slug in reached) == bool(tree_answer):
                result.append((tree_answer, slug))
                break
    return result


def _separating_question(
    tree: Tree, pair: set[str], open_questions: list[QuestionNode]
) -> QuestionNode | None:
    """A question whose options lead to both articles: first one the text raised, else any."""
    candidates = list(open_questions) + [
        n for n in tree.nodes.values() if isinstance(n, QuestionNode) and n.id != tree.start
    ]
    for node in candidates:
        articles = {_option_article(tree, o.target) for o in node.options}
        if pair <= articles:
            return node
    return None


def _evidence_for(
    index: Index, prepared: PreparedText, found, via: str | None
) -> tuple[Evidence, ...]:
    items: list[Evidence] = []
    if found.symptom >= 0.6 and found.symptom_line >= 0:
        i = found.symptom_line
        items.append(
            Evidence(
                kind="symptom",
                line_number=prepared.numbers[i],
                line=prepared.originals[i],
                symptom=found.symptom_text,
            )
        )
    # The context words (Kubernetes, a Service) say where, not what, and the words of a fix
    # already applied speak against the cause: neither is shown as the mechanism.
    facets = tuple(
        (facet, tuple(terms))
        for facet, terms in sorted(found.facets.items())
        if facet in ("component", "storage", "effect")
    )
    line_index, line_words = index.best_line(prepared, found.slug)
    if not items and line_index >= 0:
        items.append(
            Evidence(
                kind="words",
                line_number=prepared.numbers[line_index],
                line=prepared.originals[line_index],
                words=tuple(line_words[:12]),
                facets=facets,
            )
        )
    elif facets:
        items.append(Evidence(kind="words", facets=facets, words=tuple(line_words[:12])))
    if via:
        items.append(Evidence(kind="tree", words=(via,)))
    return tuple(items)


def _software_note(index: Index, slug: str, words: _Words, software, found) -> str:
    """Name the software when the mechanism is this article's but the program is another."""
    if found.symptom >= 0.999 or found.facets.get("component"):
        return ""
    components = {t.rstrip("*") for t in index.component_terms(slug)}  # read as texts are
    if not components & set(software):
        return ""  # the article is not about one program (a ConfigMap, a Service)
    others = [name for name in software if name not in components and name in words]
    return others[0] if others else ""
