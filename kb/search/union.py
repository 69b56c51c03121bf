"""The OR of a search query: Whoosh's array union, visiting only the documents that matched.

Whoosh's `ArrayUnionMatcher` (whoosh-reloaded 2.7.5, `whoosh/matching/combo.py`) adds every
clause's scores into an array of 2 048 documents at a time, then walks the array slot by slot
in Python to find the next scored document, and clears it slot by slot before the next part:
a pass over every document of the index per query, whatever matched. `SparseUnionOr` keeps
the array and the order in which scores are added (so every score is the same float), but
remembers which slots were scored and visits only those: the cost follows the postings read,
not the size of the index.

A clause that is a single term (most of them) is read a block at a time: its postings are
scored in one loop with BM25F's own formula (`whoosh/scoring.py`, `bm25`), in the same
operations and order, instead of five method calls per posting through the matcher and its
scorer (`is_active`, `id`, `score` -> `weight`, `dfl`, `next`). An AND of terms is walked
the same way: its rarest term's postings lead, the others skip to each of them (by bisection
inside a block), and a document holding them all is scored by the AND's own tree of sums.
The sums are the same floats. For the top N (`SparseUnionOr.top_matcher`) such an AND is
not built as Whoosh's matcher tree at all, whose construction already walks the postings to
the first common document (`_LeanAnd`), and no term gets Whoosh's scorer (`_lean_term`).
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, bisect_right
from math import log
from operator import itemgetter

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.binary import IntersectionMatcher
from whoosh.matching.combo import ArrayUnionMatcher, CombinationMatcher
from whoosh.matching.mcore import ListMatcher, NullMatcher
from whoosh.matching.wrappers import WrappingMatcher
from whoosh.query import And, Phrase, Term
from whoosh.query.compound import PreloadedOr
from whoosh.reading import ReaderClosed
from whoosh.scoring import BM25F, BM25FScorer
from whoosh.util import make_weighted_tree

from kb.search.reading import _TermsOnce, holds_all, length_norms


def _term_plan(matcher, perdoc):  # noqa: ANN001, ANN202
    """What scoring a single term's postings in bulk needs, or None for any other matcher.

    Only a term's posting reader with Whoosh's BM25F scorer, on a reader whose field lengths
    are in memory (kb/search/reading.py `lengths_in_memory`), qualifies.
    """
    kind = type(matcher)
    if issubclass(kind, W3LeafMatcher):
        scorer = matcher.scorer
    elif kind is ListMatcher:
        scorer = matcher._scorer  # noqa: SLF001
    else:
        return None
    term = getattr(matcher, "_term", None)
    if type(scorer) is not BM25FScorer or not term or perdoc is None:
        return None
    norms = length_norms(perdoc, term[0], scorer.avgfl, scorer.B, scorer.K1)
    if norms is None:
        return None
    # BM25F per posting is then `idf * ((tf * (K1 + 1)) / (tf + norms[docnum]))`.
    return (norms, scorer.idf, scorer.K1 + 1)


def _and_plan(matcher, perdoc):  # noqa: ANN001, ANN202
    """For an AND of bare terms (Whoosh's tree of `IntersectionMatcher`, maybe boosted): its
    boost, the tree's shape over its leaves, and each leaf with its term plan; else None."""
    boost = None
    node = matcher
    if type(node) is WrappingMatcher:
        boost = node.boost
        node = node.child
    if type(node) is not IntersectionMatcher:
        return None
    leaves: list = []

    def shape(node):  # noqa: ANN001, ANN202
        if type(node) is IntersectionMatcher:
            left, right = shape(node.a), shape(node.b)
            return None if left is None or right is None else (left, right)
        plan = _term_plan(node, perdoc)
        if plan is None:
            return None
        leaves.append((node, plan))
        return len(leaves) - 1

    tree = shape(node)
    return None if tree is None else ("and", boost, tree, leaves)


class _AndNode:
    """Where Whoosh's `And` builds an `IntersectionMatcher` over two children: the children
    alone. It compares as Whoosh's matchers compare (`whoosh/matching/binary.py`): the tree
    is built by `make_weighted_tree`, which sorts (weight, matcher) pairs, so on equal
    weights the matchers themselves are compared, and the tree's shape (the order in which
    the AND's scores are added) depends on how."""

    __slots__ = ("a", "b")

    def __init__(self, a, b) -> None:  # noqa: ANN001
        self.a = a
        self.b = b

    def __eq__(self, other: object) -> bool:
        return self.__class__ is type(other)

    def __lt__(self, other: object) -> bool:
        return type(other) is self.__class__

    __hash__ = None


class _LeanAnd:
    """An AND of terms to be walked by `_add_and`, built without Whoosh's matcher tree.

    Whoosh's `IntersectionMatcher` moves its children to their first common document when
    it is built (`_find_first`: skips through the posting lists), work the walk of
    `_add_and` does again from the start: 0.67 ms a query at 10 000 documents. The union
    asks a clause only `is_active()` and `id()` before adding its scores; `id()` is the
    lowest of the terms' documents, never above the first document the AND scores, so the
    union's part starts no later than it would have.
    """

    def __init__(self, plan) -> None:  # noqa: ANN001
        self.plan = plan
        self._leaves = [m for m, _ in plan[3]]

    def is_active(self) -> bool:
        return all(m.is_active() for m in self._leaves)

    def id(self) -> int:
        return min(m.id() for m in self._leaves)


class _Lean:
    """What the top-N walk needs of a query, built without Whoosh's matchers and scorers:
    the scored terms and how a document's BM25F is computed from them."""

    def __init__(self, searcher, weighting, perdoc) -> None:  # noqa: ANN001
        self.searcher = searcher
        self.reader = searcher.reader()
        self.weighting = weighting
        self.perdoc = perdoc
        self._average: dict[str, float] = {}

    def leaf(self, query) -> tuple | None:  # noqa: ANN001
        """(posting reader, BM25F plan, document frequency) of a bare term, as `Term.matcher`
        and `BM25FScorer` would give them; (None, None, 0) when the index lacks the term;
        None when Whoosh must build it (another weighting, a boost, a field that is not
        scored, no per-query term dictionary).

        `Term.matcher` builds a `BM25FScorer` for every term (the term's document frequency
        looked up twice more, its best score, the searcher's idf cache) and reaches the
        posting reader through three layers of Whoosh's reader: 7 % of a search page's CPU
        (cProfile, 300 new queries at 10 011 documents), for a scorer the walk never calls,
        since it reads only idf, avgfl, B and K1 (`_term_plan`). They are computed here as
        `BM25F.scorer` computes them (`whoosh/scoring.py`): the same floats.
        """
        reader, weighting = self.reader, self.weighting
        terms = getattr(reader, "_terms", None)
        if (
            type(query) is not Term
            or query.boost != 1.0
            or query.minquality
            or type(weighting) is not BM25F
            or type(terms) is not _TermsOnce
            or self.perdoc is None
        ):
            return None
        fieldname = query.fieldname
        if fieldname not in reader.schema:
            return None
        field = reader.schema[fieldname]
        if not field.scorable:
            return None
        try:
            tbytes = field.to_bytes(query.text)
        except ValueError:
            return None
        if reader.is_closed:
            raise ReaderClosed
        info = terms.entry(fieldname, tbytes)
        if info is None:
            return (None, None, 0)
        average = self._average.get(fieldname)
        if average is None:
            average = self._average[fieldname] = self.searcher.avg_field_length(fieldname) or 1
        B = weighting._field_B.get(fieldname, weighting.B)  # noqa: N806, SLF001 - BM25's name
        norms = length_norms(self.perdoc, fieldname, average, B, weighting.K1)
        if norms is None:
            return None
        frequency = info.doc_frequency()
        # `WeightingModel.idf`: the searcher's documents, the term's document frequency.
        idf = log(self.searcher.doc_count_all() / (frequency + 1)) + 1
        matcher = terms.matcher(fieldname, tbytes, field.format)
        return (matcher, (norms, idf, weighting.K1 + 1), frequency)


class _LeanTerm:
    """A bare term for `SparseArrayUnionMatcher.top`: its posting reader and BM25F plan."""

    __slots__ = ("matcher", "plan")

    def __init__(self, matcher, plan) -> None:  # noqa: ANN001
        self.matcher = matcher
        self.plan = plan

    def is_active(self) -> bool:
        return self.matcher.is_active()

    def id(self) -> int:
        return self.matcher.id()


def _lean_term(query, lean: _Lean):  # noqa: ANN001, ANN202
    """A `_LeanTerm` for a bare term, a `NullMatcher` when the index lacks it (as
    `Term.matcher` gives), else None (Whoosh builds its own matcher)."""
    leaf = lean.leaf(query)
    if leaf is None:
        return None
    matcher, plan, _ = leaf
    return NullMatcher() if matcher is None else _LeanTerm(matcher, plan)


def _lean_and(query, lean: _Lean):  # noqa: ANN001, ANN202
    """A `_LeanAnd` for an `And` of two or more terms whose postings can all be scored in
    bulk, else None (Whoosh builds its own matcher).

    The tree is the one `And._matcher` builds (`CompoundQuery._tree_matcher`): the terms'
    matchers in a weighted tree by minus their document frequencies, with the AND's boost
    applied to the sum when it is not 1.
    """
    if type(query) is not And:
        return None
    subs = query.subqueries
    if len(subs) < 2 or any(type(q) is not Term for q in subs):
        return None
    found = [lean.leaf(q) for q in subs]
    if any(leaf is None or leaf[0] is None for leaf in found):
        return None  # Whoosh's own matcher: another weighting, or a term the index lacks
    plans = {id(m): plan for m, plan, _ in found}
    # As `Term.estimate_size`: the term's document frequency.
    weighted = [(0 - frequency, m) for m, _, frequency in found]
    root = make_weighted_tree(_AndNode, weighted)
    leaves: list = []

    def shape(node):  # noqa: ANN001, ANN202
        if type(node) is _AndNode:
            return (shape(node.a), shape(node.b))
        leaves.append((node, plans[id(node)]))
        return len(leaves) - 1

    tree = shape(root)
    boost = query.boost if query.boost != 1.0 else None
    return _LeanAnd(("and", boost, tree, leaves))


def _leaf_size(matcher) -> int:  # noqa: ANN001
    # Bytes of postings (a list matcher: postings): the shortest list leads the AND.
    return len(matcher._ids) if type(matcher) is ListMatcher else matcher._length  # noqa: SLF001


def _add_and(plan, a, touched: set, offset: int, limit: int, boost: float) -> None:  # noqa: ANN001, PLR0913
    """Add an AND's scores into `a`: `WrappingMatcher(IntersectionMatcher tree).score() * boost`
    for every document below `limit` that holds all its terms, as Whoosh computes it.

    The documents holding every term are found first, then scored a column at a time: each
    leaf's BM25F for all of them, then the columns summed in the tree's order (the same
    floats as a document at a time, without a Python call and a walk of the tree per
    document: cProfile, 400 page queries at 10 011 documents, 47 000 such calls, an eighth
    of `search_articles`).
    """
    _, and_boost, tree, leaves = plan
    matchers = [m for m, _ in leaves]
    if not all(m.is_active() for m in matchers):
        return
    order = sorted(range(len(matchers)), key=lambda i: _leaf_size(matchers[i]))
    if all(isinstance(m, W3LeafMatcher) for m in matchers):
        common = _common_postings(matchers, order, limit)
        docs = list(common[order[0]])
        # Each term's {docnum: weight} holds the documents in document order, and every
        # document of `docs` (the ones left at the end): of the same length, its values are
        # the weights in the order of `docs`.
        tfs = [
            list(weights.values())
            if len(weights) == len(docs)
            else list(map(weights.__getitem__, docs))
            for weights in common
        ]
    else:
        docs, tfs = _walk_and(matchers, order, limit)
    if not docs:
        return
    columns = [
        [idf * ((tf * k1_plus_1) / (tf + norms[docnum])) for docnum, tf in zip(docs, column)]  # noqa: B905
        for column, (_, (norms, idf, k1_plus_1)) in zip(tfs, leaves, strict=True)
    ]

    def total(node) -> list[float]:  # noqa: ANN001
        if type(node) is int:
            return columns[node]
        return [x + y for x, y in zip(total(node[0]), total(node[1]))]  # noqa: B905

    scores = total(tree)
    if and_boost is not None:
        scores = [score * and_boost for score in scores]
    if offset:
        docs = [docnum - offset for docnum in docs]
    if boost == 1.0:
        for slot, score in zip(docs, scores):  # noqa: B905
            a[slot] += score  # the same float as score * 1.0
    else:
        for slot, score in zip(docs, scores):  # noqa: B905
            a[slot] += score * boost
    touched.update(docs)


def _walk_and(matchers: list, order: list[int], limit: int) -> tuple[list[int], list[list]]:
    """The documents below `limit` holding every term, and each term's weights in them,
    walked through the matchers' methods (posting lists kept in a term's entry)."""
    docs: list[int] = []
    tfs: list[list] = [[] for _ in matchers]
    lead = matchers[order[0]]
    rest = [matchers[i] for i in order[1:]]
    while lead.is_active():
        docnum = lead.id()
        if docnum >= limit:
            break
        target = docnum
        for m in rest:
            if m.id() < docnum:
                m.skip_to(docnum)
                if not m.is_active():
                    return docs, tfs  # one term has no posting left: no document holds them all
            if m.id() != docnum:
                target = m.id()
                break
        if target != docnum:
            lead.skip_to(target)
            continue
        docs.append(docnum)
        for column, m in zip(tfs, matchers, strict=True):
            column.append(m.weight())
        lead.next()
    return docs, tfs


# Wanted documents in one block past which its ids are searched as a list (`_common_postings`).
_LIST_AFTER = 3


def _common_postings(matchers: list, order: list[int], limit: int) -> list[dict[int, float]]:
    """For each term of an AND, {docnum: weight} of the documents below `limit` that hold
    every term, read from the posting blocks in bulk.

    The shortest list (first in `order`) is read to `limit`; each other list keeps only the
    documents still wanted, block by block: a block whose last document is below the next
    one wanted is passed over on its header alone (as `skip_to` passes it), the others are
    searched by bisection for the wanted documents in their range. Walking the lists one
    posting at a time through the matchers' methods (`id`, `skip_to`, `is_active`) cost 560
    calls an AND at 10 000 documents (cProfile of the engine over 153 queries: the AND walk
    23 % of it); here the Python steps follow the documents wanted, not the postings.
    The shortest list is read to its end (or `limit`), so the AND's tree of matchers, if
    any, is no longer active afterwards, as after a walk.
    """
    lead = matchers[order[0]]
    ids: list[int] = []
    weights: list[float] = []
    while lead.is_active():
        if lead._ids is None:  # noqa: SLF001
            lead._read_ids()  # noqa: SLF001
        if lead._weights is None:  # noqa: SLF001
            lead._read_weights()  # noqa: SLF001
        block = lead._ids  # noqa: SLF001
        start, count = lead._i, lead._blocklength  # noqa: SLF001
        end = bisect_left(block, limit, start, count)
        ids.extend(block[start:end])
        weights.extend(lead._weights[start:end])  # noqa: SLF001
        if end < count:
            lead._i = end  # noqa: SLF001 - the first posting at or past the limit
            break
        lead._i = count - 1  # noqa: SLF001
        lead.next()  # on to the next block, or past the last
    common: list[dict[int, float]] = [{} for _ in matchers]
    common[order[0]] = dict(zip(ids, weights, strict=True))
    wanted = ids
    for i in order[1:]:
        m = matchers[i]
        found = common[i]
        j = 0
        while j < len(wanted) and m.is_active():
            target = wanted[j]
            if m._maxid < target:  # noqa: SLF001
                m._skip_to_block(lambda m=m, target=target: target > m._maxid)  # noqa: SLF001
                if not m.is_active():
                    break
            if m._ids is None:  # noqa: SLF001
                m._read_ids()  # noqa: SLF001
            if m._weights is None:  # noqa: SLF001
                m._read_weights()  # noqa: SLF001
            block, block_weights = m._ids, m._weights  # noqa: SLF001
            start, count = m._i, m._blocklength  # noqa: SLF001
            high = bisect_right(wanted, block[count - 1], j)
            if high - j > _LIST_AFTER and type(block) is array:
                # A kept block's ids are an array: each probe of a bisection makes a new
                # number object (callgrind: about 1 300 instructions a bisection of 128
                # ids); a list's probes do not, and the list costs about 4 000 once.
                block = block.tolist()
            for docnum in wanted[j:high]:
                start = bisect_left(block, docnum, start, count)
                if start < count and block[start] == docnum:
                    found[docnum] = block_weights[start]
            j = high
            m._i = count - 1  # noqa: SLF001
            m.next()  # on to the next block, or past the last
        wanted = list(found)  # in document order: added in the order of `wanted`
        if not wanted:
            break
    if len(wanted) < len(common[order[0]]):
        common[order[0]] = {docnum: common[order[0]][docnum] for docnum in wanted}
    return common


class SparseArrayUnionMatcher(ArrayUnionMatcher):
    """`ArrayUnionMatcher` over one part holding the whole index, visiting scored slots only."""

    def __init__(  # noqa: PLR0913
        self,
        submatchers,  # noqa: ANN001
        doccount: int,
        boost: float = 1.0,
        scored: bool = True,
        perdoc=None,  # noqa: ANN001 - the segment's per-document reader (field lengths)
        *,
        top_only: bool = False,
    ):
        CombinationMatcher.__init__(self, submatchers, boost=boost)
        self._top_only = top_only
        self._scored = scored
        self._plans = [
            (
                m.plan
                if type(m) in (_LeanAnd, _LeanTerm)
                else (_term_plan(m, perdoc) or _and_plan(m, perdoc))
            )
            if scored
            else None
            for m in submatchers
        ]
        self._doccount = doccount
        self._partsize = max(1, doccount)
        # The scores as a list of floats, not Whoosh's array("d"): every `a[slot] += score`
        # on a typed array parses the float back into a C double through PyArg_Parse
        # (callgrind of the top N over 30 new queries at 10 011 documents: the argument
        # parsing 5 % of it) and makes a float object to read it. The same doubles either
        # way; every slot holds a float (0.0 to start, sums of floats, 1.0 when unscored).
        self._a = [0.0] * self._partsize
        self._touched: list[int] = []
        # For `top` alone, the part starts at document 0 (the array holds every document):
        # the first document of every clause (`_min_id`) is not needed, and asking it reads
        # and decodes the first block of each term of an AND, which the AND's walk may pass
        # over on its header alone.
        self._docnum = 0 if top_only else self._min_id()
        self._read_part()

    def _read_part(self) -> None:
        scored = self._scored
        boost = self._boost
        limit = min(self._docnum + self._partsize, self._doccount)
        offset = self._docnum
        a = self._a
        for slot in self._touched:
            a[slot] = 0.0
        touched = set()
        # As ArrayUnionMatcher._read_part: clause by clause, so each sum is the same float.
        for m, plan in zip(self._submatchers, self._plans, strict=True):
            if plan is not None:
                if plan[0] == "and":
                    _add_and(plan, a, touched, offset, limit, boost)
                else:
                    leaf = m.matcher if type(m) is _LeanTerm else m
                    _add_term(leaf, plan, a, touched, offset, limit, boost)
                continue
            while m.is_active() and m.id() < limit:
                slot = m.id() - offset
                if scored:
                    a[slot] += m.score() * boost
                else:
                    a[slot] = 1.0
                touched.add(slot)
                m.next()
        # `_find_next` visits the scored slots in order; `top` takes them in any order.
        self._touched = touched if self._top_only else sorted(touched)
        self._offset = offset
        self._limit = limit

    def top(self, limit: int) -> list[tuple[float, int]]:
        """The best `limit` (score, docnum), best first, as Whoosh's `TopCollector` keeps them.

        The collector visits the documents this matcher yields (the scored slots holding a
        score above 0) in docnum order and keeps the largest (score, -docnum) pairs: a tie
        goes to the lower docnum. Taking the largest pairs at once gives the same list,
        without three method calls and a heap operation per document collected.

        Pairs are made only for the slots scoring at least the `limit`-th best score, which
        every pair kept has: the scores alone are compared first, without a tuple each
        (page queries at 10 011 documents score 200-7 000 documents for 30 kept).
        """
        a = self._a
        offset = self._offset
        touched = self._touched
        if 0 < limit < len(touched):
            # The scores of the touched slots read in C, once (itemgetter of them all; the
            # set is not changed in between, so the two passes see it in the same order).
            slots = tuple(touched)
            scores = itemgetter(*slots)(a) if len(slots) > 1 else (a[slots[0]],)
            floor = heapq.nlargest(limit, scores)[-1]
            pairs = [
                (score, -(slot + offset))
                for slot, score in zip(slots, scores)  # noqa: B905 - the same length
                if score >= floor and score > 0
            ]
        else:
            pairs = [(a[slot], -(slot + offset)) for slot in touched if a[slot] > 0]
        return [(score, -negated) for score, negated in heapq.nlargest(limit, pairs)]

    def _find_next(self) -> None:
        a = self._a
        touched = self._touched
        j = bisect_left(touched, self._docnum - self._offset)
        while j < len(touched) and not a[touched[j]] > 0:
            j += 1
        if j == len(touched):
            # As ArrayUnionMatcher: past the part, on to the next one (none left here).
            self._docnum = self._min_id()
            self._read_part()
        else:
            self._docnum = touched[j] + self._offset


def _add_term(m, plan, a, touched: set, offset: int, limit: int, boost: float) -> None:  # noqa: ANN001, PLR0913
    """Add a term's scores for the documents below `limit` into `a`, block by block.

    Each score is `BM25FScorer.score(m) * boost` computed as Whoosh computes it:
    `bm25(idf, tf, fl, avgfl, B, K1)` with the field length of the document, whose part
    that depends on the length alone is read from the reader's table (`length_norms`).
    """
    norms, idf, k1_plus_1 = plan
    if type(m) is ListMatcher:
        ids = m._ids  # noqa: SLF001
        every = m._all_weights  # noqa: SLF001
        weights = m._weights  # noqa: SLF001
        count = len(ids)
        j = m._i  # noqa: SLF001
        while j < count:
            docnum = ids[j]
            if docnum >= limit:
                break
            tf = every if every else (weights[j] if weights else 1.0)
            slot = docnum - offset
            a[slot] += idf * ((tf * k1_plus_1) / (tf + norms[docnum])) * boost
            touched.add(slot)
            j += 1
        m._i = j  # noqa: SLF001
        return
    # The top N's array starts at document 0 and the OR's boost is 1: a score times 1.0 is
    # the same float (the product rounds to the number itself), so neither is applied.
    plain = offset == 0 and boost == 1.0
    while m.is_active():
        if m._ids is None:  # noqa: SLF001
            m._read_ids()  # noqa: SLF001
        if m._weights is None:  # noqa: SLF001
            m._read_weights()  # noqa: SLF001
        ids = m._ids  # noqa: SLF001
        count = m._blocklength  # noqa: SLF001
        start = m._i  # noqa: SLF001
        end = bisect_left(ids, limit, start, count)
        docs = ids[start:end]
        if plain:
            for docnum, tf in zip(docs, m._weights[start:end]):  # noqa: B905, SLF001
                a[docnum] += idf * ((tf * k1_plus_1) / (tf + norms[docnum]))
        else:
            for docnum, tf in zip(docs, m._weights[start:end]):  # noqa: B905, SLF001
                a[docnum - offset] += idf * ((tf * k1_plus_1) / (tf + norms[docnum])) * boost
        touched.update([docnum - offset for docnum in docs] if offset else docs)
        if end < count:
            m._i = end  # noqa: SLF001 - the first posting at or past the limit
            return
        m._i = count - 1  # noqa: SLF001
        m.next()  # on to the next block, or past the last


class SparseUnionOr(PreloadedOr):
    """An OR whose matcher is `SparseArrayUnionMatcher`, at every index size."""

    JOINT = " OR "

    def _matcher(self, subs, searcher, context, *, lean: bool = False):  # noqa: ANN001, ANN202
        scored = context.weighting is not None if context else True
        perdoc = getattr(searcher.reader(), "_perdoc", None)
        weighting = context.weighting if context else searcher.weighting
        plain = _Lean(searcher, weighting, perdoc) if lean and scored else None
        matchers = []
        for sub in subs:
            m = None
            if plain is not None:
                m = _lean_term(sub, plain) if type(sub) is Term else _lean_and(sub, plain)
            if (
                lean
                and type(sub) is Phrase
                and holds_all(searcher, sub.fieldname, sub.words) is False
            ):
                # No document holds every word: Whoosh's phrase matcher would match nothing
                # (and build a matcher per word to find that out).
                m = NullMatcher()
            matchers.append(sub.matcher(searcher, context) if m is None else m)
        return SparseArrayUnionMatcher(
            matchers,
            searcher.doc_count_all(),
            boost=self.boost,
            scored=scored,
            perdoc=perdoc,
            top_only=lean,
        )

    def top_matcher(self, searcher, context):  # noqa: ANN001, ANN201
        """The OR's matcher for `SparseArrayUnionMatcher.top` alone: its ANDs of terms are
        walked without Whoosh's matcher trees (`_LeanAnd`), which answer nothing else."""
        if len(self.subqueries) < 2:
            return self.matcher(searcher, context)
        return self._matcher(self.subqueries, searcher, context, lean=True)
