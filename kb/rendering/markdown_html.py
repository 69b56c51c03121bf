"""The Markdown pipeline: Python-Markdown with fenced code, tables, footnotes, Pygments classes
and attr_list; raw HTML escaped; every heading given a stable anchor and a self-link; images
replaced by a placeholder (the site never loads an image from another host, and imported
documents do not bring their image files)."""

from __future__ import annotations

import re
import threading
from xml.etree import ElementTree

import markdown
from markdown import util
from markdown.extensions import Extension, codehilite
from markdown.extensions.tables import TableProcessor
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from pygments.formatters.html import HtmlFormatter
from pygments.lexers import find_lexer_class_by_name
from pygments.util import ClassNotFound

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


# Python-Markdown tries each inline pattern on every run of text (a regex search each: 14
# patterns). Every one of them needs one of these characters to match: a backtick, a
# backslash, "[" (links, images, footnotes), "<" (autolinks), "&" (entities), "*" or "_"
# (emphasis), or two spaces before a line break. Text with none of them comes out of the
# patterns unchanged, so it is not offered to them. The patterns checked are exactly these
# (name, class): with any other set (another extension, another Markdown version), every
# text goes through every pattern as before.
_INLINE_TRIGGER = re.compile(r"[`\\\[<&*_]|  \n")
_KNOWN_INLINE_PATTERNS = (
    ("backtick", "BacktickInlineProcessor"),
    ("escape", "EscapeInlineProcessor"),
    ("footnote", "FootnoteInlineProcessor"),
    ("reference", "ReferenceInlineProcessor"),
    ("link", "LinkInlineProcessor"),
    ("image_link", "ImageInlineProcessor"),
    ("image_reference", "ImageReferenceInlineProcessor"),
    ("short_reference", "ShortReferenceInlineProcessor"),
    ("short_image_ref", "ShortImageReferenceInlineProcessor"),
    ("autolink", "AutolinkInlineProcessor"),
    ("automail", "AutomailInlineProcessor"),
    ("linebreak", "SubstituteTagInlineProcessor"),
    ("entity", "HtmlInlineProcessor"),
    ("em_strong", "DelimiterProcessor"),
)


class _QuickInlineProcessor(InlineProcessor):
    """Markdown's inline processor, skipping text no inline pattern can match (above).
    cProfile of importing 1 004 real documents: 7.2 s of 26 s in this treeprocessor, 3.9 s
    of it trying patterns on text."""

    def run(self, tree, ancestors=None):  # noqa: ANN001, ANN201 (Markdown's API)
        patterns = self.md.inlinePatterns
        self.kb_quick = (
            tuple((item.name, type(patterns[item.name]).__name__) for item in patterns._priority)
            == _KNOWN_INLINE_PATTERNS
        )
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if (
            self.kb_quick
            and not isinstance(data, util.AtomicString)
            and _INLINE_TRIGGER.search(data) is None
        ):
            return data
        return InlineProcessor._InlineProcessor__handleInline(self, data, patternIndex)


class _QuickTableProcessor(TableProcessor):
    """The tables extension's block processor, answering "not a table" at once for a block
    whose first line holds no "|". Markdown asks it about every block before the paragraph
    processor does, and its test splits the whole block into stripped rows and the first
    row into cells first. Without a "|" in the first line that row is one cell with no
    border, which its test always refuses; its state (border, separator) is read only by
    `run`, which follows a test that said yes. cProfile of rendering 1 002 real documents
    (every tenth of the 10 011): `TableProcessor.test` 1.5 s of 28.9 s, 33 503 calls."""

    def test(self, parent: ElementTree.Element, block: str) -> bool:
        if "|" not in block.split("\n", 1)[0]:
            return False
        return super().test(parent, block)


class _ListedRegistry(util.Registry):
    """Markdown's registry, listing its items once per change instead of once per iteration.

    The block parser iterates over its block processors for every block of a document, and
    `Registry.__iter__` sorts and builds a new list of them each time. cProfile of rendering
    1 002 real documents: 43 854 iterations, 1.15 s of 28.9 s. The list is rebuilt after any
    register or deregister; an iteration already running keeps the list it started with, as
    before (a new list replaces the old one, none is changed in place)."""

    _listed: list | None = None

    def __iter__(self):  # noqa: ANN204 (Markdown's API)
        listed = self._listed
        if listed is None or not self._is_sorted:
            self._sort()
            listed = self._listed = [self._data[k] for k, _ in self._priority]
        return iter(listed)

    def register(self, item, name: str, priority: float) -> None:  # noqa: ANN001
        self._listed = None
        super().register(item, name, priority)

    def deregister(self, name: str, strict: bool = True) -> None:  # noqa: FBT001, FBT002
        self._listed = None
        super().deregister(name, strict)


class _HeadingExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(_QuickInlineProcessor(md), "inline", 20)
        blocks = md.parser.blockprocessors
        if type(blocks) is util.Registry:
            blocks.__class__ = _ListedRegistry  # same state, listed once per change
        tables = blocks["table"] if "table" in blocks else None  # noqa: SIM401 - no get()
        if type(tables) is TableProcessor:  # the tables extension, loaded before this one
            quick = _QuickTableProcessor(md.parser, tables.config)
            blocks.register(quick, "table", 75)
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


# Pygments' `get_lexer_by_name` walks its table of about 600 lexers, lower-casing every
# alias, for each code block; a block without a language (most of the kernel documentation)
# walks it twice, the second time for "text". cProfile of importing 1 004 real documents:
# 1.9 s of 26 s. The class found for a name never changes within a process, so it is looked up
# once per name (bounded: names come from the documents) and each block still gets a lexer
# of its own, built with the block's options, exactly as `get_lexer_by_name` builds it.
_LEXER_CLASSES: dict[str, type | None] = {}
_LEXER_CLASSES_MAX = 256


def _lexer_by_name(_alias: str, **options: object) -> object:
    """`pygments.lexers.get_lexer_by_name`, with the class looked up once per name."""
    if not _alias:
        raise ClassNotFound(f"no lexer for alias {_alias!r} found")
    try:
        found = _LEXER_CLASSES[_alias]
    except KeyError:
        try:
            found = find_lexer_class_by_name(_alias)
        except ClassNotFound:
            found = None
        if len(_LEXER_CLASSES) >= _LEXER_CLASSES_MAX:
            _LEXER_CLASSES.clear()
        _LEXER_CLASSES[_alias] = found
    if found is None:
        raise ClassNotFound(f"no lexer for alias {_alias!r} found")
    return found(**options)


# CodeHilite (also used by fenced_code) calls the name it imported from Pygments.
codehilite.get_lexer_by_name = _lexer_by_name

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
