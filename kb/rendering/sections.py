"""Section extraction: the plain text under each heading of sanitized HTML (for search
snippets, the index and section links)."""

from __future__ import annotations

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
    parser = _SectionParser()
    parser.feed(html_text)
    parser.close()
    return [Section(id=s[0], title=s[1], level=s[2], text=_tidy(s[3])) for s in parser.sections]


def html_to_text(html_text: str) -> str:
    """Plain text of an HTML fragment, headings included, one block per line."""
    parts = []
    for section in split_sections(html_text):
        if section.title:
            parts.append(section.title)
        if section.text:
            parts.append(section.text)
    return "\n".join(parts)
