"""What the analyzer says about the input itself, from one template per kind of notice.

Parse errors (a document refused: malformed YAML, nested too deep, an alias bomb...), notes
(a duplicate key or object, what a cap left out) and the refusals of the whole input (too
large, NUL bytes, undecodable) each have a stable key in `NOTES` and an English template. The
English `message` (what JSON, SARIF and the text report print) is filled in from it, and the
key and values are kept, so a page can say the same in its reader's language from
`docs/parse.<lang>.messages.yaml` (read with `messages.load_notes("parse", NOTES, lang)`,
falling back to the English as every translated message does).

The values are plain strings: numbers already formatted as the English prints them, names
already quoted. libyaml's own description of a syntax error is machine output and stays as
libyaml wrote it, quoted inside the translated sentence.

No Django here.
"""

from __future__ import annotations

from .messages import QUOTED_NOTE, QUOTED_NOTE_ARG, QUOTED_NOTE_CHARS, template_fields

NOTES = {
    # The whole input refused before parsing (parse.decode).
    "too-large-bytes": "The manifest is {size} bytes; the limit is {limit} bytes.",
    "too-large-text": "The manifest is larger than {limit} bytes.",
    "undecodable": (
        "The file is not valid {encoding} text (byte {byte} cannot be decoded); save it as"
        " UTF-8 and try again."
    ),
    "nul-bytes": "The file contains NUL bytes: it looks binary, not YAML or JSON.",
    # The same, refused by a face before the analyzer is called (cli.too_large_notice).
    "too-large-input": (
        "The manifest is {size} bytes; the limit is {limit} bytes ({limit_size}). Split it into"
        " smaller files and analyse them one by one."
    ),
    # A document refused (parse.py).
    "yaml-syntax": "{problem}",
    "yaml-invalid": "invalid YAML",
    "yaml-invalid-error": "invalid YAML ({error})",
    "too-deep": "nesting deeper than {max_depth} levels; document skipped",
    "too-deep-to-parse": "nesting too deep to parse; document skipped",
    "too-deep-to-analyse": "nesting too deep to analyse; document skipped",
    "too-many-aliases": "more than {max_aliases} alias expansions; document skipped",
    "alias-bomb": (
        "aliases expand this document far beyond its size (an alias bomb?); document skipped"
    ),
    "value-too-long": "a value longer than {max_chars} characters; document skipped",
    "unsupported-tag": "unsupported tag {tag}; document skipped",
    "out-of-time-in-document": (
        "the analysis ran out of time while reading this document; it and the ones after it"
        " were not analysed"
    ),
    "out-of-time-here": (
        "the analysis ran out of time here: this document and the ones after it were not analysed"
    ),
    "too-many-documents": "more than {max_documents} documents; the rest was not analysed",
    "duplicate-key": (
        "duplicate key {key} (first at line {first_line}); the last one is analysed, and"
        " kubectl may refuse the manifest"
    ),
    # An object left out of the model (model.py).
    "not-a-mapping": "not a Kubernetes object (no mapping); skipped",
    "no-kind": "no `kind` field; object skipped",
    "too-many-objects": "more than {max_objects} objects; the rest was not analysed",
    "duplicate-object": (
        "duplicate object {object}: the one at line {kept_line} replaces it, so only that one"
        " is analysed"
    ),
    "duplicate-object-in-namespace": (
        "duplicate object {object} in namespace {namespace}: the one at line {kept_line}"
        " replaces it, so only that one is analysed"
    ),
    # The analysis as a whole (analyze.py).
    "check-out-of-time": (
        "check {check} ran out of time and stopped part-way: the objects after its last"
        " finding were not checked by it"
    ),
    "checks-not-run": (
        "the analysis ran out of time ({seconds} s): these checks were not run: {checks}"
    ),
    "more-findings": "check {check}: {count} more findings not shown (the first {limit} are)",
    "more-notes": (
        "{count} more notes like {first} (line {line}) were dropped; the first {limit} of that"
        " kind are shown"
    ),
}

# Validated once at import: a template with anything but plain `{name}` fields is a bug.
for _key, _template in NOTES.items():
    if template_fields(_template) is None:
        raise ValueError(f"notice {_key!r} must use plain {{name}} fields only")


def notice(key: str, /, **args: object) -> dict:
    """`message`, `message_key` and `message_args` for a ParseError or ManifestRejected.

    Cheaper than `messages.say` (no template parsing per call: the templates were checked at
    import), as a hostile paste can yield thousands of duplicate-key notes. Raises KeyError
    for an unknown key or a missing value.
    """
    for name, value in args.items():
        if value.__class__ is not str:
            args[name] = str(value)  # `args` is this call's own dict
    return {"message": NOTES[key].format_map(args), "message_key": key, "message_args": args}


def quoted_note_args(note: object) -> dict[str, str]:
    """The values by which a page says, in its own language, the note that "more-notes"
    quotes: its key (`first.note`) and each of its values (`first:<name>`).

    The English quotes the first `QUOTED_NOTE_CHARS` characters of the note's message; a
    value longer than that cannot change those characters of a translation either, so each
    is cut there (a duplicate key can be a megabyte long).
    """
    key = getattr(note, "message_key", None)
    if not key:
        return {}
    args = {QUOTED_NOTE: key}
    for name, value in (getattr(note, "message_args", None) or {}).items():
        args[QUOTED_NOTE_ARG + name] = str(value)[:QUOTED_NOTE_CHARS]
    return args
