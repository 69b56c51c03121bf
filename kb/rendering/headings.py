"""Heading anchors shared by both renderers: readable, stable and unique within a page."""

from __future__ import annotations

import re
import unicodedata

_NOT_SLUG = re.compile(r"[^\w\s-]", re.UNICODE)
_DASHES = re.compile(r"[\s_-]+", re.UNICODE)


def heading_slug(title: str) -> str:
    """A readable anchor: ASCII words lower-cased, CJK characters kept, spaces as "-"."""
    value = unicodedata.normalize("NFKC", title).lower()
    value = _NOT_SLUG.sub("", value)
    value = _DASHES.sub("-", value).strip("-")
    return value[:80].rstrip("-") or "section"


class UniqueIds:
    """Hands out heading ids, de-duplicated as id, id-2, id-3."""

    def __init__(self, reserved: set[str] | None = None) -> None:
        self.used: set[str] = set(reserved or ())

    def reserve(self, anchor: str) -> None:
        """Mark an anchor given explicitly ({#id} in Markdown) as used."""
        self.used.add(anchor)

    def take(self, title: str) -> str:
        """A new unique anchor for this heading title."""
        base = heading_slug(title)
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}-{n}"
        self.used.add(candidate)
        return candidate
