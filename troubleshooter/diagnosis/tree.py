"""The decision tree as data: load ``troubleshooter/data/*.yaml`` once and validate it.

A tree has three kinds of node, each a stable URL ``/troubleshoot/<id>/``:

- ``question``: a question and its answers, each answer leading to another node;
- ``cause``: a known cause, naming an article section and carrying a copy-ready fix;
- ``not-covered``: an honest "this is not a cause we know" answer, with advice.

Signatures map error text to a node: a phrase with ``{name}`` wildcards (``pod {pod} requires
volume {volume} which is of an unsupported type``) or a regular expression with literal anchors.
Each carries matching examples and near misses, which the test-suite runs.

Every problem found while loading is reported at once, each naming its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kb.errortext import normalize
from troubleshooter.diagnosis.spelling import canonical_cjk, reading

__all__ = [
    "ARTICLES_DIR",
    "DEFAULT_TREE_FILES",
    "NODE_ID_RE",
    "SECTIONS",
    "CauseNode",
    "Node",
    "NotCoveredNode",
    "Option",
    "QuestionNode",
    "Signature",
    "Tree",
    "TreeError",
    "TreeProblem",
    "article_slugs",
    "get_tree",
    "load_tree",
    "localize",
]

_ROOT = Path(__file__).resolve().parents[2]
ARTICLES_DIR = _ROOT / "articles"
# The explicit list of tree files, in load order. Add a file here; nothing is discovered.
DEFAULT_TREE_FILES: tuple[Path, ...] = (_ROOT / "troubleshooter" / "data" / "tree.yaml",)

# Node ids are URL path segments and must never change once published.
NODE_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MAX_ID_LENGTH = 80
# The section anchors every article has (see the article template).
SECTIONS = ("symptoms", "cause", "fix", "confirm", "prevent", "references")
_WILDCARD_RE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# A wildcard stands for one token of the normalized line (a pod name, an address, a path).
_WILDCARD_PATTERN = r"\S{1,200}"
_PROBE_WORD_RE = re.compile(r"[a-z_]{3,}|[\u3040-\u30ff\u3400-\u9fff]{2,}")


@dataclass(frozen=True)
class TreeProblem:
    """One validation problem, located in a tree file."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class TreeError(ValueError):
    """The tree files are invalid; ``problems`` lists every problem with its file and line."""

    def __init__(self, problems: Sequence[TreeProblem]):
        self.problems = tuple(problems)
        super().__init__("invalid troubleshooting tree:\n" + "\n".join(map(str, self.problems)))


@dataclass(frozen=True)
class Option:
    """One answer to a question: a button label, the node it leads to, and the words that
    answer it without asking (matched as whole words in the pasted text)."""

    label: str
    target: str
    when: tuple[str, ...] = ()
    line: int = field(default=0, compare=False)
    i18n: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class QuestionNode:
    id: str
    text: str
    options: tuple[Option, ...]
    help: str = ""
    path: Path = field(default=Path(), compare=False)
    line: int = field(default=0, compare=False)
    i18n: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)
    kind = "question"


@dataclass(frozen=True)
class CauseNode:
    """A known cause: a reference to an article section. Its title, summary and fix come from
    the article; ``title`` here only narrows it (one article may explain several variants)."""

    id: str
    article: str
    section: str
    title: str = ""
    path: Path = field(default=Path(), compare=False)
    line: int = field(default=0, compare=False)
    article_line: int = field(default=0, compare=False)
    i18n: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)
    kind = "cause"


@dataclass(frozen=True)
class NotCoveredNode:
    """An honest "not one of ours" answer. When it says what its mechanism looks like
    (``symptoms``, ``reports``, ``mechanism``: the same keys as an article's front matter), the
    diagnosis weighs it beside the articles, so a text that is this neighbour's and not ours
    is refused with its advice instead of being named as the closest article."""

    id: str
    title: str
    advice: str
    symptoms: tuple[str, ...] = ()
    reports: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    mechanism: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    sources: tuple[str, ...] = ()
    path: Path = field(default=Path(), compare=False)
    line: int = field(default=0, compare=False)
    i18n: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)
    kind = "not-covered"

    @property
    def looks_like(self) -> bool:
        """Whether it carries evidence of its own (a neighbour of our causes)."""
        return bool(self.symptoms or any(self.reports.values()))


Node = QuestionNode | CauseNode | NotCoveredNode


@dataclass(frozen=True)
class Signature:
    """Error text that points at a node."""

    id: str
    target: str
    text: str  # the phrase or regex as written in the tree file
    pattern: re.Pattern[str]  # matched against one normalized line
    probes: tuple[str, ...]  # at least one occurs in any matching line: a cheap pre-filter
    specificity: int  # literal characters, minus a penalty per wildcard
    examples: tuple[str, ...]
    near_misses: tuple[str, ...]
    path: Path = field(default=Path(), compare=False)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Tree:
    start: str
    nodes: dict[str, Node]
    signatures: tuple[Signature, ...]

    def node(self, node_id: str) -> Node:
        """Return the node ``node_id``; raise ``KeyError`` for an unknown id."""
        return self.nodes[node_id]


# --- YAML with line numbers ---------------------------------------------------------------------


class _LineDict(dict):
    """A mapping from the YAML file that remembers its own line and each value's line."""

    line: int
    lines: dict[str, int]


class _Loader(yaml.CSafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = value_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# --- Articles -------------------------------------------------------------------------------------

_SLUG_LINE_RE = re.compile(r"^slug:\s*['\"]?([a-z0-9-]+)['\"]?\s*$", re.MULTILINE)


def article_slugs(directory: Path = ARTICLES_DIR) -> frozenset[str]:
    """Return the ``slug:`` values from the front matter of ``directory/*.md``."""
    slugs = set()
    for path in sorted(directory.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if not text.startswith("---"):
            continue
        front_matter = text[3 : text.find("\n---", 3)]
        found = _SLUG_LINE_RE.search(front_matter)
        if found:
            slugs.add(found.group(1))
    return frozenset(slugs)


# --- Loading --------------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[TreeProblem] = []

    def add(self, path: Path, line: int, message: str) -> None:
        self.items.append(TreeProblem(path, line, message))


_NODE_KEYS = {
    "question": ({"id", "kind", "text", "options"}, {"help"}),
    "cause": ({"id", "kind", "article", "section"}, {"title"}),
    "not-covered": (
        {"id", "kind", "title", "advice"},
        {"symptoms", "reports", "mechanism", "sources"},
    ),
}
_SIGNATURE_KEYS = (
    {"id", "goto", "examples", "near_misses"},
    {"phrase", "regex", "anchors"},
)
_OPTION_KEYS = ({"label", "goto"}, {"when"})


def _line(mapping: Any, key: str | None = None) -> int:
    if isinstance(mapping, _LineDict):
        return mapping.lines.get(key, mapping.line) if key else mapping.line
    return 0


def _check_keys(
    item: _LineDict,
    required: set[str],
    optional: set[str],
    path: Path,
    problems: _Problems,
    what: str,
) -> bool:
    ok = True
    for key in sorted(required - item.keys()):
        problems.add(path, item.line, f"{what} is missing {key!r}")
        ok = False
    for key in sorted(item.keys() - required - optional):
        problems.add(path, _line(item, key), f"{what} has unknown key {key!r}")
        ok = False
    return ok


TEXT_LANGS = ("en", "ja", "zh")


def _text(
    item: _LineDict,
    key: str,
    path: Path,
    problems: _Problems,
    what: str,
    i18n: dict[str, dict[str, str]] | None = None,
) -> str:
    """A text field: a string (English) or ``{en: ..., ja: ..., zh: ...}`` (en required).

    The translations go into ``i18n[key]``; the English text is returned.
    """
    value = item.get(key)
    if isinstance(value, _LineDict):
        unknown = sorted(set(value) - set(TEXT_LANGS))
        if unknown:
            problems.add(
                path,
                _line(value, unknown[0]),
                f"{what}: {key!r} has unknown language {unknown[0]!r}",
            )
        texts = {}
        for lang in TEXT_LANGS:
            text = value.get(lang)
            if text is None and lang != "en":
                continue
            if not isinstance(text, str) or not text.strip():
                problems.add(
                    path, _line(value, lang), f"{what}: {key}.{lang} must be a non-empty string"
                )
                continue
            texts[lang] = text.strip()
        if i18n is not None:
            i18n[key] = texts
        return texts.get("en", "")
    if not isinstance(value, str) or not value.strip():
        problems.add(path, _line(item, key), f"{what}: {key!r} must be a non-empty string")
        return ""
    if i18n is not None:
        i18n[key] = {"en": value.strip()}
    return value.strip()


def localize(obj: Any, lang: str) -> Any:
    """A copy of a node or option with its texts in ``lang`` (English where untranslated)."""
    import dataclasses

    changes = {}
    for key, texts in getattr(obj, "i18n", {}).items():
        changes[key] = texts.get(lang) or texts.get("en", getattr(obj, key))
    if isinstance(obj, QuestionNode):
        changes["options"] = tuple(localize(option, lang) for option in obj.options)
    return dataclasses.replace(obj, **changes) if changes else obj


def _strings(
    item: _LineDict, key: str, path: Path, problems: _Problems, what: str
) -> tuple[str, ...]:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.add(path, _line(item, key), f"{what}: {key!r} must be a list of strings")
        return ()
    return tuple(v.strip() for v in value)


def _check_id(node_id: Any, path: Path, line: int, problems: _Problems, what: str) -> bool:
    if not isinstance(node_id, str) or not NODE_ID_RE.match(node_id) or len(node_id) > 80:
        problems.add(path, line, f"{what} id {node_id!r} is not kebab-case (a-z, 0-9, '-')")
        return False
    return True


def _parse_node(item: Any, path: Path, problems: _Problems) -> Node | None:
    if not isinstance(item, _LineDict):
        problems.add(path, 0, "a node must be a mapping")
        return None
    kind = item.get("kind")
    if kind not in _NODE_KEYS:
        problems.add(
            path, _line(item, "kind"), f"node kind {kind!r} is not one of {sorted(_NODE_KEYS)}"
        )
        return None
    required, optional = _NODE_KEYS[kind]
    if not _check_keys(item, required, optional, path, problems, f"{kind} node"):
        return None
    if not _check_id(item["id"], path, _line(item, "id"), problems, "node"):
        return None
    what = f"node {item['id']!r}"
    if kind == "question":
        options = []
        raw_options = item["options"]
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            problems.add(
                path, _line(item, "options"), f"{what}: a question needs two options or more"
            )
            return None
        for raw in raw_options:
            if not isinstance(raw, _LineDict) or not _check_keys(
                raw, *_OPTION_KEYS, path, problems, f"{what} option"
            ):
                continue
            option_i18n: dict[str, dict[str, str]] = {}
            options.append(
                Option(
                    label=_text(raw, "label", path, problems, what, option_i18n),
                    i18n=option_i18n,
                    target=str(raw["goto"]),
                    when=tuple(w.lower() for w in _strings(raw, "when", path, problems, what)),
                    line=_line(raw, "goto"),
                )
            )
        i18n: dict[str, dict[str, str]] = {}
        return QuestionNode(
            id=item["id"],
            text=_text(item, "text", path, problems, what, i18n),
            help=_text(item, "help", path, problems, what, i18n) if "help" in item else "",
            options=tuple(options),
            path=path,
            line=item.line,
            i18n=i18n,
        )
    if kind == "cause":
        section = item["section"]
        if section not in SECTIONS:
            problems.add(path, _line(item, "section"), f"{what}: unknown section {section!r}")
        i18n = {}
        return CauseNode(
            id=item["id"],
            title=_text(item, "title", path, problems, what, i18n) if "title" in item else "",
            article=str(item["article"]),
            section=str(section),
            path=path,
            line=item.line,
            article_line=_line(item, "article"),
            i18n=i18n,
        )
    i18n = {}
    return NotCoveredNode(
        id=item["id"],
        title=_text(item, "title", path, problems, what, i18n),
        advice=_text(item, "advice", path, problems, what, i18n),
        symptoms=_strings(item, "symptoms", path, problems, what),
        reports=_grouped(item, "reports", TEXT_LANGS, path, problems, what),
        mechanism=_grouped(item, "mechanism", FACET_NAMES, path, problems, what),
        sources=_strings(item, "sources", path, problems, what),
        path=path,
        line=item.line,
        i18n=i18n,
    )


FACET_NAMES = ("component", "storage", "effect", "context", "applied")


def _grouped(
    item: _LineDict,
    key: str,
    names: Sequence[str],
    path: Path,
    problems: _Problems,
    what: str,
) -> dict[str, tuple[str, ...]]:
    """``{name: [strings]}`` with names from ``names`` (reports by language, mechanism terms
    by facet), as in an article's front matter."""
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, _LineDict):
        problems.add(path, _line(item, key), f"{what}: {key!r} must be a mapping of {list(names)}")
        return {}
    result = {}
    for name in value:
        if name not in names:
            problems.add(
                path, _line(value, name), f"{what}: {key} has unknown key {name!r} ({list(names)})"
            )
            continue
        result[name] = _strings(value, name, path, problems, f"{what} {key}")
    return result


def _light_normalize(text: str) -> str:
    """Normalize a phrase's literal part the way the diagnosis reads a line (``reading``,
    then ``normalize``), noise aside."""
    if not text.strip():
        return text.replace("\t", " ")
    return " ".join(normalize(reading(text)).split())


def _compile_phrase(phrase: str) -> tuple[re.Pattern[str], tuple[str, ...], int]:
    parts = _WILDCARD_RE.split(phrase)
    literals = parts[0::2]
    names = parts[1::2]
    regex = []
    for index, literal in enumerate(literals):
        # Keep the spaces around a wildcard ("pod {pod} requires"): normalize() would strip them.
        lead = " " if literal[:1].isspace() and index else ""
        trail = " " if literal[-1:].isspace() and index < len(names) else ""
        core = _light_normalize(literal) if literal.strip() else ""
        regex.append(re.escape(lead + core + trail) if core else re.escape(lead or trail))
        if index < len(names):
            regex.append(f"(?P<{names[index]}>{_WILDCARD_PATTERN})")
    literal_text = " ".join(_light_normalize(part) for part in literals if part.strip())
    specificity = len(literal_text.replace(" ", "")) - 6 * len(names)
    return re.compile("".join(regex)), _probes([literal_text]), specificity


def _probes(anchors: Iterable[str]) -> tuple[str, ...]:
    """The longest word of each anchor: a line that matches must contain one of them."""
    probes = []
    for anchor in anchors:
        words = _PROBE_WORD_RE.findall(anchor.lower())
        probes.append(max(words, key=len) if words else anchor.lower())
    return tuple(dict.fromkeys(p for p in probes if p))


def _parse_signature(item: Any, path: Path, problems: _Problems) -> Signature | None:
    if not isinstance(item, _LineDict):
        problems.add(path, 0, "a signature must be a mapping")
        return None
    if not _check_keys(item, *_SIGNATURE_KEYS, path, problems, "signature"):
        return None
    if not _check_id(item["id"], path, _line(item, "id"), problems, "signature"):
        return None
    what = f"signature {item['id']!r}"
    examples = _strings(item, "examples", path, problems, what)
    near_misses = _strings(item, "near_misses", path, problems, what)
    if not examples:
        problems.add(path, _line(item, "examples"), f"{what} has no example")
    if not near_misses:
        problems.add(path, _line(item, "near_misses"), f"{what} has no near miss")
    if ("phrase" in item) == ("regex" in item):
        problems.add(path, item.line, f"{what} needs exactly one of 'phrase' or 'regex'")
        return None
    if "phrase" in item:
        text = _text(item, "phrase", path, problems, what)
        if "anchors" in item:
            problems.add(path, _line(item, "anchors"), f"{what}: a phrase has no 'anchors'")
        try:
            pattern, probes, specificity = _compile_phrase(text)
        except re.error as error:
            problems.add(path, _line(item, "phrase"), f"{what}: bad phrase: {error}")
            return None
    else:
        text = _text(item, "regex", path, problems, what)
        anchors = _strings(item, "anchors", path, problems, what)
        if not anchors:
            problems.add(
                path, item.line, f"{what}: a regex needs 'anchors' (literal text it requires)"
            )
            return None
        try:
            pattern = re.compile(text)
        except re.error as error:
            problems.add(path, _line(item, "regex"), f"{what}: bad regex: {error}")
            return None
        # Lines are matched as the diagnosis reads them (troubleshooter/diagnosis/spelling.py).
        # A phrase is read so too; a regex cannot be (its syntax is not text), so it must be
        # written as read: in lower case (not checked: \S and \W are syntax), Simplified, a
        # space between CJK and Latin, no closing long-vowel mark on a katakana word. One that
        # canonical_cjk would change could never match: refused here.
        if canonical_cjk(text) != text:
            problems.add(
                path,
                _line(item, "regex"),
                f"{what}: write the regex as the diagnosis reads a line: {canonical_cjk(text)!r}",
            )
            return None
        probes = _probes(reading(a) for a in anchors)
        specificity = min(len(a) for a in anchors) + 12
    return Signature(
        id=item["id"],
        target=str(item["goto"]),
        text=text,
        pattern=pattern,
        probes=probes,
        specificity=specificity,
        examples=examples,
        near_misses=near_misses,
        path=path,
        line=item.line,
    )


def load_tree(
    paths: Sequence[Path] = DEFAULT_TREE_FILES, *, known_articles: Collection[str] | None = None
) -> Tree:
    """Load and validate the tree files; raise ``TreeError`` listing every problem found.

    ``known_articles`` is the set of article slugs a cause may name (default: the ``slug:``
    lines of ``articles/*.md``).
    """
    if known_articles is None:
        known_articles = article_slugs()
    problems = _Problems()
    nodes: dict[str, Node] = {}
    signatures: dict[str, Signature] = {}
    start: tuple[str, Path, int] | None = None
    for path in paths:
        path = Path(path)
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problems.add(path, mark.line + 1 if mark else 0, f"YAML: {error.problem}")
            continue
        except (OSError, yaml.YAMLError) as error:
            problems.add(path, 0, f"cannot read: {error}")
            continue
        if not isinstance(document, _LineDict):
            problems.add(path, 1, "a tree file must be a mapping with 'nodes' and 'signatures'")
            continue
        for key in sorted(document.keys() - {"start", "nodes", "signatures"}):
            problems.add(path, _line(document, key), f"unknown top-level key {key!r}")
        if "start" in document:
            if start is not None:
                problems.add(path, _line(document, "start"), f"'start' already set in {start[1]}")
            else:
                start = (str(document["start"]), path, _line(document, "start"))
        for item in document.get("nodes") or []:
            node = _parse_node(item, path, problems)
            if node is None:
                continue
            if node.id in nodes:
                other = nodes[node.id]
                problems.add(
                    path,
                    node.line,
                    f"duplicate node id {node.id!r} (first at {other.path}:{other.line})",
                )
                continue
            nodes[node.id] = node
        for item in document.get("signatures") or []:
            signature = _parse_signature(item, path, problems)
            if signature is None:
                continue
            if signature.id in signatures:
                other = signatures[signature.id]
                problems.add(
                    path,
                    signature.line,
                    f"duplicate signature id {signature.id!r} (first at {other.path}:{other.line})",
                )
                continue
            signatures[signature.id] = signature
    if start is None:
        first = Path(paths[0]) if paths else Path()
        problems.add(first, 1, "no 'start' node declared")
    elif start[0] not in nodes:
        problems.add(start[1], start[2], f"start node {start[0]!r} does not exist")
    _check_references(nodes, signatures, known_articles, problems)
    _check_cycles(nodes, problems)
    if start is not None:
        _check_reachable(start[0], nodes, signatures, problems)
    if problems.items:
        raise TreeError(problems.items)
    assert start is not None
    return Tree(start=start[0], nodes=nodes, signatures=tuple(signatures.values()))


def _check_references(
    nodes: dict[str, Node],
    signatures: dict[str, Signature],
    known_articles: Collection[str],
    problems: _Problems,
) -> None:
    for node in nodes.values():
        if isinstance(node, QuestionNode):
            for option in node.options:
                if option.target not in nodes:
                    problems.add(
                        node.path,
                        option.line or node.line,
                        f"node {node.id!r}: option goes to unknown node {option.target!r}",
                    )
        elif isinstance(node, CauseNode) and node.article not in known_articles:
            problems.add(
                node.path,
                node.article_line or node.line,
                f"node {node.id!r}: unknown article slug {node.article!r}",
            )
    for signature in signatures.values():
        if signature.target not in nodes:
            problems.add(
                signature.path,
                signature.line,
                f"signature {signature.id!r} goes to unknown node {signature.target!r}",
            )
        elif isinstance(nodes[signature.target], CauseNode):
            # What a cause looks like lives in its article's front matter (one place).
            problems.add(
                signature.path,
                signature.line,
                f"signature {signature.id!r} goes to the cause {signature.target!r}: list the "
                f"string under 'symptoms' of the article instead",
            )


def _check_cycles(nodes: dict[str, Node], problems: _Problems) -> None:
    # Iterative depth-first search with three colours; a grey node reached again closes a cycle.
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(nodes, white)
    for root in nodes:
        if colour[root] != white:
            continue
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(_children(nodes[root], nodes)))]
        colour[root] = grey
        trail = [root]
        while stack:
            node_id, children = stack[-1]
            child = next(iter(children), None)
            if child is None:
                colour[node_id] = black
                stack.pop()
                trail.pop()
                continue
            if colour[child] == grey:
                cycle = trail[trail.index(child) :] + [child]
                node = nodes[child]
                problems.add(node.path, node.line, "cycle: " + " -> ".join(cycle))
            elif colour[child] == white:
                colour[child] = grey
                trail.append(child)
                stack.append((child, iter(_children(nodes[child], nodes))))


def _children(node: Node, nodes: dict[str, Node]) -> list[str]:
    if isinstance(node, QuestionNode):
        return [o.target for o in node.options if o.target in nodes]
    return []


def _check_reachable(
    start: str, nodes: dict[str, Node], signatures: dict[str, Signature], problems: _Problems
) -> None:
    # Cause nodes are entry points too: the diagnosis reaches them through their articles;
    # so are the neighbours (not-covered nodes with evidence), through their own evidence.
    roots = [start] + [s.target for s in signatures.values()]
    roots += [n.id for n in nodes.values() if isinstance(n, CauseNode)]
    roots += [n.id for n in nodes.values() if isinstance(n, NotCoveredNode) and n.looks_like]
    seen: set[str] = set()
    pending = [r for r in roots if r in nodes]
    while pending:
        node_id = pending.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        pending.extend(_children(nodes[node_id], nodes))
    for node in nodes.values():
        if node.id not in seen:
            problems.add(
                node.path,
                node.line,
                f"node {node.id!r} is unreachable from the start node or any signature",
            )


@cache
def get_tree() -> Tree:
    """Return the default tree, loaded and validated on first use."""
    return load_tree()
