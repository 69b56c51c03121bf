"""Finding messages in English, Japanese and Chinese, from one set of templates per check.

A check that speaks through templates keeps them in `MESSAGES`, a dict of
`key: "English text with {placeholders}"`, and builds each finding's text with `say`: the
English `message` (what JSON, SARIF and the text report print) comes from the template, and
the finding also keeps the key and the values, so a page can say the same in its reader's
language. The values are plain strings (numbers, names, and English fragments such as where a
range came from, which stay English).

The translations are `checks/docs/<check-id>.<lang>.messages.yaml`, next to the check's
translated page:

    translated_from: <sha256 of the English MESSAGES, see `english_messages_sha256`>
    messages:
      over-range: |-
        maxPods: {max_pods} は ...

A template may use only plain `{name}` fields (no attribute access, index or format spec); a
template that uses anything else, names a value the finding does not have, or is missing,
gives no translation and the page shows the English. Nothing here raises on a bad file.

No Django here: the views, `manage.py translation_status` and the tests read the same functions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG
from string import Formatter
from types import ModuleType

import yaml

from .check_docs import DOCS_DIR, LANGUAGES
from .results import quick_init

_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")
_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DIGEST = re.compile(r"[0-9a-f]{64}")
# A messages file holds a few short paragraphs; anything larger is not one.
MAX_FILE_BYTES = 64_000
MAX_TEMPLATE_LENGTH = 2_000
_FULL_WIDTH_PUNCTUATION = "。、，；：！？（）「」『』"


def template_fields(template: str) -> set[str] | None:
    """The `{name}` fields of a template, or None when it is not a safe template.

    Safe: balanced braces (`{{` and `}}` for literal ones) and only plain lower-case names,
    without conversion (`!r`) or format spec (`:>10`), so formatting can never look up an
    attribute or an index.
    """
    fields = _template_fields(template)
    return None if fields is None else set(fields)


@lru_cache(maxsize=1024)
def _template_fields(template: str) -> frozenset[str] | None:
    """`template_fields`, memoized: every finding renders one of a few hundred templates, and
    parsing one again took longer than filling it in. The answer depends on the text only."""
    fields: set[str] = set()
    try:
        parsed = list(Formatter().parse(template))
    except ValueError:
        return None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not _FIELD_NAME.fullmatch(name):
            return None
        fields.add(name)
    return frozenset(fields)


def render(template: str, args: Mapping[str, str]) -> str | None:
    """The template with its fields filled from `args`; None when it is unsafe or a value is
    missing (the caller then falls back to English)."""
    fields = _template_fields(template)
    if fields is None or not fields <= args.keys():
        return None
    return template.format_map({name: str(args[name]) for name in fields})


@quick_init
@dataclass(frozen=True)
class Phrase:
    """A value that is itself said from a template (where a range came from, say), so a
    translation says it in its own words too. One level: a phrase's values are plain.

    `key` may name several templates separated by spaces, said one after the other from the
    same values (what backs a volume: "NFS (srv:/x)", ", PV pv1", " (PVC data)"): the English
    ones are joined as they are, so each carries its own leading space or comma; a
    translation's are joined as `_joined` joins the parts of a message.
    """

    key: str
    args: Mapping[str, object]


def say(messages: Mapping[str, str], *keys: str, **args: object) -> dict:
    """`message`, `message_key` and `message_args` for a Finding, from a check's MESSAGES.

    Several keys make one message of several sentences (a verdict, then an optional remark):
    `message_key` is then the keys separated by spaces. A Phrase value is filled in as its
    English, and kept as `<name>.key` and `<name>.<value>` arguments for the translations.
    Raises KeyError for an unknown key or a missing value: that is a bug in the check, and
    the checks' tests catch it.
    """
    # Every value is a str by the time a template is filled, so each template is filled from
    # the whole dict at once (as `render` fills it from the fields it names: the same text),
    # without `render`'s per-call copy of the values (a finding said several in ~25 µs).
    values = {}
    for name, value in args.items():
        if isinstance(value, Phrase):
            phrase = {field: str(item) for field, item in value.args.items()}
            if "key" in phrase:  # `<name>.key` holds the phrase's own key
                raise KeyError(f"phrase {value.key!r}: a field may not be named 'key'")
            texts = []
            for part in value.key.split():
                template = messages[part]
                fields = _template_fields(template)
                if fields is None or not fields <= phrase.keys():
                    raise KeyError(f"phrase {part!r} needs {template_fields(messages[part])}")
                texts.append(template.format_map(phrase))
            values[name] = "".join(texts)
            values[f"{name}.key"] = value.key
            values.update({f"{name}.{field}": item for field, item in phrase.items()})
        else:
            values[name] = value if value.__class__ is str else str(value)
    parts = []
    for key in keys:
        template = messages[key]
        fields = _template_fields(template)
        if fields is None or not fields <= values.keys():
            fields = sorted(template_fields(messages[key]) or ())
            raise KeyError(f"message {key!r} needs {fields}")
        parts.append(template.format_map(values))
    return {"message": " ".join(parts), "message_key": " ".join(keys), "message_args": values}


def check_messages(module: ModuleType) -> dict[str, str]:
    """A check's English templates ({} for a check that builds its messages otherwise)."""
    return dict(getattr(module, "MESSAGES", {}) or {})


def validate_messages(module: ModuleType) -> list[str]:
    """What is wrong with a check's MESSAGES (empty when nothing): for the registry's load."""
    problems = []
    for key, template in check_messages(module).items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            problems.append(f"message key {key!r} must be kebab-case")
        elif not isinstance(template, str) or template_fields(template) is None:
            problems.append(f"message {key!r} must be a string with plain {{name}} fields")
    return problems


def english_messages_sha256(module: ModuleType) -> str:
    """The digest a messages translation records as `translated_from`.

    sha256 (UTF-8) of the English MESSAGES as JSON with sorted keys: a changed, added or
    removed template makes every translation of this check's messages stale.
    """
    return templates_sha256(check_messages(module))


def templates_sha256(english: Mapping[str, str]) -> str:
    """sha256 of English templates as JSON with sorted keys (see `english_messages_sha256`)."""
    text = json.dumps(dict(english), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MessagesTranslation:
    """One check's message templates in ja or zh, and the digest of the English they follow."""

    check_id: str
    lang: str
    templates: Mapping[str, str]
    translated_from: str
    current: str

    @property
    def stale(self) -> bool:
        """True when the English templates changed since these were written."""
        return self.translated_from != self.current


def messages_path(check_id: str, lang: str, docs_dir: Path | None = None) -> Path:
    """Where a check's message templates in `lang` live."""
    return (docs_dir or DOCS_DIR) / f"{check_id}.{lang}.messages.yaml"


def _parse(text: str) -> tuple[str, dict[str, str]]:
    """(translated_from, {key: template}) of a messages file; what is malformed is left out."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return "", {}
    if not isinstance(data, dict):
        return "", {}
    digest = data.get("translated_from")
    digest = digest if isinstance(digest, str) and _DIGEST.fullmatch(digest) else ""
    raw = data.get("messages")
    templates = {}
    if isinstance(raw, dict):
        for key, template in raw.items():
            if (
                isinstance(key, str)
                and isinstance(template, str)
                and len(template) <= MAX_TEMPLATE_LENGTH
                and template_fields(template) is not None
            ):
                templates[key] = _join_lines(template)
    return digest, templates


def _join_lines(text: str) -> str:
    """A template written over several lines (a `|-` block) as one line (see `_joined`)."""
    return _joined([line.strip() for line in text.splitlines() if line.strip()])


def _joined(pieces: list[str]) -> str:
    """Pieces of Japanese or Chinese text as one: lines of a template, parts of a message.

    No space between two Japanese or Chinese characters (those scripts put no space between
    words) nor next to full-width punctuation; else one space (the space the translations keep
    around Latin words and values).
    """
    joined = ""
    for piece in pieces:
        if not piece:
            continue
        tight = not joined or (
            (not joined[-1].isascii() and not piece[0].isascii())
            or joined[-1] in _FULL_WIDTH_PUNCTUATION
            or piece[0] in _FULL_WIDTH_PUNCTUATION
        )
        joined += piece if tight else " " + piece
    return joined


@lru_cache(maxsize=64)
def _read(path: Path, mtime_ns: int, size: int) -> tuple[str, dict[str, str]]:
    """A messages file parsed once per version of the file (a report asks per finding)."""
    return _parse(path.read_text(encoding="utf-8", errors="replace"))


def load_messages(
    module: ModuleType, lang: str, *, docs_dir: Path | None = None
) -> MessagesTranslation | None:
    """The check's message templates in `lang` (ja or zh), or None when there are none."""
    return load_templates(
        module.ID,
        check_messages(module),
        lang,
        path=messages_path(module.ID, lang, docs_dir) if lang in LANGUAGES else None,
    )


# Translations of messages that no check owns (notes about suppressions):
# docs/<name>.<lang>.messages.yaml next to this module.
NOTES_DIR = Path(__file__).resolve().parent / "docs"


def load_notes(
    name: str, english: Mapping[str, str], lang: str, *, docs_dir: Path | None = None
) -> MessagesTranslation | None:
    """The ja or zh templates of a set of notes (`suppress` for suppress.NOTES)."""
    path = (docs_dir or NOTES_DIR) / f"{name}.{lang}.messages.yaml"
    return load_templates(name, english, lang, path=path)


def load_templates(
    name: str, english: Mapping[str, str], lang: str, *, path: Path | None
) -> MessagesTranslation | None:
    """Templates in `lang` translating `english`, read from `path`; None when there are none."""
    if lang not in LANGUAGES or path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    if not S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
        return None
    digest, templates = _read(path, info.st_mtime_ns, info.st_size)
    return MessagesTranslation(
        check_id=name,
        lang=lang,
        templates=templates,
        translated_from=digest,
        current=templates_sha256(english),
    )


@dataclass(frozen=True)
class ShownMessage:
    """A finding's message as a page shows it, and the language it is in."""

    text: str
    lang: str


def localized_message(
    module: ModuleType | None,
    *,
    key: str | None,
    args: Mapping[str, str] | None,
    english: str,
    lang: str,
    docs_dir: Path | None = None,
) -> ShownMessage:
    """The message in `lang` when the check has a usable template for it; else the English."""
    if module is None or not key or lang not in LANGUAGES:
        return ShownMessage(text=english, lang="en")
    translation = load_messages(module, lang, docs_dir=docs_dir)
    return translated_message(translation, key=key, args=args, english=english)


def translated_message(
    translation: MessagesTranslation | None,
    *,
    key: str | None,
    args: Mapping[str, str] | None,
    english: str,
) -> ShownMessage:
    """The message from these templates (one check's, in one language), else the English.

    For a report of many findings: load each check's templates once, then call this per finding.
    """
    if translation is None or not key:
        return ShownMessage(text=english, lang="en")
    lang = translation.lang
    values = _translated_phrases(translation, args or {})
    if values is None:
        return ShownMessage(text=english, lang="en")
    parts = []
    for part in key.split():
        template = translation.templates.get(part)
        text = render(template, values) if template is not None else None
        if text is None:  # one sentence missing: the whole message in English, not a mix
            return ShownMessage(text=english, lang="en")
        parts.append(text)
    return ShownMessage(text=_joined(parts), lang=lang)


# A note that quotes another ("12 more notes like 'duplicate key ...' (line 7) were dropped")
# carries the quoted note's key as `first.note` and its values as `first:<name>` (see
# notices.quoted_note_args), so that a page quotes it in its own language too; the English
# `first` value is its message, cut at QUOTED_NOTE_CHARS characters and quoted.
QUOTED_NOTE = "first.note"
QUOTED_NOTE_ARG = "first:"
QUOTED_NOTE_CHARS = 80
_QUOTES = {"ja": ("\u300c", "\u300d"), "zh": ("\u201c", "\u201d")}


def translated_note(
    translation_for: Callable[[str | None], MessagesTranslation | None],
    *,
    key: str | None,
    args: Mapping[str, str] | None,
    english: str,
) -> ShownMessage:
    """A note about the input in the language of `translation_for(key)`'s templates.

    Like `translated_message`, and a note that quotes another note quotes it in the same
    language, from that note's own templates (`translation_for` its key): a suppression
    note is said from other templates than a parse note. When the quoted note has no
    usable template, the English quotation stays, as before.
    """
    args = dict(args or {})
    quoted_key = args.pop(QUOTED_NOTE, None)
    quoted_args = {
        name[len(QUOTED_NOTE_ARG) :]: args.pop(name)
        for name in [name for name in args if name.startswith(QUOTED_NOTE_ARG)]
    }
    translation = translation_for(key)
    if quoted_key and translation is not None and translation.lang in _QUOTES:
        quoted = translated_message(
            translation_for(quoted_key), key=quoted_key, args=quoted_args, english=""
        )
        if quoted.lang == translation.lang:
            opening, closing = _QUOTES[quoted.lang]
            text = quoted.text
            if len(text) > QUOTED_NOTE_CHARS:
                text = text[:QUOTED_NOTE_CHARS] + "\u2026"
            args["first"] = opening + text + closing
    return translated_message(translation, key=key, args=args, english=english)


def _translated_phrases(
    translation: MessagesTranslation, args: Mapping[str, str]
) -> dict[str, str] | None:
    """The values with each Phrase (see `say`) said from the translation; None when one of
    them has no usable template."""
    values = dict(args)
    for name, key in args.items():
        if not name.endswith(".key"):
            continue
        base = name[: -len(".key")]
        prefix = base + "."
        phrase = {n[len(prefix) :]: v for n, v in args.items() if n.startswith(prefix)}
        parts = []
        for part in key.split():
            template = translation.templates.get(part)
            text = render(template, phrase) if template is not None else None
            if text is None:
                return None
            parts.append(text)
        values[base] = _joined(parts)
    return values


def all_message_translations(
    modules: list[ModuleType], *, docs_dir: Path | None = None
) -> list[MessagesTranslation]:
    """Every existing messages translation of these checks, by check id then language."""
    found = []
    for module in sorted(modules, key=lambda module: module.ID):
        for lang in LANGUAGES:
            translation = load_messages(module, lang, docs_dir=docs_dir)
            if translation is not None:
                found.append(translation)
    return found
