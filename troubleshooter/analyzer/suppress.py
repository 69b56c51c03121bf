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

from .model import Model
from .results import Finding, ObjectRef, ParseError

ANNOTATION = "kb.troubleshooter/ignore"
_INLINE = re.compile(r"#\s*kb-ignore:\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)[ \t]*([^\n]*)")
_ANNOTATION = re.compile(r"^\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*:\s*(.*?)\s*$", re.DOTALL)


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _inline(
    lines: list[str], known: set[str], notes: list[ParseError]
) -> dict[int, dict[str, str]]:
    """Inline comments by 1-based line: check id → reason."""
    result: dict[int, dict[str, str]] = {}
    for number, line in enumerate(lines, start=1):
        if "kb-ignore" not in line:
            continue
        match = _INLINE.search(line)
        column = line.find("#") + 1
        if match is None:
            notes.append(
                ParseError(number, column, "kb-ignore needs `# kb-ignore: check-id reason`")
            )
            continue
        ids, reason = _ids(match.group(1)), match.group(2).strip()
        if not reason:
            notes.append(ParseError(number, column, "kb-ignore without a reason is not applied"))
            continue
        for check_id in ids:
            if check_id not in known:
                notes.append(ParseError(number, column, f"kb-ignore: unknown check {check_id!r}"))
            else:
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
            match = _ANNOTATION.match(value.value)
            if match is None or not match.group(2):
                notes.append(
                    ParseError(
                        value.line,
                        value.column,
                        f'{ANNOTATION} needs "check-id[,check-id]: reason"; '
                        "without a reason it is not applied",
                    )
                )
                continue
            for check_id in _ids(match.group(1)):
                if check_id not in known:
                    notes.append(
                        ParseError(
                            value.line, value.column, f"{ANNOTATION}: unknown check {check_id!r}"
                        )
                    )
                else:
                    result.setdefault(obj.ref, {})[check_id] = match.group(2)
    return result


def apply_suppressions(
    findings: Iterable[Finding], *, model: Model, known: set[str], notes: list[ParseError]
) -> list[Finding]:
    """Mark findings silenced by an inline comment or an annotation; notes collect misuse."""
    inline = _inline(model.lines, known, notes)
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
