"""Report formats: JSON for the API, SARIF 2.1.0 for code-scanning tools, text for the CLI.

None of them includes the pasted text itself; messages and fixes are written by the checks,
which never quote Secret values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import registry
from .results import Finding, Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# SARIF 2.1.0 §3.27.10 levels: "error" (a serious problem), "warning" (a problem), "note"
# (a minor problem or an opportunity to improve). Info advice and notes about the input
# itself are both "note".
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "note": "note"}


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "severity": finding.severity,
        "article": finding.article,
        "object": {
            "kind": finding.object.kind,
            "namespace": finding.object.namespace,
            "name": finding.object.name,
        },
        "line": finding.line,
        "column": finding.column,
        "message": finding.message,
        "fix": finding.fix,
        "suppressed": finding.suppressed,
        "suppression_reason": finding.suppression_reason,
    }


def to_json(report: Report) -> dict:
    """A JSON-ready dict: object count, findings and errors."""
    return {
        "objects": report.objects,
        "findings": [_finding_json(finding) for finding in report.findings],
        "errors": [
            {
                "line": error.line,
                "column": error.column,
                "message": error.message,
                "severity": error.severity,
            }
            for error in report.errors
        ],
    }


def to_sarif(
    report: Report, *, check_uri: Callable[[str], str], artifact_uri: str = "manifest.yaml"
) -> dict:
    """A SARIF 2.1.0 log with one run; `check_uri(id)` gives each rule's help page."""
    modules = registry.all_checks()
    index = {module.ID: position for position, module in enumerate(modules)}
    rules = [
        {
            "id": module.ID,
            "name": module.ID,
            "shortDescription": {"text": module.TITLE},
            "helpUri": check_uri(module.ID),
            "defaultConfiguration": {"level": _SARIF_LEVEL[module.SEVERITY]},
        }
        for module in modules
    ]
    results = []
    for finding in report.findings:
        result: dict[str, Any] = {
            "ruleId": finding.check,
            "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri},
                        "region": {"startLine": finding.line, "startColumn": finding.column},
                    }
                }
            ],
        }
        if finding.check in index:
            result["ruleIndex"] = index[finding.check]
        if finding.suppressed:
            result["suppressions"] = [
                {"kind": "inSource", "justification": finding.suppression_reason or ""}
            ]
        results.append(result)
    notifications = []
    for error in report.errors:
        notification: dict[str, Any] = {
            "level": _SARIF_LEVEL[error.severity],
            "message": {"text": error.message},
        }
        if error.line is not None:
            region = {"startLine": error.line}
            if error.column is not None:
                region["startColumn"] = error.column
            notification["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri},
                        "region": region,
                    }
                }
            ]
        notifications.append(notification)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "kb-troubleshooter", "rules": rules}},
                "invocations": [
                    {"executionSuccessful": True, "toolExecutionNotifications": notifications}
                ],
                "results": results,
            }
        ],
    }


def to_text(report: Report) -> str:
    """One line per finding, then parse errors and notes, then a summary line."""
    lines = []
    for finding in report.findings:
        line = (
            f"{finding.line}:{finding.column} {finding.severity} {finding.check} "
            f"{finding.object.label()}: {finding.message}"
        )
        if finding.suppressed:
            line += f" [suppressed: {finding.suppression_reason}]"
        lines.append(line)
    for error in report.errors:
        position = f"{error.line or '?'}:{error.column or '?'}"
        label = "note" if error.severity == "note" else "parse-error"
        lines.append(f"{position} {label}: {error.message}")
    counts = report.counts()
    lines.append(
        f"{report.objects} objects: {counts['error']} errors, {counts['warning']} warnings, "
        f"{counts['info']} info, {counts['suppressed']} suppressed, "
        f"{counts['parse_errors']} parse errors, {counts['notes']} notes"
    )
    return "\n".join(lines) + "\n"
