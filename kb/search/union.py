"""The OR of a search query: Whoosh's array union, visiting only the documents that matched.

Whoosh's `ArrayUnionMatcher` (whoosh-reloaded 2.7.5, `whoosh/matching/combo.py`) adds every
clause's scores into an array of 2 048 documents at a time, then walks the array slot by slot
in Python to find the next scored document, and clears it slot by slot before the next part:
a pass over every document of the index per query, whatever matched. `SparseUnionOr` keeps
the array and the order in which scores are added (so every score is the same float), but
remembers which slots were scored and visits only those: the cost follows the postings read,
not the size of the index.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

from whoosh.matching.combo import ArrayUnionMatcher, CombinationMatcher
from whoosh.query.compound import PreloadedOr


class SparseArrayUnionMatcher(ArrayUnionMatcher):
    """`ArrayUnionMatcher` over one part holding the whole index, visiting scored slots only."""

    def __init__(self, submatchers, doccount: int, boost: float = 1.0, scored: bool = True):  # noqa: ANN001
        CombinationMatcher.__init__(self, submatchers, boost=boost)
        self._scored = scored
        self._doccount = doccount
        self._partsize = max(1, doccount)
        self._a = array("d", bytes(8 * self._partsize))
        self._touched: list[int] = []
        self._docnum = self._min_id()
        self._read_part()

    def _read_part(self) -> None:
        scored = self._scored
        boost = self._boost
        limit = min(self._docnum + self._partsize, self._doccount)
        offset = self._docnum
        a = self._a
        for slot in self._touched:
            a[slot] = 0
        touched = set()
        # As ArrayUnionMatcher._read_part: clause by clause, so each sum is the same float.
        for m in self._submatchers:
            while m.is_active() and m.id() < limit:
                slot = m.id() - offset
                if scored:
                    a[slot] += m.score() * boost
                else:
                    a[slot] = 1
                touched.add(slot)
                m.next()
        self._touched = sorted(touched)
        self._offset = offset
        self._limit = limit

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


class SparseUnionOr(PreloadedOr):
    """An OR whose matcher is `SparseArrayUnionMatcher`, at every index size."""

    JOINT = " OR "

    def _matcher(self, subs, searcher, context):  # noqa: ANN001, ANN202
        scored = context.weighting is not None if context else True
        matchers = [sub.matcher(searcher, context) for sub in subs]
        return SparseArrayUnionMatcher(
            matchers, searcher.doc_count_all(), boost=self.boost, scored=scored
        )
