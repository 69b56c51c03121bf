"""`analyze_manifest`: the one entry point the web view, the JSON API and the CLI share.

Every analysis has a budget (`Limits`): a wall-clock deadline, checked between documents and
between checks (and between the findings of a check), after which the report is partial and
says what was not checked; and caps on the notes of one kind and the findings of one check,
with a note counting what was dropped. A pasted line that names 900 000 unknown check ids
yields a handful of notes, not 900 000.
"""

from __future__ import annotations

import dataclasses
import re
import time

from . import registry
from .configs import parse_cache
from .model import OutOfTime, build_model
from .notices import notice, quoted_note_args
from .parse import _pause_gc, _resume_gc, decode, parse_stream
from .results import Finding, Limits, ParseError, Report
from .suppress import apply_suppressions

# What makes two notes "the same kind": their text without quoted names and numbers.
_VARIABLE = re.compile(r"'[^'\n]*+'|\"[^\"\n]*+\"|[0-9][0-9,]*+")


def analyze_manifest(
    *,
    text: str | bytes,
    filename: str | None = None,
    limits: Limits | None = None,
    disabled: frozenset[str] = frozenset(),
) -> Report:
    """Parse pasted or uploaded manifests and run every enabled check over them.

    Raises ManifestRejected for input refused before parsing, UnknownCheck for an unknown id
    in `disabled`. `filename` is accepted for the faces' messages; the text is never stored.
    """
    limits = limits or Limits()
    deadline = None if limits.max_seconds is None else time.monotonic() + limits.max_seconds
    for check_id in disabled:
        registry.get(check_id)
    # The tree of a large paste is hundreds of thousands of objects, all alive until the
    # report is made: the cyclic collector would walk them again and again while the model
    # and the checks allocate (measured on 3 000 objects: 1 248 ms with it, 922 ms without).
    # It is paused for the whole analysis, as parse_stream already paused it for parsing.
    _pause_gc()
    try:
        return _analyze(text=text, limits=limits, deadline=deadline, disabled=disabled)
    finally:
        _resume_gc()


def _analyze(
    *, text: str | bytes, limits: Limits, deadline: float | None, disabled: frozenset[str]
) -> Report:
    decoded = decode(text, limits=limits)
    lines = decoded.split("\n")
    documents, errors = parse_stream(decoded, limits=limits, deadline=deadline)
    model = build_model(documents, limits=limits, lines=lines, errors=errors)
    model.deadline = deadline
    findings: list[Finding] = []
    not_run: list[str] = []
    with parse_cache():
        for module in registry.all_checks():
            if module.ID in disabled:
                continue
            if _expired(deadline):
                not_run.append(module.ID)
                continue
            try:
                for finding in module.check(model):
                    findings.append(finding)
                    if _expired(deadline):
                        raise OutOfTime
            except OutOfTime:
                errors.append(
                    ParseError(None, None, **notice("check-out-of-time", check=module.ID))
                )
    if not_run:
        errors.append(
            ParseError(
                None,
                None,
                **notice(
                    "checks-not-run", seconds=f"{limits.max_seconds:g}", checks=", ".join(not_run)
                ),
            )
        )
    notes: list[ParseError] = []
    findings = apply_suppressions(
        findings, model=model, known=set(registry.CHECKS), notes=notes, text=decoded
    )
    # A suppression that is not applied is a note about the input, not a parse error.
    errors.extend(dataclasses.replace(note, severity="note") for note in notes)
    findings.sort(key=lambda finding: (finding.line, finding.column, finding.check))
    findings = _cap_findings(findings, limit=limits.max_findings_per_check, notes=errors)
    errors.sort(key=lambda error: (error.line or 0, error.column or 0))
    errors = _cap_notes(errors, limit=limits.max_notes_per_kind)
    return Report(objects=len(model.objects), findings=findings, errors=errors, lines=lines)


def _expired(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() > deadline


def _cap_findings(findings: list[Finding], *, limit: int, notes: list[ParseError]) -> list[Finding]:
    """The first `limit` findings of each check; a note per check says how many were dropped."""
    kept: list[Finding] = []
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.check] = counts.get(finding.check, 0) + 1
        if counts[finding.check] <= limit:
            kept.append(finding)
    for check_id, count in counts.items():
        if count > limit:
            notes.append(
                ParseError(
                    None,
                    None,
                    **notice(
                        "more-findings",
                        check=check_id,
                        count=f"{count - limit:,}",
                        limit=f"{limit:,}",
                    ),
                    severity="note",
                )
            )
    return kept


def _cap_notes(notes: list[ParseError], *, limit: int) -> list[ParseError]:
    """The first `limit` notes of each kind, then one note per kind counting the rest."""
    kept: list[ParseError] = []
    dropped: dict[str, tuple[ParseError, int]] = {}
    seen: dict[str, int] = {}
    for note in notes:
        kind = _VARIABLE.sub("", note.message[:200])
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= limit:
            kept.append(note)
        else:
            first, count = dropped.get(kind, (note, 0))
            dropped[kind] = (first, count + 1)
    for first, count in dropped.values():
        said = notice(
            "more-notes",
            count=f"{count:,}",
            first=repr(first.message[:80]),
            line=first.line or "?",
            limit=f"{limit:,}",
        )
        said["message_args"].update(quoted_note_args(first))
        kept.append(ParseError(None, None, **said, severity=first.severity))
    return kept
