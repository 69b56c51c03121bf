"""What a cause looks like, read from the curated articles' front matter (one place).

An English article that carries ``symptoms`` or ``reports`` in its front matter is a cause the
troubleshooter can name::

    symptoms: ["exact machine string", ...]          # strongest evidence, matched tolerantly
    reports: {en: [...], ja: [...], zh: [...]}      # how people describe it, in our own words
    near_misses: ["looks alike but is not this", ...]
    mechanism: {component: [...], storage: [...], effect: [...], context: [...]}  # optional

Nothing else is needed: a team that imports its own article with these keys teaches the
troubleshooter a new cause. Every problem is reported at once with its file and line.

No Django imports: ``troubleshooter.diagnosis.source`` builds the knowledge from the imported
database rows; tests and tools may build it from a folder with ``load_articles_dir``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from troubleshooter.diagnosis.tree import (
    NotCoveredNode,
    Tree,
    TreeError,
    TreeProblem,
    _LineDict,
    _Loader,
)

__all__ = [
    "DIAGNOSIS_KEYS",
    "FACETS",
    "LANGS",
    "NEIGHBOUR_PREFIX",
    "ArticleCause",
    "Knowledge",
    "article_cause_from_text",
    "load_articles_dir",
    "neighbours_of",
    "translation_text",
    "with_translations",
]

LANGS = ("en", "ja", "zh")
# component, storage, effect: words of the mechanism itself (en/ja/zh). context: the setting
# the mechanism needs at all (kube-proxy's rewrite needs a Kubernetes Service): a text that
# names none of an article's context words describes the effect somewhere else. applied: words
# that say the article's fix is already in place (externalTrafficPolicy: Local, no subPath):
# the trouble that remains is most often another one.
FACETS = ("component", "storage", "effect", "context", "applied")
DIAGNOSIS_KEYS = ("symptoms", "reports", "near_misses", "mechanism")
# The slugs of the tree's neighbours (not-covered mechanisms weighed beside the articles).
NEIGHBOUR_PREFIX = "not-covered/"
_OPENING_RE = re.compile(r"\A---[ \t]*\r?\n")
_CLOSING_RE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_FENCE_RE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Limits that keep one article from slowing every diagnosis down.
_MAX_STRINGS = 200
_MAX_STRING_CHARS = 500
_MAX_PROSE_CHARS = 200_000


@dataclass(frozen=True)
class ArticleCause:
    """One curated article as a cause: its evidence and what the answer shows."""

    slug: str
    title: str
    summary: str = ""
    symptoms: tuple[str, ...] = ()
    reports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    near_misses: tuple[str, ...] = ()
    mechanism: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()
    fix: str = ""  # the first code block of the article's Fix section
    path: str = ""
    # The article's own text in every language it is written in (the English body, then each
    # translation's title, summary and body): the widest vocabulary of the cause, weighed
    # apart from the front matter's evidence.
    prose: tuple[str, ...] = ()


@dataclass(frozen=True)
class Knowledge:
    """The causes the troubleshooter can name, with a key that changes when they change."""

    causes: tuple[ArticleCause, ...]
    generation: str = ""

    def cause(self, slug: str) -> ArticleCause | None:
        for cause in self.causes:
            if cause.slug == slug:
                return cause
        return None


def _split(text: str) -> tuple[str, str, int] | None:
    """(YAML text, body, line number of the first YAML line) or None without front matter."""
    opening = _OPENING_RE.match(text)
    if not opening:
        return None
    closing = _CLOSING_RE.search(text, opening.end())
    if not closing:
        return None
    return text[opening.end() : closing.start()], text[closing.end() :], 2


def _fix_block(body: str) -> str:
    """The first fenced code block under the ``## Fix`` heading ('' when there is none)."""
    match = re.search(r"^## +Fix\b[^\n]*$", body, re.MULTILINE)
    if not match:
        return ""
    following = re.search(r"^## ", body[match.end() :], re.MULTILINE)
    section = body[match.end() : match.end() + following.start() if following else len(body)]
    block = _FENCE_RE.search(section)
    return block.group(1).rstrip() if block else ""


def _strings(
    value: Any, where: str, path: Path, line: int, problems: list[TreeProblem]
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(TreeProblem(path, line, f"{where} must be a list of non-empty strings"))
        return ()
    if len(value) > _MAX_STRINGS:
        problems.append(TreeProblem(path, line, f"{where} holds more than {_MAX_STRINGS} items"))
        return ()
    long = [v for v in value if len(v) > _MAX_STRING_CHARS]
    if long:
        problems.append(
            TreeProblem(path, line, f"{where}: an item is over {_MAX_STRING_CHARS} characters")
        )
        return ()
    return tuple(v.strip() for v in value)


def _by_key(
    value: Any,
    keys: Sequence[str],
    where: str,
    path: Path,
    line: int,
    problems: list[TreeProblem],
    offset: int,
) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, _LineDict):
        problems.append(TreeProblem(path, line, f"{where} must be a mapping of {list(keys)}"))
        return {}
    result = {}
    for key, items in value.items():
        key_line = value.lines.get(key, value.line) + offset
        if key not in keys:
            problems.append(
                TreeProblem(path, key_line, f"{where}: unknown key {key!r} (use {list(keys)})")
            )
            continue
        result[key] = _strings(items, f"{where}.{key}", path, key_line, problems)
    return result


def article_cause_from_text(
    text: str, *, path: Path | str = "", title: str = "", summary: str = "", body: str = ""
) -> ArticleCause | None:
    """The cause an article's text describes, or None when its front matter names no evidence.

    ``text`` is the whole file (front matter and body). ``title`` and ``summary`` override the
    front matter's (the database row's values, when the article was edited in the admin).
    Raises ``TreeError`` with file:line problems when the diagnosis keys are malformed.
    """
    path = Path(path)
    parts = _split(text)
    if parts is None:
        return None
    yaml_text, file_body, first_line = parts
    offset = first_line - 1
    problems: list[TreeProblem] = []
    try:
        meta = yaml.load(yaml_text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + first_line if mark else first_line
        raise TreeError([TreeProblem(path, line, f"YAML: {error.problem}")]) from None
    except yaml.YAMLError as error:
        raise TreeError([TreeProblem(path, first_line, f"YAML: {error}")]) from None
    if not isinstance(meta, _LineDict) or not any(key in meta for key in DIAGNOSIS_KEYS):
        return None
    if meta.get("translation_of") or (meta.get("lang") not in (None, "en")):
        where = next(key for key in DIAGNOSIS_KEYS if key in meta)
        raise TreeError(
            [
                TreeProblem(
                    path,
                    meta.lines[where] + offset,
                    f"{where!r} belongs in the English original only (one place)",
                )
            ]
        )

    def line(key: str) -> int:
        return meta.lines.get(key, meta.line) + offset

    slug = meta.get("slug") or path.stem
    if not isinstance(slug, str) or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug):
        problems.append(TreeProblem(path, line("slug"), f"invalid slug {slug!r}"))
    symptoms = _strings(meta.get("symptoms"), "symptoms", path, line("symptoms"), problems)
    near_misses = _strings(
        meta.get("near_misses"), "near_misses", path, line("near_misses"), problems
    )
    reports = _by_key(
        meta.get("reports"), LANGS, "reports", path, line("reports"), problems, offset
    )
    mechanism = _by_key(
        meta.get("mechanism"), FACETS, "mechanism", path, line("mechanism"), problems, offset
    )
    if not symptoms and not any(reports.values()):
        problems.append(
            TreeProblem(path, meta.line + offset, "a cause needs 'symptoms' or 'reports'")
        )
    overlap = set(symptoms) & set(near_misses)
    if overlap:
        problems.append(
            TreeProblem(
                path,
                line("near_misses"),
                f"listed both as symptom and near miss: {sorted(overlap)[0]!r}",
            )
        )
    keywords: list[str] = []
    raw_keywords = meta.get("keywords")
    if isinstance(raw_keywords, dict):
        for words in raw_keywords.values():
            if isinstance(words, list):
                keywords.extend(str(w) for w in words if isinstance(w, (str, int)))
    elif isinstance(raw_keywords, list):
        keywords.extend(str(w) for w in raw_keywords if isinstance(w, (str, int)))
    if problems:
        raise TreeError(problems)
    return ArticleCause(
        slug=str(slug),
        title=title or str(meta.get("title") or slug),
        summary=summary or str(meta.get("summary") or ""),
        symptoms=symptoms,
        reports=reports,
        near_misses=near_misses,
        mechanism=mechanism,
        keywords=tuple(keywords),
        fix=_fix_block(body or file_body),
        path=str(path),
        prose=((body or file_body)[:_MAX_PROSE_CHARS],),
    )


def with_translations(cause: ArticleCause, texts: Iterable[str]) -> ArticleCause:
    """The cause with its translations' text added to its prose."""
    extra = tuple(t[:_MAX_PROSE_CHARS] for t in texts if t)
    return replace(cause, prose=cause.prose + extra) if extra else cause


def translation_text(text: str) -> tuple[str, str] | None:
    """(slug of the original, title + summary + body) of a translation file, else None."""
    parts = _split(text)
    if parts is None:
        return None
    try:
        meta = yaml.safe_load(parts[0])
    except yaml.YAMLError:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("translation_of"), str):
        return None
    head = "\n".join(str(meta.get(k) or "") for k in ("title", "summary"))
    return meta["translation_of"], f"{head}\n{parts[1]}"


def load_articles_dir(directory: Path, *, generation: str = "files") -> Knowledge:
    """The causes described by ``directory/*.md`` (English originals); problems raise at once."""
    causes: list[ArticleCause] = []
    problems: list[TreeProblem] = []
    translations: dict[str, list[str]] = {}
    for path in sorted(Path(directory).glob("*.md")):
        text = path.read_text(encoding="utf-8")
        try:
            cause = article_cause_from_text(text, path=path)
        except TreeError as error:
            problems.extend(error.problems)
            continue
        if cause is not None:
            causes.append(cause)
        elif (found := translation_text(text)) is not None:
            translations.setdefault(found[0], []).append(found[1])
    if problems:
        raise TreeError(problems)
    causes = [with_translations(c, translations.get(c.slug, ())) for c in causes]
    return Knowledge(causes=tuple(causes), generation=generation)


def knowledge_from(causes: Iterable[ArticleCause], generation: str) -> Knowledge:
    """Knowledge from already parsed causes, sorted by slug (stable results)."""
    return Knowledge(causes=tuple(sorted(causes, key=lambda c: c.slug)), generation=generation)


_neighbours: dict[int, tuple[Tree, tuple[ArticleCause, ...]]] = {}


def neighbours_of(tree: Tree) -> tuple[ArticleCause, ...]:
    """The tree's not-covered nodes that say what they look like, as causes to weigh beside
    the articles (slug ``not-covered/<node id>``). Their prose is their title and advice in
    every language: the words of their own mechanism. Built once per tree."""
    cached = _neighbours.get(id(tree))
    if cached is not None and cached[0] is tree:
        return cached[1]
    found = []
    for node in tree.nodes.values():
        if not isinstance(node, NotCoveredNode) or not node.looks_like:
            continue
        texts = [t for key in ("title", "advice") for t in node.i18n.get(key, {}).values()]
        found.append(
            ArticleCause(
                slug=NEIGHBOUR_PREFIX + node.id,
                title=node.title,
                summary=node.advice,
                symptoms=node.symptoms,
                reports=dict(node.reports),
                mechanism=dict(node.mechanism),
                path=str(node.path),
                prose=("\n".join(texts or [node.title, node.advice]),),
            )
        )
    result = tuple(found)
    if len(_neighbours) > 8:  # trees built by tests and tools come and go
        _neighbours.clear()
    _neighbours[id(tree)] = (tree, result)
    return result
