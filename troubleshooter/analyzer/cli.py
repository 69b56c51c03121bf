"""The analyzer's command line, without Django: `manage.py analyze` runs this.

`manage.py` calls `main()` directly for `analyze`, before Django is set up (setting up Django
costs most of a second here, and a CI step pays it on every file). The management command of
the same name is a thin face on `run()` for `call_command` and `manage.py help analyze`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from .analyze import analyze_manifest
from .registry import CHECKS
from .report import to_json, to_sarif, to_text
from .results import Limits, ManifestRejected, Report

# Lower rank = more severe; a finding fails the run when its rank <= the --fail-on rank.
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2, "note": 3}
EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2
STDIN = "-"

DESCRIPTION = (
    "Analyze Kubernetes manifests (YAML or JSON, several documents per file) with the same "
    "checks as the web page. Output: --format text prints one report per file (with a "
    "'==> FILE <==' header when several files are given); json prints the API's object for "
    "one file, or a list of those objects, each with a 'file' key, for several; sarif "
    "prints one SARIF 2.1.0 log with one run per file. Exit status: 0 when no unsuppressed "
    "finding is at or above --fail-on, 1 when at least one is (parse errors count as "
    "errors; notes about the input, such as duplicates or a kb-ignore without a reason, "
    "only with --fail-on note), 2 when an input cannot be read or is refused (missing, "
    "empty, binary, too large or not UTF-8) or an option is wrong; 2 wins over 1."
)

# The KB_* variables of kb/settings.py that bound an analysis, with the same defaults
# (Limits' own); tests/troubleshooter/test_analyze_command.py keeps the two in step.
LIMIT_VARIABLES = {
    "max_bytes": "KB_MAX_MANIFEST_BYTES",
    "max_documents": "KB_MAX_MANIFEST_DOCUMENTS",
    "max_objects": "KB_MAX_MANIFEST_OBJECTS",
    "max_depth": "KB_MAX_YAML_DEPTH",
    "max_aliases": "KB_MAX_YAML_ALIASES",
}


class UsageError(Exception):
    """A wrong option or environment value: exit status 2."""


def describe_size(limit: int) -> str:
    """A byte limit as people read it: 2 000 000 → "2 MB"."""
    if limit >= 1_000_000:
        return f"{limit / 1_000_000:g} MB"
    if limit >= 1_000:
        return f"{limit / 1_000:g} kB"
    return f"{limit} bytes"


def too_large_message(*, size: int, limit: int) -> str:
    """The message shown when a manifest is over the limit."""
    return (
        f"The manifest is {size:,} bytes; the limit is {limit:,} bytes "
        f"({describe_size(limit)}). Split it into smaller files and analyse them one by one."
    )


def limits_from_env(environ: dict[str, str] | None = None) -> Limits:
    """The analysis limits from the KB_MAX_* variables, as the web app reads them."""
    environ = os.environ if environ is None else environ
    values: dict[str, int] = {}
    for field, variable in LIMIT_VARIABLES.items():
        raw = environ.get(variable)
        if raw is None:
            continue
        try:
            values[field] = int(raw.strip().replace("_", ""))
        except ValueError:
            raise UsageError(f"{variable}={raw!r} is not an integer") from None
    return Limits(**values)


def check_ids(value: str) -> frozenset[str]:
    """Comma-separated check ids, each known to the registry."""
    ids = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(check_id for check_id in ids if check_id not in CHECKS)
    if unknown:
        raise UsageError(f"Unknown check id(s): {', '.join(unknown)}. See /checks/ for the list.")
    return ids


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options, shared by the fast path and the Django management command."""
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="Manifest files to analyze; '-' reads the manifest from standard input.",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="Output format (default: text). See above for several files.",
    )
    parser.add_argument(
        "--fail-on",
        choices=tuple(SEVERITY_RANK),
        default="error",
        help="Lowest severity that makes the exit status 1 (default: error).",
    )
    parser.add_argument(
        "--disable",
        default="",
        metavar="ID,...",
        help="Comma-separated check ids to turn off (see /checks/); unknown ids exit 2.",
    )
    parser.add_argument(
        "--base-url",
        default="http://localhost:8000",
        help="The site's address, used for the SARIF rules' helpUri links to /checks/<id>/ "
        "(default: http://localhost:8000).",
    )


def failing(report: Report, *, fail_on: str) -> int:
    """How many unsuppressed findings (parse errors count as errors) reach the threshold.

    Notes about the input count only with `--fail-on note`.
    """
    threshold = SEVERITY_RANK[fail_on]
    count = sum(
        1
        for finding in report.findings
        if not finding.suppressed and SEVERITY_RANK[finding.severity] <= threshold
    )
    return count + sum(1 for error in report.errors if SEVERITY_RANK[error.severity] <= threshold)


@dataclass(frozen=True)
class Outcome:
    """The exit status and, when it is not 0, the closing message for standard error."""

    code: int
    message: str = ""


def _label(path: str) -> str:
    return "standard input" if path == STDIN else path


def _read(path: str, *, stdin: IO[Any], limit: int) -> str | bytes:
    """Read at most one byte more than the limit, so a huge file is refused cheaply."""
    if path == STDIN:
        stream = getattr(stdin, "buffer", stdin)
        data = stream.read(limit + 1)
    else:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > limit:
        raise ManifestRejected(too_large_message(size=size, limit=limit))
    if not data.strip():
        raise ManifestRejected("it is empty: there is nothing to analyse.")
    return data


def render(reports: list[tuple[str, Report]], *, output: str, several: bool, base_url: str) -> str:
    """The reports in the chosen format."""
    if output == "text":
        if not several:
            return "".join(to_text(report) for _, report in reports)
        return "".join(f"==> {_label(path)} <==\n{to_text(report)}\n" for path, report in reports)
    if output == "json":
        if not several:
            payload: Any = to_json(reports[0][1]) if reports else None
        else:
            payload = [{"file": path, **to_json(report)} for path, report in reports]
        return "" if payload is None else json.dumps(payload, indent=2) + "\n"
    base = base_url.rstrip("/")
    runs = []
    log: dict[str, Any] = {}
    for path, report in reports:
        log = to_sarif(
            report,
            check_uri=lambda check_id: f"{base}/checks/{check_id}/",
            artifact_uri="stdin" if path == STDIN else path,
        )
        runs.extend(log["runs"])
    if not log:
        return ""
    log["runs"] = runs
    return json.dumps(log, indent=2) + "\n"


def run(
    *,
    files: Sequence[str],
    output: str = "text",
    fail_on: str = "error",
    disable: str = "",
    base_url: str = "http://localhost:8000",
    limits: Limits,
    stdin: IO[Any],
    stdout: IO[str],
    stderr: IO[str],
) -> Outcome:
    """Analyze the files, print the reports, and say how the run ends."""
    try:
        disabled = check_ids(disable)
    except UsageError as error:
        return Outcome(EXIT_BAD_INPUT, str(error))
    reports: list[tuple[str, Report]] = []
    unreadable = 0
    for path in files:
        try:
            data = _read(path, stdin=stdin, limit=limits.max_bytes)
            report = analyze_manifest(text=data, filename=path, limits=limits, disabled=disabled)
        except OSError as error:
            unreadable += 1
            stderr.write(f"analyze: cannot read {path}: {error.strerror or error}\n")
            continue
        except ManifestRejected as rejected:
            unreadable += 1
            stderr.write(f"analyze: {_label(path)} refused: {rejected.message}\n")
            continue
        reports.append((path, report))
    stdout.write(render(reports, output=output, several=len(files) > 1, base_url=base_url))
    if unreadable:
        return Outcome(EXIT_BAD_INPUT, f"{unreadable} input(s) could not be analysed")
    over = sum(failing(report, fail_on=fail_on) for _, report in reports)
    if over:
        return Outcome(EXIT_FINDINGS, f"{over} finding(s) at or above {fail_on}")
    return Outcome(EXIT_OK)


def main(argv: Sequence[str], *, prog: str = "manage.py analyze") -> int:
    """Parse the command line, run, and return the exit status."""
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    add_arguments(parser)
    try:
        options = parser.parse_args(list(argv))
    except SystemExit as exit_:  # argparse has printed the usage error or the help
        return EXIT_BAD_INPUT if exit_.code else EXIT_OK
    try:
        limits = limits_from_env()
    except UsageError as error:
        sys.stderr.write(f"analyze: {error}\n")
        return EXIT_BAD_INPUT
    outcome = run(
        files=options.files,
        output=options.format,
        fail_on=options.fail_on,
        disable=options.disable,
        base_url=options.base_url,
        limits=limits,
        stdin=sys.stdin,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )
    if outcome.message:
        sys.stderr.write(f"analyze: {outcome.message}\n")
    return outcome.code
