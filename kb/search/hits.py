"""What a search answers: `SearchHit`, one article found for a query.

Hits are frozen dataclasses: the result cache (kb/search/caches.py) shares one tuple of hits
between every caller that asks the same question, so nobody may change one in place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class SearchHit:
    """One article found for a query, with the section that matched best."""

    slug: str
    title: str
    url: str
    lang: str
    snippet: str  # HTML: escaped text with <mark> around the matched terms
    score: float
    section: str | None  # the anchor of the best-matching section, if any
    section_title: str | None = None
    # "index", or "database" when the index could not answer and a plain query did.
    source: str = "index"

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of a hit in the API."""
        return asdict(self)
