"""The analyzer's command line, without Django: `manage.py analyze` runs this.

`manage.py` calls `main()` directly for `analyze`, before Django is set up (setting up Django
costs most of a second here, and a CI step pays it on every file). The management command of
the same name is a thin face on `run()` for `call_command` and `manage.py help analyze`.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import os
import re
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from .analyze import analyze_manifest
from .notices import notice
from .registry import CHECKS
from .report import to_json, to_sarif, to_text
from .results import Limits, ManifestRejected, Report

# Lower rank = more severe; a finding fails the run when its rank <= the --fail-on rank.
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2, "note": 3}
EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
STDIN = "-"

# Characters that steer a terminal or a CI log rather than print: C0 and C1 controls (ESC,
# BEL, CR, backspace...), DEL, and the bidirectional overrides and isolates that reorder
# what is shown. Text output shows them as escapes, so a pasted name cannot forge a line.
_STEERING = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

DESCRIPTION = (
    "Analyze Kubernetes manifests (YAML or JSON, several documents per file) with the same "
    "checks as the web page. Output: --format text prints one report per file (with a "
    "'==> FILE <==' header when several files are given); json prints the API's object for "
    "one file, or a list of those objects, each with a 'file' key, for several; sarif "
    "prints one SARIF 2.1.0 log with one run per file. Exit status: 0 when no unsuppressed "
    "finding is at or above --fail-on, 1 when at least one is (parse errors count as "
    "errors; notes about the input, such as duplicates or a kb-ignore without a reason, "
    "only with --fail-on note), 2 when an input cannot be read or is refused (missing, "
    "empty, binary, too large, not UTF-8/16/32, or not a regular file: FIFOs, devices and "
    "sockets are refused rather than waited on) or an option is wrong, 3 when the analyzer "
    "itself failed on an input (the other files are still reported); 3 wins over 2, 2 over "
    "1. Each file's analysis stops after --max-seconds with a partial report that says what "
    "was not checked. Text output shows control and bidi characters as escapes."
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
    return too_large_notice(size=size, limit=limit)["message"]


def too_large_notice(*, size: int, limit: int) -> dict:
    """That message with its notice code and values, for a page in ja or zh."""
    return notice(
        "too-large-input", size=f"{size:,}", limit=f"{limit:,}", limit_size=describe_size(limit)
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


def seconds(value: str) -> float:
    """A positive number of seconds (argparse type)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < number < 86_400:
        raise argparse.ArgumentTypeError(f"{value!r} is not between 0 and 86400 seconds")
    return number


def escape(text: str) -> str:
    """Text with control and bidi characters shown as escapes (`\\x1b`, `\\u202e`)."""
    return _STEERING.sub(lambda match: _escape_char(match.group()), text)


def _escape_char(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escaped_report(report: Report) -> Report:
    """A copy of the report whose names, messages and reasons are safe to print."""

    def clean(text: str | None) -> str | None:
        return escape(text) if text is not None else None

    findings = [
        dataclasses.replace(
            finding,
            check=escape(finding.check),
            object=dataclasses.replace(
                finding.object,
                kind=escape(finding.object.kind),
                name=clean(finding.object.name),
                namespace=clean(finding.object.namespace),
            ),
            message=escape(finding.message),
            suppression_reason=clean(finding.suppression_reason),
        )
        for finding in report.findings
    ]
    errors = [dataclasses.replace(error, message=escape(error.message)) for error in report.errors]
    return dataclasses.replace(report, findings=findings, errors=errors)


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
        "--max-seconds",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help="Time budget of each file's analysis; past it the report is partial and says "
        f"what was not checked (default: {Limits().max_seconds:g}).",
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
    return "standard input" if path == STDIN else escape(path)


_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _open_regular(path: str) -> IO[bytes]:
    """Open a regular file for reading, or refuse anything else without blocking.

    O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer; the
    type is then checked on the open descriptor, so a path swapped in between is caught.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(mode):
            what = next((name for test, name in _SPECIAL if test(mode)), "of an unknown type")
            raise ManifestRejected(f"it is {what}, not a regular file; nothing was read.")
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _read(path: str, *, stdin: IO[Any], limit: int) -> str | bytes:
    """Read at most one byte more than the limit, so a huge file is refused cheaply."""
    if path == STDIN:
        stream = getattr(stdin, "buffer", stdin)
        data = stream.read(limit + 1)
    else:
        with _open_regular(path) as handle:
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
        texts = [(path, to_text(_escaped_report(report))) for path, report in reports]
        if not several:
            return "".join(text for _, text in texts)
        return "".join(f"==> {_label(path)} <==\n{text}\n" for path, text in texts)
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
    max_seconds: float | None = None,
    stdin: IO[Any],
    stdout: IO[str],
    stderr: IO[str],
) -> Outcome:
    """Analyze the files, print the reports, and say how the run ends."""
    try:
        disabled = check_ids(disable)
    except UsageError as error:
        return Outcome(EXIT_BAD_INPUT, escape(str(error)))
    if max_seconds is not None:
        limits = dataclasses.replace(limits, max_seconds=max_seconds)
    reports: list[tuple[str, Report]] = []
    unreadable = 0
    failed = 0
    for path in files:
        try:
            data = _read(path, stdin=stdin, limit=limits.max_bytes)
            report = analyze_manifest(text=data, filename=path, limits=limits, disabled=disabled)
        except OSError as error:
            unreadable += 1
            reason = escape(str(error.strerror or error))
            stderr.write(f"analyze: cannot read {_label(path)}: {reason}\n")
            continue
        except ManifestRejected as rejected:
            unreadable += 1
            stderr.write(f"analyze: {_label(path)} refused: {escape(rejected.message)}\n")
            continue
        except Exception as error:  # noqa: BLE001 - one file's crash must not lose the others
            failed += 1
            # The exception's text may quote the manifest: only its type is shown.
            stderr.write(
                f"analyze: internal error while analysing {_label(path)}"
                f" ({type(error).__name__}); please report it\n"
            )
            continue
        finally:
            data = None  # a failed file's text is not kept while the next one is read
        reports.append((path, report))
    stdout.write(render(reports, output=output, several=len(files) > 1, base_url=base_url))
    if failed:
        return Outcome(EXIT_INTERNAL, f"the analyzer failed on {failed} input(s)")
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
        max_seconds=options.max_seconds,
        stdin=sys.stdin,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )
    if outcome.message:
        sys.stderr.write(f"analyze: {outcome.message}\n")
    return outcome.code
