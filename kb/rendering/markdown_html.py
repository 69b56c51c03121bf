"""The Markdown pipeline: Python-Markdown with fenced code, tables, footnotes, Pygments classes
and attr_list; raw HTML escaped; every heading given a stable anchor and a self-link; images
replaced by a placeholder (the site never loads an image from another host, and imported
documents do not bring their image files)."""

from __future__ import annotations

import re
import threading
from xml.etree import ElementTree

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pygments.formatters.html import HtmlFormatter

from kb.rendering.headings import UniqueIds

_STASH_PLACEHOLDER = re.compile("\x02wzxhzdk:\\d+\x03")


# An anchor given explicitly with attr_list ("## 症状 {#symptoms}"): translations keep the
# original's section anchors this way. Anything else falls back to a generated one.
_EXPLICIT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _HeadingTreeprocessor(Treeprocessor):
    """Give every heading a stable id and a self-link, and record the toc."""

    def run(self, root: ElementTree.Element) -> None:
        ids = UniqueIds()
        headings = [element for element in root.iter() if element.tag in _HEADING_TAGS]
        explicit: dict[int, str] = {}
        for element in headings:
            given = element.get("id") or ""
            if _EXPLICIT_ID.match(given) and given not in ids.used:
                ids.reserve(given)
                explicit[id(element)] = given
        toc: list[dict] = []
        for element in headings:
            title = " ".join(_STASH_PLACEHOLDER.sub("", "".join(element.itertext())).split())
            anchor = explicit.get(id(element)) or ids.take(title)
            element.set("id", anchor)
            link = ElementTree.SubElement(element, "a", {"class": "anchor", "href": f"#{anchor}"})
            link.text = "#"
            toc.append({"id": anchor, "title": title, "level": int(element.tag[1])})
        self.md.kb_toc = toc  # type: ignore[attr-defined]


class _ImagePlaceholder(Treeprocessor):
    """Replace every image with a visible note: imported documents come without their image
    files, and loading one from another host would phone home (and break the CSP)."""

    def run(self, root: ElementTree.Element) -> None:
        for element in root.iter("img"):
            alt = " ".join((element.get("alt") or "").split())
            source = (element.get("src") or "").rsplit("/", 1)[-1][:80]
            element.tag = "span"
            element.attrib.clear()
            element.set("class", "image-missing")
            element.text = f"[Image not included: {alt or source or 'untitled'}]"


class _HeadingExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        # After inline patterns (priority 20) so heading text is final.
        md.treeprocessors.register(_HeadingTreeprocessor(md), "kb_headings", 5)
        md.treeprocessors.register(_ImagePlaceholder(md), "kb_images", 4)
        # Raw HTML is untrusted: escape it instead of passing it through.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


# Building a Pygments HtmlFormatter builds its whole style sheet (2 ms); CodeHilite builds one
# per code block, which was 10 % of importing the kernel documentation. A formatter keeps no
# state between blocks (only a memo of the span each token type opens), so one per set of
# options is shared. Bounded: a block's options (hl_lines) come from the document.
_FORMATTERS: dict[str, HtmlFormatter] = {}
_FORMATTERS_MAX = 64


def _shared_formatter(lang_str: str = "", **options: object) -> HtmlFormatter:
    """What `get_formatter_by_name("html", **options)` returns, built once per options."""
    key = repr(sorted(options.items()))
    formatter = _FORMATTERS.get(key)
    if formatter is None:
        if len(_FORMATTERS) >= _FORMATTERS_MAX:
            _FORMATTERS.clear()
        formatter = _FORMATTERS[key] = HtmlFormatter(**options)
    return formatter


_local = threading.local()


def markdown_to_html(text: str) -> tuple[str, list[dict]]:
    """Unsanitized HTML and the toc of a Markdown document (sanitize before use)."""
    # Building a Markdown instance (extensions, pygments) costs about as much as converting a
    # whole article; one per thread is reused, reset before each document (Markdown's own
    # advice for converting many documents).
    md = getattr(_local, "markdown", None)
    if md is None:
        md = _local.markdown = _new_markdown()
    md.reset()
    md.kb_toc = []  # type: ignore[attr-defined] - convert() skips the tree for blank text
    try:
        body = md.convert(text)
    except BaseException:
        # A conversion that failed half-way (a RecursionError on absurd nesting) can leave the
        # instance's processors in a state reset() does not repair: never reuse it.
        _local.markdown = None
        raise
    return body, list(getattr(md, "kb_toc", []))


def _new_markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            "attr_list",
            "fenced_code",
            "tables",
            "footnotes",
            "sane_lists",
            "codehilite",
            _HeadingExtension(),
        ],
        extension_configs={
            "codehilite": {
                "css_class": "codehilite",
                "guess_lang": False,
                "noclasses": False,
                "pygments_formatter": _shared_formatter,
            },
            "footnotes": {"BACKLINK_TITLE": "Back to reference %d"},
        },
        output_format="html",
    )
