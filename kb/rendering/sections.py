"""Section extraction: the plain text under each heading of sanitized HTML (for search
snippets, the index and section links)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass(frozen=True)
class Section:
    """One heading and the plain text under it; id "" is the part before the first heading."""

    id: str
    title: str
    level: int
    text: str


_BLOCK_TAGS = {
    "p", "div", "pre", "li", "ul", "ol", "table", "tr", "blockquote", "br", "hr",
    "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th",
}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _SectionParser(HTMLParser):
    """Split sanitized HTML at headings, collecting the plain text of each part."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[list] = [["", "", 0, []]]  # id, title, level, text parts
        self.heading: list | None = None
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and "anchor" in (attributes.get("class") or "").split():
            self.skip_depth += 1
            return
        if tag in _HEADINGS:
            self.heading = [attributes.get("id") or "", [], int(tag[1])]
        elif tag in _BLOCK_TAGS:
            self._target().append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.skip_depth:
            self.skip_depth -= 1
            return
        if tag in _HEADINGS and self.heading is not None:
            anchor, parts, level = self.heading
            self.sections.append([anchor, " ".join("".join(parts).split()), level, []])
            self.heading = None
        elif tag in _BLOCK_TAGS:
            self._target().append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self._target().append(data)

    def _target(self) -> list[str]:
        return self.heading[1] if self.heading is not None else self.sections[-1][3]


def _tidy(parts: list[str]) -> str:
    text = "".join(parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def split_sections(html_text: str) -> list[Section]:
    """The plain text under each heading; the part before the first heading has id ""."""
    sections = _split_simple(html_text)
    if sections is None:
        parser = _SectionParser()
        parser.feed(html_text)
        parser.close()
        sections = parser.sections
    return [Section(id=s[0], title=s[1], level=s[2], text=_tidy(s[3])) for s in sections]


# The HTML our pipeline stores is sanitized (nh3) and therefore simple: tags with quoted
# attributes, entities in text, nothing else after a "<". For such HTML one regex does what
# HTMLParser does (the same calls in the same order, text unescaped the same way), at a
# fraction of the cost: split_sections of every article was half of analysing an article
# for the index (cProfile, 600 real articles: 26 of 52 s in HTMLParser.goahead). Anything
# else (a comment, a declaration, a stray "<", unquoted attributes) goes to HTMLParser.
_SIMPLE_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*=\"[^\"<>]*\")*)\s*(/?)>"
)
# HTMLParser reads the content of these raw, up to their end tag.
_RAW_CONTENT = re.compile(r"<(?:script|style)\b", re.IGNORECASE)
# A "<" that does not open a `_SIMPLE_TAG`: such a tag holds no other "<", so this finds one
# exactly when `_SIMPLE_TAG.sub("", html)` would leave a "<", without building that string
# (0.17 against 0.07 s for the HTML of 1 002 real articles).
_STRAY_OPENING = re.compile(
    r"<(?!/?[a-zA-Z][a-zA-Z0-9]*(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*=\"[^\"<>]*\")*\s*/?>)"
)
_RELEVANT = ("a", *sorted(_BLOCK_TAGS | _HEADINGS, key=lambda t: (-len(t), t)))
# Only the tag names are compared ignoring case: every tag here is a `_SIMPLE_TAG`, whose
# names are ASCII (a pattern ignoring case everywhere also took the long s and the Kelvin
# sign for letters, and ran slower: 0.27 against 0.22 s, same sample).
_INERT_TAG = re.compile(
    rf"</?(?!(?i:{'|'.join(_RELEVANT)})[\s/>])[a-zA-Z][a-zA-Z0-9]*"
    r"(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*=\"[^\"<>]*\")*\s*/?>"
)
_ATTRIBUTE = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"')


def _split_simple(html_text: str) -> list[list] | None:
    """`_SectionParser(...).sections` for simple HTML (above), or None for anything else."""
    if _RAW_CONTENT.search(html_text) or _STRAY_OPENING.search(html_text):
        return None
    # Tags the parser does nothing with (span, code, em...) only end a run of text: dropped
    # first. Sanitized text has every "&" of an entity complete, so joining the text around
    # them unescapes the same. Skipping these tags halves what is left.
    html_text = _INERT_TAG.sub("", html_text)
    parser = _SectionParser.__new__(_SectionParser)
    parser.sections = [["", "", 0, []]]
    parser.heading = None
    parser.skip_depth = 0
    position = 0
    for match in _SIMPLE_TAG.finditer(html_text):
        if match.start() > position:
            parser.handle_data(html.unescape(html_text[position : match.start()]))
        position = match.end()
        closing, tag, attributes, empty = match.groups()
        tag = tag.lower()
        if closing:
            if attributes or empty:
                return None
            parser.handle_endtag(tag)
            continue
        attrs = [
            (name.lower(), html.unescape(value)) for name, value in _ATTRIBUTE.findall(attributes)
        ]
        parser.handle_starttag(tag, attrs)
        if empty:
            parser.handle_endtag(tag)
    if position < len(html_text):
        parser.handle_data(html.unescape(html_text[position:]))
    return parser.sections


def html_to_text(html_text: str) -> str:
    """Plain text of an HTML fragment, headings included, one block per line."""
    parts = []
    for section in split_sections(html_text):
        if section.title:
            parts.append(section.title)
        if section.text:
            parts.append(section.text)
    return "\n".join(parts)
