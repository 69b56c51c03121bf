"""`manage.py analyze`: the manifest analyzer for CI, on files or standard input."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from troubleshooter.analyzer import ManifestRejected, Report, analyze_manifest
from troubleshooter.analyzer.report import to_json, to_sarif, to_text
from troubleshooter.forms import manifest_limits, parse_check_ids, too_large_message

# Lower rank = more severe; a finding fails the run when its rank <= the --fail-on rank.
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2
STDIN = "-"


def failing(report: Report, *, fail_on: str) -> int:
    """How many unsuppressed findings (parse errors count as errors) reach the threshold."""
    threshold = SEVERITY_RANK[fail_on]
    count = sum(
        1
        for finding in report.findings
        if not finding.suppressed and SEVERITY_RANK[finding.severity] <= threshold
    )
    return count + len(report.errors)


class Command(BaseCommand):
    help = (
        "Analyze Kubernetes manifests (YAML or JSON, several documents per file) with the same "
        "checks as the web page. Output: --format text prints one report per file (with a "
        "'==> FILE <==' header when several files are given); json prints the API's object for "
        "one file, or a list of those objects, each with a 'file' key, for several; sarif "
        "prints one SARIF 2.1.0 log with one run per file. Exit status: 0 when no unsuppressed "
        "finding is at or above --fail-on, 1 when at least one is (parse errors count as "
        "errors), 2 when an input cannot be read or is refused (missing, empty, binary, too "
        "large or not UTF-8) or an option is wrong; 2 wins over 1."
    )
    # `stdin` lets tests (and call_command users) pass a stream in place of sys.stdin.
    stealth_options = ("stdin",)
    # Analysing needs no database or system checks; starting fast matters in CI.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
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

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            disabled = parse_check_ids(options["disable"])
        except ValidationError as error:
            raise CommandError(error.messages[0], returncode=EXIT_BAD_INPUT) from None
        limits = manifest_limits()
        stdin = options.get("stdin") or sys.stdin
        reports: list[tuple[str, Report]] = []
        unreadable = 0
        for path in options["files"]:
            try:
                data = self._read(path, stdin=stdin, limit=limits.max_bytes)
                report = analyze_manifest(
                    text=data, filename=path, limits=limits, disabled=disabled
                )
            except OSError as error:
                unreadable += 1
                self.stderr.write(f"analyze: cannot read {path}: {error.strerror or error}")
                continue
            except ManifestRejected as rejected:
                unreadable += 1
                self.stderr.write(f"analyze: {self._label(path)} refused: {rejected.message}")
                continue
            reports.append((path, report))

        self.stdout.write(self._render(reports, options), ending="")
        if unreadable:
            raise CommandError(
                f"{unreadable} input(s) could not be analysed", returncode=EXIT_BAD_INPUT
            )
        over = sum(failing(report, fail_on=options["fail_on"]) for _, report in reports)
        if over:
            raise CommandError(
                f"{over} finding(s) at or above {options['fail_on']}", returncode=EXIT_FINDINGS
            )

    @staticmethod
    def _label(path: str) -> str:
        return "standard input" if path == STDIN else path

    def _read(self, path: str, *, stdin: Any, limit: int) -> str | bytes:
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

    def _render(self, reports: list[tuple[str, Report]], options: dict[str, Any]) -> str:
        output = options["format"]
        if output == "text":
            if len(options["files"]) == 1:
                return "".join(to_text(report) for _, report in reports)
            return "".join(
                f"==> {self._label(path)} <==\n{to_text(report)}\n" for path, report in reports
            )
        if output == "json":
            if len(options["files"]) == 1:
                payload: Any = to_json(reports[0][1]) if reports else None
            else:
                payload = [{"file": path, **to_json(report)} for path, report in reports]
            return "" if payload is None else json.dumps(payload, indent=2) + "\n"
        base = options["base_url"].rstrip("/")
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
