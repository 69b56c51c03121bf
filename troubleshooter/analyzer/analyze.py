"""`analyze_manifest`: the one entry point the web view, the JSON API and the CLI share."""

from __future__ import annotations

import dataclasses

from . import registry
from .model import build_model
from .parse import decode, parse_stream
from .results import Limits, ParseError, Report
from .suppress import apply_suppressions


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
    for check_id in disabled:
        registry.get(check_id)
    decoded = decode(text, limits=limits)
    lines = decoded.split("\n")
    documents, errors = parse_stream(decoded, limits=limits)
    model = build_model(documents, limits=limits, lines=lines, errors=errors)
    findings = [
        finding
        for module in registry.all_checks()
        if module.ID not in disabled
        for finding in module.check(model)
    ]
    notes: list[ParseError] = []
    findings = apply_suppressions(findings, model=model, known=set(registry.CHECKS), notes=notes)
    # A suppression that is not applied is a note about the input, not a parse error.
    errors.extend(dataclasses.replace(note, severity="note") for note in notes)
    findings.sort(key=lambda finding: (finding.line, finding.column, finding.check))
    errors.sort(key=lambda error: (error.line or 0, error.column or 0))
    return Report(objects=len(model.objects), findings=findings, errors=errors, lines=lines)
