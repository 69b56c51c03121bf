"""Suppressing findings, always with a reason that stays visible in the report.

Two ways, from narrowest to widest:

1. An inline comment on the finding's line or on the line just above it::

       # kb-ignore: httpd-network-docroot-sendfile-mmap files here are written once at build
       - mountPath: /usr/local/apache2/htdocs

   It silences the named checks (comma-separated ids) for that one line only.
2. An annotation on the object, or on its pod template::

       metadata:
         annotations:
           kb.troubleshooter/ignore: "aks-virtual-node-azure-files-pvc: runs on VMSS nodes only"

   It silences the named checks for every finding about that object.

When both match, the inline comment's reason is the one shown. A suppression without a reason,
or naming an unknown check, is not applied; a note in the report's errors says why. To turn a
check off entirely, pass its id in `analyze_manifest(disabled=...)`: it then does not run.
Suppressed findings stay in the report with `suppressed=True` and the reason.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from .messages import say
from .model import Model
from .results import Finding, ObjectRef, ParseError

ANNOTATION = "kb.troubleshooter/ignore"
# Possessive quantifiers: no run of ids or blanks can be re-split when the rest fails, so a
# search costs one pass over the line. The annotation is split at its first colon in Python
# (a lazy reason followed by `\s*$` retried the trailing blanks at every position).
_INLINE = re.compile(r"#\s*+kb-ignore:\s*+([a-z0-9-]++(?:\s*+,\s*+[a-z0-9-]++)*+)[ \t]*+([^\n]*+)")
_IDS = re.compile(r"[a-z0-9-]++(?:\s*+,\s*+[a-z0-9-]++)*+")
# Unknown ids reported per comment or annotation; the rest are counted in one more note.
_MAX_UNKNOWN = 5


def _ids(text: str) -> list[str]:
    """The distinct ids of a comma-separated list, in order."""
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _annotation_parts(value: str) -> tuple[list[str], str] | None:
    """(ids, reason) of `id[,id]: reason`, or None when it is not of that form."""
    head, colon, reason = value.partition(":")
    if not colon or _IDS.fullmatch(head.strip()) is None:
        return None
    return _ids(head), reason.strip()


# The notes about suppressions (translations: docs/suppress.<lang>.messages.yaml).
NOTES = {
    "unknown-check": "{prefix}unknown check {check}",
    "more-unknown-checks": "{prefix}{count} more unknown check ids",
    "inline-form": "kb-ignore needs `# kb-ignore: check-id reason`",
    "inline-without-reason": "kb-ignore without a reason is not applied",
    "annotation-form": (
        '{annotation} needs "check-id[,check-id]: reason"; without a reason it is not applied'
    ),
}


def _note(where: tuple[int | None, int | None], key: str, **args: str) -> ParseError:
    """A note about a suppression, from its NOTES template."""
    return ParseError(where[0], where[1], **say(NOTES, key, **args))


def _unknown_notes(
    ids: list[str], known: set[str], prefix: str, where: tuple[int | None, int | None]
) -> list[ParseError]:
    """Notes for unknown ids: the first few by name, then how many more."""
    unknown = [check_id for check_id in ids if check_id not in known]
    notes = [
        _note(where, "unknown-check", prefix=prefix, check=repr(check_id))
        for check_id in unknown[:_MAX_UNKNOWN]
    ]
    if len(unknown) > _MAX_UNKNOWN:
        more = f"{len(unknown) - _MAX_UNKNOWN:,}"
        notes.append(_note(where, "more-unknown-checks", prefix=prefix, count=more))
    return notes


def _inline(
    lines: list[str], known: set[str], notes: list[ParseError], text: str | None = None
) -> dict[int, dict[str, str]]:
    """Inline comments by 1-based line: check id → reason (`text`: the lines joined, if the
    caller has it)."""
    result: dict[int, dict[str, str]] = {}
    # Most pastes have no such comment: one search of the text (a few µs for 20 KB) instead of
    # a test per line in Python; joining the lines again cost more than the search.
    if "kb-ignore" not in (text if text is not None else "\n".join(lines)):
        return result
    for number, line in enumerate(lines, start=1):
        if "kb-ignore" not in line:
            continue
        match = _INLINE.search(line)
        column = line.find("#") + 1
        if match is None:
            notes.append(_note((number, column), "inline-form"))
            continue
        ids, reason = _ids(match.group(1)), match.group(2).strip()
        if not reason:
            notes.append(_note((number, column), "inline-without-reason"))
            continue
        notes.extend(_unknown_notes(ids, known, "kb-ignore: ", (number, column)))
        for check_id in ids:
            if check_id in known:
                result.setdefault(number, {})[check_id] = reason
    return result


def _annotations(model: Model, known: set[str], notes: list[ParseError]):
    """Annotation suppressions by object: check id → reason."""
    result: dict[ObjectRef, dict[str, str]] = {}
    templates = {
        id(workload.obj): workload.template_metadata.map("annotations")
        for workload in model.workloads
        if workload.template_metadata is not None
    }
    for obj in model.objects:
        holders = [obj.annotations, templates.get(id(obj))]
        for holder in holders:
            value = holder.scalar(ANNOTATION) if holder is not None else None
            if value is None or not isinstance(value.value, str):
                continue
            parts = _annotation_parts(value.value)
            if parts is None or not parts[1]:
                notes.append(
                    _note((value.line, value.column), "annotation-form", annotation=ANNOTATION)
                )
                continue
            ids, reason = parts
            where = (value.line, value.column)
            notes.extend(_unknown_notes(ids, known, f"{ANNOTATION}: ", where))
            for check_id in ids:
                if check_id in known:
                    result.setdefault(obj.ref, {})[check_id] = reason
    return result


def apply_suppressions(
    findings: Iterable[Finding],
    *,
    model: Model,
    known: set[str],
    notes: list[ParseError],
    text: str | None = None,
) -> list[Finding]:
    """Mark findings silenced by an inline comment or an annotation; notes collect misuse.

    `text` is the analysed text (the model's lines joined), when the caller has it.
    """
    inline = _inline(model.lines, known, notes, text)
    by_object = _annotations(model, known, notes)
    result = []
    for finding in findings:
        reason = None
        for line in (finding.line, finding.line - 1):
            reason = reason or inline.get(line, {}).get(finding.check)
        reason = reason or by_object.get(finding.object, {}).get(finding.check)
        if reason:
            finding = dataclasses.replace(finding, suppressed=True, suppression_reason=reason)
        result.append(finding)
    return result
