"""Check pages in Japanese and Chinese: the translated titles and docstrings, and which fell behind.

A check's TITLE and docstring are its English page. Its translations are
`checks/docs/<check-id>.<lang>.md` (lang: ja or zh), Markdown that opens with a front matter
giving the check's title in that language and naming the English they translate:

    ---
    title: "<the TITLE in that language>"
    translated_from: <sha256 of the English, see `english_sha256`>
    ---

The same rule as `translated_from` in article translations: once the TITLE or the docstring
changes, the digest no longer matches and the translation is stale until a translator brings it
up to date and writes the new digest (`manage.py translation_status` prints it). A file without
that digest counts as stale: nothing says which English it was written from. A file without a
title shows the English TITLE (marked as English) in its place.

No Django here: the web views, the report page and `manage.py` read the same functions.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG
from types import ModuleType

DOCS_DIR = Path(__file__).resolve().parent / "checks" / "docs"
LANGUAGES = ("ja", "zh")

_FRONT_MATTER = re.compile(r"\A---\n(?P<fields>.*?)\n---\n", re.S)
_FIELD = re.compile(r"(?P<key>[a-z_]+): *(?P<value>.*?) *")
_DIGEST = re.compile(r"[0-9a-f]{64}")
# A title is one line of a table cell and a <title>: longer means a paragraph slipped in.
MAX_TITLE_LENGTH = 200


@dataclass(frozen=True)
class CheckDocTranslation:
    """One translated check page: its title ("" when it has none), its Markdown and the digest
    of the English it was written from."""

    check_id: str
    lang: str
    title: str
    markdown: str
    translated_from: str
    current: str

    @property
    def stale(self) -> bool:
        """True when the TITLE or the docstring changed since this translation was written."""
        return self.translated_from != self.current


@dataclass(frozen=True)
class CheckTitle:
    """A check's title as a page shows it, and the language it is in (en when untranslated)."""

    text: str
    lang: str


def docstring(module: ModuleType) -> str:
    """A check's English documentation: its docstring with the indentation removed."""
    return inspect.cleandoc(module.__doc__ or "")


def english_sha256(module: ModuleType) -> str:
    """The digest a translation of this check records as `translated_from`.

    sha256 (UTF-8) of the TITLE, a blank line, and the docstring as inspect.cleandoc gives it:
    the title is translated too, so a new TITLE makes the translations stale like a new
    docstring does.
    """
    return _english_sha256(module.TITLE, module.__doc__ or "")


@lru_cache(maxsize=64)
def _english_sha256(title: str, doc: str) -> str:
    # Cached by the texts themselves: a report asks once per finding, and a changed TITLE or
    # docstring (a test, a reload) is a new key.
    english = f"{title}\n\n{inspect.cleandoc(doc)}"
    return hashlib.sha256(english.encode("utf-8")).hexdigest()


def language_for(code: str | None) -> str:
    """Our language for a Django language code: ja, zh (zh-hans, zh-cn, ...) or en."""
    code = (code or "").lower()
    for ours in LANGUAGES:
        if code == ours or code.startswith(ours + "-"):
            return ours
    return "en"


def _field_value(raw: str) -> str:
    """A front matter value: bare, or a double-quoted (JSON-escaped) string."""
    if not raw.startswith('"'):
        return raw
    try:
        value = json.loads(raw)
    except ValueError:  # an unclosed quote: no value rather than a stray quote mark
        return ""
    return value if isinstance(value, str) else ""


def read_front_matter(text: str) -> tuple[dict[str, str], str]:
    """({field: value}, Markdown body) of a translation file; no fields when it has none.

    One `key: value` a line; a line that is not one is left out. Only `title` and
    `translated_from` mean something (`split_front_matter` and `load_translation` check them).
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    fields = {}
    for line in match.group("fields").splitlines():
        field = _FIELD.fullmatch(line)
        if field is not None:
            fields[field.group("key")] = _field_value(field.group("value"))
    return fields, text[match.end() :]


def split_front_matter(text: str) -> tuple[str, str]:
    """(translated_from, Markdown body) of a translation file; "" when it names no digest."""
    fields, body = read_front_matter(text)
    digest = fields.get("translated_from", "")
    return (digest if _DIGEST.fullmatch(digest) else ""), body


def _title(fields: dict[str, str]) -> str:
    """The front matter's title if it is one line of reasonable length, else ""."""
    title = " ".join(fields.get("title", "").split())
    return title if len(title) <= MAX_TITLE_LENGTH else ""


@lru_cache(maxsize=256)
def _read(path: Path, mtime_ns: int, size: int) -> tuple[dict[str, str], str]:
    """A translation file's front matter and body, read once per version of the file.

    A report names a check once per finding; this keeps that to one read per file.
    """
    return read_front_matter(path.read_text(encoding="utf-8"))


def load_translation(
    module: ModuleType, lang: str, *, docs_dir: Path | None = None
) -> CheckDocTranslation | None:
    """The check's page in `lang` (ja or zh), or None when there is none.

    `docs_dir` defaults to DOCS_DIR as it is when called (a test may point it elsewhere).
    """
    if lang not in LANGUAGES:
        return None
    path = (docs_dir or DOCS_DIR) / f"{module.ID}.{lang}.md"
    try:
        info = path.stat()
    except OSError:
        return None
    if not S_ISREG(info.st_mode):
        return None
    fields, markdown = _read(path, info.st_mtime_ns, info.st_size)
    digest = fields.get("translated_from", "")
    return CheckDocTranslation(
        check_id=module.ID,
        lang=lang,
        title=_title(fields),
        markdown=markdown,
        translated_from=digest if _DIGEST.fullmatch(digest) else "",
        current=english_sha256(module),
    )


def check_title(module: ModuleType, lang: str, *, docs_dir: Path | None = None) -> CheckTitle:
    """The check's title in `lang` (ja or zh) from its translation; else the English TITLE."""
    translation = load_translation(module, lang, docs_dir=docs_dir)
    if translation is None or not translation.title:
        return CheckTitle(text=module.TITLE, lang="en")
    return CheckTitle(text=translation.title, lang=lang)


def all_translations(
    modules: list[ModuleType], *, docs_dir: Path | None = None
) -> list[CheckDocTranslation]:
    """Every existing translation of these checks, by check id then language."""
    found = []
    for module in sorted(modules, key=lambda module: module.ID):
        for lang in LANGUAGES:
            translation = load_translation(module, lang, docs_dir=docs_dir)
            if translation is not None:
                found.append(translation)
    return found
