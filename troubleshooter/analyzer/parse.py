"""Safe, position-keeping parsing of a pasted stream of YAML (or JSON) documents.

How it stays safe:

* bytes are decoded here (UTF-8, or UTF-16/UTF-8 with a BOM); NUL bytes or undecodable input
  raise `ManifestRejected` before any parser sees them, as does input over `Limits.max_bytes`;
* libyaml only *parses*: the tree is built from its events (`_build_from_events`), or, for a
  document with anchors or aliases, from the nodes `yaml.compose_all` with `CSafeLoader`
  composes; nothing is ever constructed by PyYAML, and a node carrying any tag outside the YAML
  core schema (for example `!!python/object/apply`) makes its document a `ParseError`;
* libyaml's composer recurses in C and crashes the interpreter on very deep nesting (measured:
  900 000 nested `- ` segfaults; 20 000 nested `[` takes 2.5 s). A cheap textual test decides
  whether a document *could* be deeper than `max_depth`; only then its event stream, which
  libyaml produces without recursion, is walked and the document refused early;
* aliases are counted while the node graph is expanded into our tree: more than `max_aliases`
  reuses of a collection, or an expansion larger than the document text allows, refuses the
  document (a billion-laughs bomb stops after a few hundred nodes);
* the stream is split into documents at `---` lines first, so a syntax error in one document
  is reported with its line and column while the others are still analysed; `%YAML`/`%TAG`
  directive lines go with the document they introduce;
* every pattern run over the text is linear (no nested or adjacent quantifiers that can
  trade characters), plain scalars longer than `_MAX_RESOLVED` characters are strings, and
  YAML 1.1 base-60 numbers (`1:30`) stay strings, as Kubernetes' YAML 1.2 reader sees them:
  converting `1:1:1:...` to an integer is quadratic.
"""

from __future__ import annotations

import codecs
import gc
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.constructor import ConstructorError, SafeConstructor

from .notices import NOTES, notice
from .results import Limits, ManifestRejected, ParseError
from .tree import Map, Node, Scalar, Seq

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(
    _TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "binary", "value")
)
_MAP_TAGS = frozenset((_TAG + "map", _TAG + "set"))
_SEQ_TAGS = frozenset((_TAG + "seq", _TAG + "omap", _TAG + "pairs"))
_MERGE_TAG = _TAG + "merge"

_CONTENT = re.compile(r"^[ \t]*+[^\s#]", re.MULTILINE)
# Greedy to the end of the line, stripped in Python: a lazy group followed by `\s*$` retries
# the trailing blanks at every position (a 40 KB line took 6.8 s).
_HELM_SOURCE = re.compile(r"^#[ \t]*Source:[ \t]*(\S[^\n]*)", re.MULTILINE)
_DOCUMENT_END = re.compile(r"\.\.\.(?:[ \t]|$)")
# Used only to decide whether the depth-checking event walk is needed (see module docstring).
# Possessive blank runs: a failed attempt never gives blanks back one by one to retry.
_DEEP_INDENT = re.compile(r"^[ \t]{40,}+\S", re.MULTILINE)
# `(?:[-?:][ \t]++){20,}` with its first step written out: the same matches, but the engine can
# skip to the next indicator character instead of entering the repeat at every position
# (1.1 ms on a 20 KB paste before, 0.27 ms after).
_COMPACT_RUN = re.compile(r"[-?:][ \t]++(?:[-?:][ \t]++){19,}")

# Longest plain scalar whose implicit tag is resolved (int, float, bool...); longer ones are
# strings. 64 characters hold any int64 or float a manifest needs, and any timestamp.
_MAX_RESOLVED = 64
_NUMBER_TAGS = frozenset((_TAG + "int", _TAG + "float"))

# The scalar constructors of PyYAML's safe schema, used on single scalar nodes only.
_CONSTRUCTOR = SafeConstructor()
_CONVERT = {
    _TAG + "null": lambda node: None,
    _TAG + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _TAG + "int": _CONSTRUCTOR.construct_yaml_int,
    _TAG + "float": _CONSTRUCTOR.construct_yaml_float,
}


class _Loader(yaml.CSafeLoader):
    """libyaml's composer with the implicit-tag resolution of plain scalars memoized.

    PyYAML resolves every scalar's tag in Python (regexes per first character); manifests
    repeat the same keys and values thousands of times. The answer depends only on the value
    and the implicit flags, so it is cached (bounded), and the tags are exactly PyYAML's.
    """

    _resolved: dict[tuple[str, tuple[bool, bool]], str] = {}

    def resolve(self, kind, value, implicit):  # noqa: ANN001, ANN201 - PyYAML's signature
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        if implicit[0] and len(value) > _MAX_RESOLVED:
            # No bool, null, number or date a manifest means is this long: a string, and no
            # resolver pattern runs over it.
            return _TAG + "str"
        key = (value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(value) <= 64 and len(self._resolved) < 50_000:
                self._resolved[key] = tag
        return tag


@dataclass
class Document:
    """One parsed document: its root node (None when empty), first line and Helm source."""

    index: int
    root: Node | None
    line: int
    source: str | None


class DocumentRefused(Exception):
    """A document is unsafe or malformed; carries the position to report."""

    def __init__(self, said: dict, line: int | None, column: int | None) -> None:
        super().__init__(said["message"])
        self.said = said  # `notice`'s message, key and values
        self.message = said["message"]
        self.line = line
        self.column = column


def decode(data: str | bytes, *, limits: Limits) -> str:
    """Turn pasted text or uploaded bytes into text with `\\n` line ends, or refuse it."""
    if isinstance(data, bytes):
        if len(data) > limits.max_bytes:
            raise ManifestRejected(
                **notice("too-large-bytes", size=f"{len(data):,}", limit=f"{limits.max_bytes:,}")
            )
        # UTF-32 first: its little-endian BOM starts with UTF-16's (FF FE).
        if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            encoding = "utf-32"
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        elif data.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        else:
            encoding = "utf-8"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            raise ManifestRejected(
                **notice("undecodable", encoding=encoding.upper(), byte=error.start)
            ) from None
    else:
        text = data
        if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
            raise ManifestRejected(**notice("too-large-text", limit=f"{limits.max_bytes:,}"))
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise ManifestRejected(**notice("nul-bytes"))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_documents(text: str) -> list[tuple[int, str]]:
    """Split a stream at `---` lines into (0-based first line, text) chunks.

    Directive lines (`%YAML 1.1`, `%TAG ...`) before a `---` belong to the document that
    follows: at the start of the stream, or after a `...` document end marker, they (and the
    blank and comment lines among them) are moved into the next chunk.
    """
    directives = "%" in text
    # A `---` line: `^---(?=[ \t]|$)` in multi-line mode. Each "\n---" is found with str.find (a
    # fast substring search; the regex `\n---(?=[ \t\n]|\Z)` tried its literal at every
    # character: 74 against about 5 µs on a paste of 20 KB); the first line is tested apart.
    separators = []
    at = text.find("\n---")
    while at >= 0:
        after = at + 4
        if after == len(text) or text[after] in " \t\n":
            separators.append(at + 1)
        at = text.find("\n---", after)
    if text.startswith("---") and (len(text) == 3 or text[3] in " \t\n"):
        separators.insert(0, 0)
    starts = [_directives_start(text, start) for start in separators] if directives else separators
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    chunks = []
    line = 0
    previous = 0
    for index, start in enumerate(starts):
        line += text.count("\n", previous, start)
        previous = start
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        chunks.append((line, text[start:end]))
    return chunks


def _directives_start(text: str, separator: int) -> int:
    """Where the directives introducing the `---` at `separator` start (or `separator`).

    Walks back one line at a time over directive, blank and comment lines; each line is seen
    once per separator, and the walk stops at the first other line, so it stays linear.
    """
    start = separator
    first_directive = None
    while start > 0:
        line_start = text.rfind("\n", 0, start - 1) + 1
        line = text[line_start : start - 1]
        if line.startswith("%"):
            first_directive = line_start
        elif line.strip() and not line.lstrip().startswith("#"):
            if first_directive is not None and _DOCUMENT_END.match(line):
                return first_directive
            return separator
        start = line_start
    return first_directive if first_directive is not None else separator


def _has_content(chunk: str) -> bool:
    """Whether a chunk holds more than a bare `---`, blank lines and comments."""
    # The usual chunk, `---` then a key at the start of the next line, has content at once (a
    # letter or digit is neither a blank nor `#`); the regex below answers the others.
    if chunk[4:5].isalnum() and chunk.startswith("---\n") or chunk[:1].isalnum():
        return True
    start = 0
    if chunk.startswith("---"):
        first_end = chunk.find("\n")
        first = chunk[3:first_end] if first_end >= 0 else chunk[3:]
        if first.strip() and not first.strip().startswith("#"):
            return True
        if first_end < 0:
            return False
        # Searched from just after that line's newline (where `^` matches) without copying it.
        start = first_end + 1
    return _CONTENT.search(chunk, start) is not None


def _could_be_deep(text: str) -> bool:
    """Whether deep block nesting is possible at all (two regex scans of the text)."""
    # A run of 40 blanks is 40 spaces or holds a tab: without either, the indent regex (which
    # tries every line) cannot match and is not run.
    if ("\t" in text or " " * 40 in text) and _DEEP_INDENT.search(text) is not None:
        return True
    return _COMPACT_RUN.search(text) is not None


def _check_depth(chunk: str, base: int, max_depth: int, *, block_deep: bool = True) -> None:
    """Refuse a chunk nested deeper than `max_depth`, without letting libyaml recurse.

    `block_deep=False` says the whole stream was scanned and holds no deep block nesting, so
    only the flow brackets of this chunk are counted (the regexes are not run per chunk).
    """
    could_be_deep = chunk.count("[") + chunk.count("{") > max_depth or (
        block_deep and _could_be_deep(chunk)
    )
    if not could_be_deep:
        return
    depth = 0
    try:
        for event in yaml.parse(chunk, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    mark = event.start_mark
                    raise DocumentRefused(
                        notice("too-deep", max_depth=max_depth),
                        mark.line + base + 1,
                        mark.column + 1,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # the compose pass reports the syntax error with its position


class _Converter:
    """Expands a composed node graph into the positioned tree, enforcing the limits."""

    def __init__(
        self,
        *,
        base: int,
        limits: Limits,
        budget: int,
        errors: list[ParseError],
        deadline: float | None = None,
    ):
        self.deadline = deadline
        self.base = base
        self.limits = limits
        self.budget = budget
        self.errors = errors
        self.seen: set[int] = set()
        self.aliases = 0
        self.nodes = 0

    def refuse(self, said: dict, node: yaml.Node) -> DocumentRefused:
        mark = node.start_mark
        return DocumentRefused(said, mark.line + self.base + 1, mark.column + 1)

    def convert(self, node: yaml.Node, depth: int) -> Node:
        self.nodes += 1
        # One document can be most of the input: the deadline is also checked inside it.
        if self.deadline is not None and not self.nodes % 4096 and time.monotonic() > self.deadline:
            raise self.refuse(notice("out-of-time-in-document"), node)
        if self.nodes > self.budget:
            raise self.refuse(notice("alias-bomb"), node)
        mark = node.start_mark
        line = mark.line + self.base + 1
        column = mark.column + 1
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            if tag not in _SCALAR_TAGS:
                raise self.refuse(notice("unsupported-tag", tag=repr(tag)), node)
            raw = node.value
            if len(raw) > self.limits.max_scalar_bytes:
                raise self.refuse(
                    notice("value-too-long", max_chars=f"{self.limits.max_scalar_bytes:,}"), node
                )
            convert = _CONVERT.get(tag)
            value = raw
            if tag in _NUMBER_TAGS and (":" in raw or len(raw) > _MAX_RESOLVED):
                # Base 60 (`1:30`) is YAML 1.1 only, and a longer number is nothing a manifest
                # means: both stay strings (also when tagged `!!int` explicitly).
                convert = None
            if convert is not None:
                try:
                    value = convert(node)
                except (ConstructorError, ValueError):
                    value = raw
            return Scalar(value, line, column, raw, node.style)
        if depth >= self.limits.max_depth:
            raise self.refuse(notice("too-deep", max_depth=self.limits.max_depth), node)
        key = id(node)
        if key in self.seen:
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise self.refuse(
                    notice("too-many-aliases", max_aliases=self.limits.max_aliases), node
                )
        else:
            self.seen.add(key)
        if isinstance(node, yaml.SequenceNode):
            if tag not in _SEQ_TAGS:
                raise self.refuse(notice("unsupported-tag", tag=repr(tag)), node)
            return Seq([self.convert(item, depth + 1) for item in node.value], line, column)
        if tag not in _MAP_TAGS:
            raise self.refuse(notice("unsupported-tag", tag=repr(tag)), node)
        return self.convert_map(node, line, column, depth)

    def convert_map(self, node: yaml.MappingNode, line: int, column: int, depth: int) -> Map:
        values: dict[str, Node] = {}
        keys: dict[str, tuple[int, int]] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(self.convert(value_node, depth + 1))
                continue
            key = self.convert(key_node, depth + 1)
            name = key.raw if isinstance(key, Scalar) else f"<{type(key).__name__} key>"
            if name in values:
                self.errors.append(
                    ParseError(
                        key.line,
                        key.column,
                        **notice("duplicate-key", key=repr(name), first_line=keys[name][0]),
                        severity="note",
                    )
                )
            values[name] = self.convert(value_node, depth + 1)
            keys[name] = (key.line, key.column)
        _apply_merges(values, keys, merges)
        return Map(values, line, column, keys)


class _MayBeTooDeep(Exception):
    """A chunk opens a collection deeper than `max_depth`: `_check_depth` decides."""


class _NeedsComposer(Exception):
    """The chunk uses anchors, aliases or a tagged merge key: the composer path handles it."""


_RESOLVER = yaml.resolver.Resolver()
_CONVERTED: dict[tuple[str, str], object] = {}
_SCALAR_EVENT = yaml.ScalarEvent
_MAPPING_START = yaml.MappingStartEvent
_SEQUENCE_START = yaml.SequenceStartEvent
_MAPPING_END = yaml.MappingEndEvent
_SEQUENCE_END = yaml.SequenceEndEvent
# The resolver's own object: `is` then tells a resolved string from any other tag at once.
_STR_TAG = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
_DOCUMENT_START_EVENT = yaml.DocumentStartEvent
_DOCUMENT_END_EVENT = yaml.DocumentEndEvent
_ALIAS_EVENT = yaml.AliasEvent
_DEFAULT_TAGS = {_MAPPING_START: _TAG + "map", _SEQUENCE_START: _TAG + "seq"}


# The tags PyYAML's resolver gives plain scalars, by text (bounded like `_Loader`'s memo).
# With no path resolvers registered (the safe loader has none), the resolver's answer for a
# plain scalar depends on its text only, and for any other untagged scalar on its implicit
# flags only: the tag patterns are tried on plain scalars alone.
_PLAIN_TAGS: dict[str, str] = {}
_QUOTED_TAGS: dict[tuple[bool, bool], str] = {}


def _plain_tag(value: str) -> str:
    """`_Loader.resolve` for a plain scalar, memoized by its text."""
    if len(value) > _MAX_RESOLVED:
        return _STR_TAG
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    if not _RESOLVER.yaml_path_resolvers and len(_PLAIN_TAGS) < 50_000:
        _PLAIN_TAGS[value] = tag
    return tag


def _resolve_scalar(value: str, implicit: tuple[bool, bool]) -> str:
    """`_Loader.resolve` for a quoted or block scalar, memoized by its implicit flags."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, implicit)
    if not _RESOLVER.yaml_path_resolvers:
        _QUOTED_TAGS[implicit] = tag
    return tag


def _scalar_value(tag: str, raw: str) -> object:
    """The typed value of a scalar, exactly as `_Converter.convert` computes it."""
    convert = _CONVERT.get(tag)
    if convert is None or (tag in _NUMBER_TAGS and (":" in raw or len(raw) > _MAX_RESOLVED)):
        return raw
    key = (tag, raw)
    if key in _CONVERTED:
        return _CONVERTED[key]
    try:
        value = convert(yaml.ScalarNode(tag, raw))
    except (ConstructorError, ValueError):
        value = raw
    if len(raw) <= 64 and len(_CONVERTED) < 50_000:
        _CONVERTED[key] = value
    return value


def _build_from_events(
    chunk: str,
    *,
    base: int,
    limits: Limits,
    budget: int,
    deadline: float | None,
    deep_stops: bool = False,
) -> list[Node | ParseError] | None:
    """The positioned trees of a chunk, built straight from libyaml's events, or None.

    The same trees, notes and refusals as composing the chunk and expanding it with
    `_Converter` (one converter per document), without allocating PyYAML nodes or calling
    the resolver for values already seen. The result lists, in order, each document's root
    and the notes and refusals of the chunk; a refused document contributes its refusal
    instead of a root. Nothing is kept when libyaml reports a syntax error anywhere in the
    chunk (it is raised, as with `compose_all`). None means the chunk holds an anchor, an
    alias or a tagged merge-key collection: the caller composes it instead, so that alias
    expansion and its limits stay in one place. The loop holds an explicit stack, so no
    input recurses in Python; depth is bounded by `limits.max_depth` as in the converter.
    With `deep_stops`, a collection opened deeper than that (in a refused document too)
    raises `_MayBeTooDeep` instead, so that the caller can refuse the chunk as
    `_check_depth` does (see `_parse_stream`).
    """
    get_event = CParser(chunk).get_event
    first_line = base + 1
    anchors_possible = "&" in chunk or "*" in chunk
    max_depth = limits.max_depth
    # No value of the chunk can be longer than the chunk: the length test is then skipped.
    max_scalar = limits.max_scalar_bytes if len(chunk) > limits.max_scalar_bytes else None
    # The clock is read every 4096 nodes, and only when there is a deadline: `check_at` is the
    # next node count at which the budget or the clock must be looked at, so that most nodes
    # pay one comparison for both.
    timed = deadline is not None
    first_check = check_at = _next_check(0, budget, timed)
    fast_below = check_at - 1 if max_scalar is None else 0
    plain = _PLAIN_TAGS
    resolved = _QUOTED_TAGS
    str_tag = _STR_TAG
    scalar_event = _SCALAR_EVENT
    out: list[Node | ParseError] = []
    # The innermost open collection lives in local variables (a look-up in a list per event
    # cost more than the rest of a scalar's handling): `values` (a list for a sequence, a dict
    # for a mapping), its line and column, and `state`: -1 = a sequence, or no collection
    # (depth 0); for a mapping 0 = a key is next, 1 = the value of the key `name` written at
    # `position`, 2 = the value of a `<<` merge key; `keys` maps key -> position and `merges`
    # collects merge sources (None until one is seen). Each enclosing collection's variables
    # wait in a tuple on `stack`; there is no recursion, so no input recurses in Python.
    stack: list[tuple] = []
    values: Any = None
    keys: Any = None
    merges: Any = None
    state = -1
    name: Any = None
    position: Any = None
    start_line = start_column = 0
    depth = 0
    nodes = 0
    refused = False
    skipped = 0  # while `refused`: how deep the events are
    root: Node | None = None
    while True:
        event = get_event()
        cls = event.__class__
        if anchors_possible and (cls is _ALIAS_EVENT or getattr(event, "anchor", None)):
            return None
        if cls is scalar_event:
            if refused:
                continue
            raw = event.value
            tag = event.tag
            if tag is None or tag == "!":
                implicit = event.implicit
                if implicit[0]:
                    # A plain scalar: its tag depends on its text only (see _plain_tag).
                    tag = plain.get(raw) or _plain_tag(raw)
                else:
                    tag = resolved.get(implicit) or _resolve_scalar(raw, implicit)
            # Most values are untagged strings: the resolver's own tag object says so at once.
            # Below `fast_below` nodes (no budget or clock test due at the next node, and no
            # value of the chunk can be too long) such a string needs none of the merge, tag,
            # limit and conversion tests of the general path that follows.
            if tag is str_tag and nodes < fast_below:
                nodes += 1
                mark = event.start_mark
                if state == 0:
                    # A mapping's scalar key: only its text and position are kept, no node.
                    line = mark.line + first_line
                    column = mark.column + 1
                    if raw in values:
                        out.append(_duplicate(raw, line, column, keys[raw][0]))
                    state = 1
                    name = raw
                    position = (line, column)
                    continue
                node = Scalar(raw, mark.line + first_line, mark.column + 1, raw, event.style)
                if state == 1:
                    values[name] = node
                    keys[name] = position
                    state = 0
                    continue
            else:
                plain_str = tag is str_tag
                if not plain_str and tag == _MERGE_TAG and state == 0:
                    state = 2  # a merge key is not itself part of the tree
                    continue
                nodes += 1
                mark = event.start_mark
                line = mark.line + first_line
                column = mark.column + 1
                if (
                    (nodes >= check_at and _over(nodes, budget, deadline))
                    or (not plain_str and tag not in _SCALAR_TAGS)
                    or (max_scalar is not None and len(raw) > max_scalar)
                ):
                    out.append(_refusal(line, column, tag, nodes, budget, deadline, limits))
                    refused = True
                    skipped = depth
                    continue
                if nodes >= check_at:
                    check_at = _next_check(nodes, budget, timed)
                    fast_below = check_at - 1 if max_scalar is None else 0
                if state == 0:
                    # A mapping's scalar key: only its text and position are kept, no node.
                    if raw in values:
                        out.append(_duplicate(raw, line, column, keys[raw][0]))
                    state = 1
                    name = raw
                    position = (line, column)
                    continue
                node = Scalar(
                    raw if plain_str or tag not in _CONVERT else _scalar_value(tag, raw),
                    line,
                    column,
                    raw,
                    event.style,
                )
        elif cls is _MAPPING_START or cls is _SEQUENCE_START:
            if refused:
                # The rest of a refused document makes no tree; its depth is still counted.
                skipped += 1
                if deep_stops and skipped > max_depth:
                    raise _MayBeTooDeep
                continue
            tag = event.tag
            if tag is None or tag == "!":
                tag = _DEFAULT_TAGS[cls]
            elif tag == _MERGE_TAG:
                return None
            nodes += 1
            mark = event.start_mark
            line = mark.line + first_line
            column = mark.column + 1
            if (
                (nodes >= check_at and _over(nodes, budget, deadline))
                or depth >= max_depth
                or tag not in (_SEQ_TAGS if cls is _SEQUENCE_START else _MAP_TAGS)
            ):
                if deep_stops and depth >= max_depth:
                    raise _MayBeTooDeep
                out.append(_refusal(line, column, tag, nodes, budget, deadline, limits, depth))
                refused = True
                skipped = depth + 1
                continue
            if nodes >= check_at:
                check_at = _next_check(nodes, budget, timed)
                fast_below = check_at - 1 if max_scalar is None else 0
            stack.append((values, keys, merges, state, name, position, start_line, start_column))
            depth += 1
            start_line = line
            start_column = column
            if cls is _SEQUENCE_START:
                values = []
                state = -1
            else:
                values = {}
                keys = {}
                merges = None
                state = 0
            continue
        elif cls is _MAPPING_END or cls is _SEQUENCE_END:
            if refused:
                skipped -= 1
                continue
            if state < 0:
                node = Seq(values, start_line, start_column)
            else:
                if merges is not None:
                    _apply_merges(values, keys, merges)
                node = Map(values, start_line, start_column, keys)
            values, keys, merges, state, name, position, start_line, start_column = stack.pop()
            depth -= 1
        elif cls is _DOCUMENT_START_EVENT:
            stack = []
            values = keys = merges = name = position = None
            state = -1
            depth = 0
            nodes = 0
            check_at = first_check
            fast_below = check_at - 1 if max_scalar is None else 0
            refused = False
            root = None
            continue
        elif cls is _DOCUMENT_END_EVENT:
            if not refused and root is not None:
                out.append(root)
            continue
        elif event is None:
            return out
        else:
            continue  # stream start and end
        # A finished node goes into the collection being built, as `_Converter` puts it.
        if not depth:
            root = node
        elif state < 0:
            values.append(node)
        elif state == 1:
            values[name] = node
            keys[name] = position
            state = 0
        elif state == 0:
            name = node.raw if node.__class__ is Scalar else f"<{type(node).__name__} key>"
            if name in values:
                out.append(_duplicate(name, node.line, node.column, keys[name][0]))
            state = 1
            position = (node.line, node.column)
        else:
            if merges is None:
                merges = []
            merges.append(node)
            state = 0


def _over(nodes: int, budget: int, deadline: float | None) -> bool:
    """Whether a document must stop at its `nodes`-th node: over the node budget, or at a
    4096th node past the deadline (the builder asks only at the counts `_next_check` gives)."""
    return nodes > budget or (
        deadline is not None and not nodes % 4096 and time.monotonic() > deadline
    )


def _next_check(nodes: int, budget: int, timed: bool) -> int:
    """The next node count after `nodes` at which `_over` can be true."""
    if not timed:
        return budget + 1
    return min(budget + 1, nodes - nodes % 4096 + 4096)


_DUPLICATE_KEY = NOTES["duplicate-key"]


def _duplicate(name: str, line: int, column: int, first: int) -> ParseError:
    """The note `convert_map` gives a key written twice in one mapping."""
    # Built here rather than through `notice`: a hostile paste can repeat a key 100 000 times.
    args = {"key": repr(name), "first_line": str(first)}
    return ParseError(line, column, _DUPLICATE_KEY.format_map(args), "note", "duplicate-key", args)


def _refusal(
    line: int,
    column: int,
    tag: str,
    nodes: int,
    budget: int,
    deadline: float | None,
    limits: Limits,
    depth: int | None = None,
) -> ParseError:
    """Why `_build_from_events` refuses a document at a node: the first of `convert`'s tests
    that fails, in `convert`'s order (`depth` is given for collections)."""
    if deadline is not None and not nodes % 4096 and time.monotonic() > deadline:
        said = notice("out-of-time-in-document")
    elif nodes > budget:
        said = notice("alias-bomb")
    elif depth is None and tag in _SCALAR_TAGS:
        said = notice("value-too-long", max_chars=f"{limits.max_scalar_bytes:,}")
    elif depth is not None and depth >= limits.max_depth:
        said = notice("too-deep", max_depth=limits.max_depth)
    else:
        said = notice("unsupported-tag", tag=repr(tag))
    return ParseError(line, column, **said)


def _apply_merges(values: dict, keys: dict, merges: list) -> None:
    """`<<: *base` merges: explicit keys win, earlier merge sources win over later ones."""
    for merged in merges:
        sources = merged.value if isinstance(merged, Seq) else [merged]
        for source in sources:
            if isinstance(source, Map):
                for name, value in source.value.items():
                    if name not in values:
                        values[name] = value
                        keys[name] = source.keys[name]


def _syntax_error(error: yaml.YAMLError, base: int) -> ParseError:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        parts = [part for part in (error.context, error.problem) if part]
        # libyaml's words are machine output: quoted as they are inside a translation.
        said = notice("yaml-syntax", problem="; ".join(parts)) if parts else notice("yaml-invalid")
        if mark is not None:
            return ParseError(mark.line + base + 1, mark.column + 1, **said)
        return ParseError(base + 1, None, **said)
    return ParseError(base + 1, None, **notice("yaml-invalid-error", error=type(error).__name__))


# The collector is paused while any thread parses and resumed when the last one ends: a
# per-call toggle would let one thread switch it back on in the middle of another's parse,
# or leave it off for good when two calls interleave.
_GC_LOCK = threading.Lock()
_gc_pausers = 0
_gc_resume = False


def _pause_gc() -> None:
    global _gc_pausers, _gc_resume
    with _GC_LOCK:
        if _gc_pausers == 0:
            _gc_resume = gc.isenabled()
            if _gc_resume:
                gc.disable()
        _gc_pausers += 1


def _resume_gc() -> None:
    global _gc_pausers
    with _GC_LOCK:
        _gc_pausers -= 1
        if _gc_pausers == 0 and _gc_resume:
            gc.enable()


def parse_stream(
    text: str, *, limits: Limits, deadline: float | None = None
) -> tuple[list[Document], list[ParseError]]:
    """Parse decoded text into positioned documents plus the errors of the refused ones.

    `deadline` (a `time.monotonic()` value) stops parsing between documents; the documents
    not parsed are named in a note.
    """
    # Composing allocates a node, two marks and our tree node per YAML value, all kept alive
    # until the end: the cyclic GC would rescan that growing heap again and again (measured
    # on 3 000 objects: compose 1.17 s with the GC, 0.41 s without). Nothing here creates
    # garbage cycles worth collecting early; the GC is back on when the last parse ends.
    _pause_gc()
    try:
        return _parse_stream(text, limits=limits, deadline=deadline)
    finally:
        _resume_gc()


def _parse_stream(
    text: str, *, limits: Limits, deadline: float | None
) -> tuple[list[Document], list[ParseError]]:
    documents: list[Document] = []
    errors: list[ParseError] = []
    # Whether the text could nest deeply in block style (no chunk can where the whole text
    # cannot): scanned once, and only when a chunk needs `_check_depth` (below).
    block_deep: bool | None = None
    for base, chunk in split_documents(text):
        if not _has_content(chunk):
            continue
        if deadline is not None and time.monotonic() > deadline:
            errors.append(ParseError(base + 1, 1, **notice("out-of-time-here")))
            break
        if len(documents) >= limits.max_documents:
            errors.append(
                ParseError(
                    base + 1,
                    1,
                    **notice("too-many-documents", max_documents=f"{limits.max_documents:,}"),
                )
            )
            break
        match = _HELM_SOURCE.search(chunk) if "Source:" in chunk else None
        source = match.group(1).rstrip() if match else None
        budget = len(chunk) + 10_000
        # `_check_depth` must refuse a chunk nested too deep before anything else is said
        # about it. The builder counts the depth of every event itself, so the chunk is
        # built first, and `_check_depth` runs only when the builder could not vouch for the
        # whole chunk: it met a collection too deep, a syntax error, or an anchor or alias
        # (it then stops early, and the composer, which recurses, takes the chunk). The text
        # scans and the second event walk are then left out for the other chunks (2.5% of
        # a paste of 50 objects); the outcome is the same as checking first.
        try:
            try:
                built = _build_from_events(
                    chunk,
                    base=base,
                    limits=limits,
                    budget=budget,
                    deadline=deadline,
                    deep_stops=True,
                )
            except (yaml.YAMLError, _MayBeTooDeep) as stopped:
                if block_deep is None:
                    block_deep = _could_be_deep(text)
                _check_depth(chunk, base, limits.max_depth, block_deep=block_deep)
                if not isinstance(stopped, _MayBeTooDeep):
                    raise
                built = _build_from_events(
                    chunk, base=base, limits=limits, budget=budget, deadline=deadline
                )
            if built is None:
                if block_deep is None:
                    block_deep = _could_be_deep(text)
                _check_depth(chunk, base, limits.max_depth, block_deep=block_deep)
        except DocumentRefused as refused:
            errors.append(ParseError(refused.line, refused.column, **refused.said))
            continue
        except yaml.YAMLError as error:
            errors.append(_syntax_error(error, base))
            continue
        if built is not None:
            for root in built:
                if isinstance(root, ParseError):
                    errors.append(root)
                elif not (isinstance(root, Scalar) and root.value is None):
                    documents.append(Document(len(documents), root, root.line, source))
            continue
        # Anchors or aliases: compose, so that libyaml resolves them, and expand the graph.
        try:
            composed = list(yaml.compose_all(chunk, Loader=_Loader))
        except DocumentRefused as refused:
            errors.append(ParseError(refused.line, refused.column, **refused.said))
            continue
        except yaml.YAMLError as error:
            errors.append(_syntax_error(error, base))
            continue
        except RecursionError:
            errors.append(ParseError(base + 1, 1, **notice("too-deep-to-parse")))
            continue
        for node in composed:
            # Each input character yields at most one node, so a tree much larger than the
            # text can only come from alias expansion.
            converter = _Converter(
                base=base,
                limits=limits,
                budget=budget,
                errors=errors,
                deadline=deadline,
            )
            try:
                root = converter.convert(node, 0)
            except DocumentRefused as refused:
                errors.append(ParseError(refused.line, refused.column, **refused.said))
                continue
            except RecursionError:
                errors.append(ParseError(base + 1, 1, **notice("too-deep-to-analyse")))
                continue
            if isinstance(root, Scalar) and root.value is None:
                continue
            documents.append(Document(len(documents), root, root.line, source))
    return documents, errors
