"""Run one check on a manifest, without the rest of the analyzer (suppression, other checks).

Imported by the per-check tests beside it (pytest puts this folder on sys.path: the tests
folders are not packages).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from troubleshooter.analyzer.model import build_model
from troubleshooter.analyzer.parse import parse_stream
from troubleshooter.analyzer.results import Finding, Limits

MANIFESTS = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"


def runners(
    module: ModuleType,
) -> tuple[Callable[[str], list[Finding]], Callable[[str], list[Finding]]]:
    """`run(text)` and `fixture(file name)` for one check module, findings sorted by place."""

    def run(text: str) -> list[Finding]:
        documents, errors = parse_stream(text, limits=Limits())
        model = build_model(documents, limits=Limits(), lines=text.split("\n"), errors=errors)
        return sorted(module.check(model), key=lambda f: (f.line, f.column, f.message))

    def fixture(name: str) -> list[Finding]:
        return run((MANIFESTS / module.ID / name).read_text())

    return run, fixture


def summary(findings: list[Finding]) -> list[tuple[int, int, str, str]]:
    """Line, column, severity and object of each finding: what the tests compare."""
    return [(f.line, f.column, f.severity, f.object.label()) for f in findings]
