"""Turn an imported document (Markdown or scraped plain text) into sanitized HTML and a toc.

Imported documents are untrusted: raw HTML in Markdown is escaped, never passed through, and
every output goes through nh3 with an allow-list. No inline styles survive (the site's CSP
forbids them), so code is highlighted with Pygments CSS classes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from kb.rendering.headings import heading_slug
from kb.rendering.markdown_html import markdown_to_html
from kb.rendering.plaintext import plain_to_html
from kb.rendering.sanitize import sanitize_html
from kb.rendering.sections import Section, html_to_text, split_sections

__all__ = [
    "KINDS",
    "Rendered",
    "Section",
    "heading_slug",
    "html_to_text",
    "looks_like_markdown",
    "render_document",
    "sanitize_html",
    "split_sections",
]

KINDS = ("markdown", "plain")


@dataclass(frozen=True)
class Rendered:
    """Sanitized HTML, its table of contents and its plain text."""

    html: str
    toc: list[dict] = field(default_factory=list)

    @cached_property
    def text(self) -> str:
        """The plain text, parsed from the HTML when first asked for: the importer never asks
        (the index splits the HTML into sections itself), and parsing was 14 % of an import."""
        return html_to_text(self.html)


# --- Public face ------------------------------------------------------------------------------

_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+\S")
_MARKDOWN_SECONDARY_HEADING = re.compile(r"^#{2,6}\s+\S")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_MARKDOWN_LINK = re.compile(r"!?\[[^\]\n]+\]\([^)\s]+\)")


def looks_like_markdown(text: str) -> bool:
    """True for text with Markdown markers: a fence, a leading `#` title, `##` headings, links.

    A lone `# comment` in the middle of scraped shell code is not a marker.
    """
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if _MARKDOWN_HEADING.match(first) or first.strip() == "---":
        return True
    if any(_FENCE.match(line) for line in lines):
        return True
    if sum(1 for line in lines if _MARKDOWN_SECONDARY_HEADING.match(line)) >= 1:
        return True
    return bool(_MARKDOWN_LINK.search(text))


# Python-Markdown's link parser is quadratic in nested brackets on a line, and its block parser
# recurses once per nesting level: 20 000 "[" or a 3 000-level list take minutes. Nobody writes
# prose like that, so such documents are shown as plain text instead (still readable, escaped).
MAX_BRACKETS_PER_LINE = 256
MAX_NESTING_COLUMNS = 240
_NESTING_PREFIX = re.compile(r"^[ \t>*+-]*")
# A line (as str.splitlines cuts them) opening with more than MAX_NESTING_COLUMNS of those.
_DEEP_LINE = re.compile(
    r"(?:\A|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029])[ \t>*+-]" + f"{{{MAX_NESTING_COLUMNS + 1}}}"
)


def _too_nested_for_markdown(text: str) -> bool:
    # The whole text at once first (a line-by-line loop was 3 % of an import): only a text
    # with more brackets than one line may hold is looked at line by line.
    if _DEEP_LINE.search(text):
        return True
    if text.count("[") + text.count("(") <= MAX_BRACKETS_PER_LINE:
        return False
    for line in text.splitlines():
        if line.count("[") + line.count("(") > MAX_BRACKETS_PER_LINE:
            return True
        if len(_NESTING_PREFIX.match(line).group(0)) > MAX_NESTING_COLUMNS:
            return True
    return False


def render_document(*, text: str, kind: str) -> Rendered:
    """Render Markdown or scraped plain text to sanitized HTML, a toc and plain text."""
    if kind == "markdown" and _too_nested_for_markdown(text):
        kind = "plain"
    if kind == "markdown":
        body, toc = markdown_to_html(text)
    elif kind == "plain":
        body, toc = plain_to_html(text)
    else:
        raise ValueError(f"unknown document kind {kind!r}; expected one of {KINDS}")
    safe = sanitize_html(body)
    return Rendered(html=safe, toc=toc)
