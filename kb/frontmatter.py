"""Front matter as Hexo, Jekyll and Zenn write it: YAML between `---` lines, validated on load.

Known keys are checked for type; unknown keys are ignored. Errors name the key and, for
YAML syntax errors, the line in the file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import yaml

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 120
TITLE_MAX = 300  # Article.title's max_length (PostgreSQL enforces it, SQLite does not)
# Real front matter is a few hundred bytes. The cap keeps libyaml, which recurses in C per
# nesting level (900 000 levels crash the interpreter), far from trouble.
MAX_FRONT_MATTER_CHARS = 20_000
LANGUAGES = ("en", "ja", "zh")

_OPENING = re.compile(r"\A---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


class FrontMatterError(ValueError):
    """Invalid front matter; the message names the key or the line."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class FrontMatter:
    """The validated fields we use; every one optional."""

    title: str | None = None
    slug: str | None = None
    lang: str | None = None
    summary: str | None = None
    published: dt.date | None = None
    draft: bool = False
    tags: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    translation_of: str | None = None
    translated_from: str | None = None
    original_reports: list[dict] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(YAML text or None, body, number of lines before the body)."""
    opening = _OPENING.match(text)
    if not opening:
        return None, text, 0
    closing = _CLOSING.search(text, opening.end())
    if not closing:
        raise FrontMatterError("front matter opened with '---' is never closed", line=1)
    yaml_text = text[opening.end() : closing.start()]
    rest = text[closing.end() :]
    rest = rest[1:] if rest.startswith("\n") else rest.removeprefix("\r\n")
    consumed = text[: len(text) - len(rest)].count("\n")
    return yaml_text, rest, consumed


def _string(key: str, value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise FrontMatterError(f"'{key}' must be a string, not {type(value).__name__}")
    return value.strip()


def _string_list(key: str, value: object) -> list[str]:
    """A list of strings; a single string or an empty value are accepted as Hexo writes them."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise FrontMatterError(f"'{key}' must be a list of strings, not {type(value).__name__}")
    out = []
    for item in value:
        if isinstance(item, list):  # Hexo's nested categories: [[a, b]]
            out.extend(_string_list(key, item))
        elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
            if str(item).strip():
                out.append(str(item).strip())
        else:
            raise FrontMatterError(f"'{key}' must be a list of strings; found {item!r}")
    return out


def _text_list(key: str, value: object) -> list[str]:
    """Whole strings (error messages keep their commas and spaces)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FrontMatterError(f"'{key}' must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _keywords(value: object) -> list[str]:
    """A list, or a mapping of language to list (flattened in order)."""
    if isinstance(value, dict):
        out: list[str] = []
        for lang, words in value.items():
            out.extend(_text_list(f"keywords.{lang}", words))
        return out
    return _text_list("keywords", value)


def _sources(value: object) -> list[str]:
    urls = _text_list("sources", value)
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FrontMatterError(f"'sources' must hold http(s) URLs; found {url!r}")
    return urls


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _slug(key: str, value: object) -> str:
    slug = _string(key, value)
    if len(slug) > SLUG_MAX or not SLUG_RE.match(slug):
        raise FrontMatterError(
            f"'{key}' must be lowercase ASCII words joined by '-' (at most {SLUG_MAX}); "
            f"found {slug!r}"
        )
    return slug


def _original_reports(value: object) -> list[dict]:
    """[{slug, lang}]: the source write-ups an article is based on."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise FrontMatterError("'original_reports' must be a list of {slug, lang}")
    out = []
    for item in value:
        if not isinstance(item, dict) or "slug" not in item:
            raise FrontMatterError(f"'original_reports' items need a slug; found {item!r}")
        lang = _string("original_reports.lang", item.get("lang") or "en").lower()
        if lang not in LANGUAGES:
            raise FrontMatterError(f"'original_reports.lang' must be one of {', '.join(LANGUAGES)}")
        out.append({"slug": _slug("original_reports.slug", item["slug"]), "lang": lang})
    return out


def _date(key: str, value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise FrontMatterError(f"'{key}' must be a date like 2024-01-31; found {value!r}")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refuse_control_characters(data: object) -> None:
    """A YAML escape ("\\0", "\\x01") can put control characters in a value; PostgreSQL
    refuses NUL in text and JSON, so such a document would fail only at save time, there."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _CONTROL.search(value):
                raise FrontMatterError(f"control character in a value: {value[:60]!r}")
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def _refuse_aliases(yaml_text: str) -> None:
    """Front matter never needs `*alias`: PyYAML expands `<<: *x` merges by copying, so a few
    kilobytes of nested merges take hours to construct (a merge-key bomb). Events are cheap.

    Text without "*" holds no alias, and without "&" no anchor either: then loading it parses
    it the same way and meets every error this pass would meet first (the composer's anchor
    errors need an "&"), so the pass is skipped (1 % of importing the real corpus)."""
    if "*" not in yaml_text and "&" not in yaml_text:
        return
    for event in yaml.parse(yaml_text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 2 if event.start_mark else None
            raise FrontMatterError("aliases (*name) are not allowed in front matter", line=line)


def parse_front_matter(yaml_text: str) -> FrontMatter:
    """Load the YAML safely and validate the keys we know."""
    if len(yaml_text) > MAX_FRONT_MATTER_CHARS:
        raise FrontMatterError(
            f"front matter longer than {MAX_FRONT_MATTER_CHARS:,} characters", line=1
        )
    try:
        _refuse_aliases(yaml_text)
        data = yaml.load(yaml_text, Loader=yaml.CSafeLoader)  # noqa: S506 (safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark else None  # +1 for 1-based, +1 for the opening '---'
        raise FrontMatterError(f"invalid YAML: {exc.problem or exc}", line=line) from exc
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"invalid YAML: {exc}") from exc
    except ValueError as exc:  # an integer over Python's 4 300-digit conversion limit
        raise FrontMatterError(f"invalid value: {exc}") from None
    except RecursionError:
        raise FrontMatterError("nested too deeply") from None
    if data is None:
        return FrontMatter()
    if not isinstance(data, dict):
        raise FrontMatterError("front matter must be a mapping of keys to values")
    _refuse_control_characters(data)

    fm = FrontMatter()
    if data.get("title") is not None:
        fm.title = _string("title", data["title"]) or None
        if fm.title and len(fm.title) > TITLE_MAX:
            raise FrontMatterError(f"'title' is longer than {TITLE_MAX} characters")
    if data.get("slug") is not None:
        fm.slug = _slug("slug", data["slug"])
    if data.get("translation_of") is not None:
        fm.translation_of = _slug("translation_of", data["translation_of"])
    if data.get("translated_from") is not None:
        digest = _string("translated_from", data["translated_from"]).lower()
        if not _SHA256.match(digest):
            raise FrontMatterError("'translated_from' must be a sha256 hex digest (64 characters)")
        fm.translated_from = digest
    fm.original_reports = _original_reports(data.get("original_reports"))
    if data.get("lang") is not None:
        lang = re.split(r"[-_]", _string("lang", data["lang"]).lower())[0]
        if lang not in LANGUAGES:
            raise FrontMatterError(f"'lang' must be one of {', '.join(LANGUAGES)}; found {lang!r}")
        fm.lang = lang
    for key in ("summary", "description"):
        if data.get(key) is not None and fm.summary is None:
            fm.summary = _string(key, data[key]) or None
    # Zenn and Jekyll use `published: false` for drafts; a date there is the publication date.
    published = data.get("published")
    if isinstance(published, bool):
        fm.draft = not published
        published = None
    if data.get("draft") is True:
        fm.draft = True
    for key, value in (("published", published), ("date", data.get("date"))):
        if value is not None:
            fm.published = _date(key, value)
            break
    else:
        fm.published = _date("published_at", data.get("published_at"))
    tags: list[str] = []
    for key in ("tags", "topics", "categories"):
        tags.extend(_string_list(key, data.get(key)))
    fm.tags = list(dict.fromkeys(tags))
    fm.keywords = _keywords(data.get("keywords"))
    fm.symptoms = _text_list("symptoms", data.get("symptoms"))
    fm.sources = _sources(data.get("sources"))
    return fm
