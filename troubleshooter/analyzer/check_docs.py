"""Check pages in Japanese and Chinese: the translated docstrings, and which fell behind.

A check's docstring is its English page. Its translations are `checks/docs/<check-id>.<lang>.md`
(lang: ja or zh), Markdown that opens with a front matter naming the English they translate:

    ---
    translated_from: <sha256 of the docstring as inspect.cleandoc gives it, UTF-8>
    ---

The same rule as `translated_from` in article translations: once the docstring changes, its
digest no longer matches and the translation is stale until a translator brings it up to date
and writes the new digest (`manage.py translation_status` prints it). A file without that front
matter counts as stale: nothing says which English it was written from.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

DOCS_DIR = Path(__file__).resolve().parent / "checks" / "docs"
LANGUAGES = ("ja", "zh")

_FRONT_MATTER = re.compile(r"\A---\n(?P<fields>.*?)\n---\n", re.S)
_TRANSLATED_FROM = re.compile(r"translated_from: *(?P<digest>[0-9a-f]{64}) *")


@dataclass(frozen=True)
class CheckDocTranslation:
    """One translated check page: its Markdown and the docstring digest it was written from."""

    check_id: str
    lang: str
    markdown: str
    translated_from: str
    current: str

    @property
    def stale(self) -> bool:
        """True when the docstring changed since this translation was written."""
        return self.translated_from != self.current


def docstring(module: ModuleType) -> str:
    """A check's English documentation: its docstring with the indentation removed."""
    return inspect.cleandoc(module.__doc__ or "")


def docstring_sha256(module: ModuleType) -> str:
    """The digest a translation of this check's docstring records as `translated_from`."""
    return hashlib.sha256(docstring(module).encode("utf-8")).hexdigest()


def split_front_matter(text: str) -> tuple[str, str]:
    """(translated_from, Markdown body) of a translation file; "" when it names no digest."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return "", text
    field = _TRANSLATED_FROM.fullmatch(match.group("fields"))
    return (field.group("digest") if field else ""), text[match.end() :]


def load_translation(
    module: ModuleType, lang: str, *, docs_dir: Path = DOCS_DIR
) -> CheckDocTranslation | None:
    """The check's page in `lang` (ja or zh), or None when there is none."""
    if lang not in LANGUAGES:
        return None
    path = docs_dir / f"{module.ID}.{lang}.md"
    if not path.is_file():
        return None
    translated_from, markdown = split_front_matter(path.read_text(encoding="utf-8"))
    return CheckDocTranslation(
        check_id=module.ID,
        lang=lang,
        markdown=markdown,
        translated_from=translated_from,
        current=docstring_sha256(module),
    )


def all_translations(
    modules: list[ModuleType], *, docs_dir: Path = DOCS_DIR
) -> list[CheckDocTranslation]:
    """Every existing translation of these checks, by check id then language."""
    found = []
    for module in sorted(modules, key=lambda module: module.ID):
        for lang in LANGUAGES:
            translation = load_translation(module, lang, docs_dir=docs_dir)
            if translation is not None:
                found.append(translation)
    return found
