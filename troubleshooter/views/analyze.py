"""The manifest analyzer's web faces: the page, the JSON/SARIF API and the check documentation.

Each view parses its input with a form, calls `analyze_manifest` once and renders. Pasted and
uploaded manifests live only in memory for the length of the request: they are never saved,
never logged, and `sensitive_post_parameters` keeps them out of error reports.
"""

from __future__ import annotations

import html
import inspect
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from types import ModuleType

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from pygments import highlight, lex
from pygments.formatters import HtmlFormatter
from pygments.lexers import YamlLexer
from pygments.token import STANDARD_TYPES

from kb.rendering import render_document
from troubleshooter.analyzer import (
    Finding,
    Limits,
    ManifestRejected,
    ParseError,
    Report,
    analyze_manifest,
    registry,
)
from troubleshooter.analyzer.cli import describe_size, too_large_message
from troubleshooter.analyzer.report import to_json, to_sarif
from troubleshooter.analyzer.suppress import ANNOTATION
from troubleshooter.forms import AnalyzeForm, ApiOptionsForm, manifest_limits

# Same rule as the registry's ids; checked before any lookup so junk never reaches it.
CHECK_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CHECK_ID_LENGTH = 100
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def limit_summary(limits: Limits) -> str:
    """The documented limit as shown on the page: "up to 2 MB / 5 000 objects"."""
    objects = f"{limits.max_objects:,}".replace(",", "\u202f")
    return f"up to {describe_size(limits.max_bytes)} / {objects} objects"


# --- The annotated listing ---------------------------------------------------------------------


def _css_class(token_type) -> str:
    """Pygments' short CSS class for a token type (as in static/css/pygments.css)."""
    while token_type not in STANDARD_TYPES:
        token_type = token_type.parent
    return STANDARD_TYPES[token_type]


def highlight_lines(lines: list[str]) -> list[SafeString]:
    """Highlight YAML as a whole (block scalars need context) and cut it back into lines.

    Every piece of text is escaped here; the result holds only our own <span class> tags.
    """
    lexer = YamlLexer(stripnl=False, ensurenl=False, stripall=False)
    out: list[list[str]] = [[]]
    for token_type, value in lex("\n".join(lines), lexer):
        css = _css_class(token_type)
        for index, piece in enumerate(value.split("\n")):
            if index:
                out.append([])
            if not piece:
                continue
            escaped = html.escape(piece, quote=False)
            out[-1].append(f'<span class="{css}">{escaped}</span>' if css else escaped)
    # The lexer never drops text, but stay aligned with the report's lines whatever happens.
    out.extend([] for _ in range(len(lines) - len(out)))
    return [mark_safe("".join(parts)) for parts in out[: len(lines)]]


# Up to these sizes the whole manifest is shown. Past them, only the lines around findings
# and errors are, within the same caps: highlighting and rendering cost about 0.35 ms a line
# (measured: 64 000 lines took 8 s to highlight and 14 s to render), one 2 MB line of JSON
# became 23 MB of HTML in 15 s, and a page of tens of megabytes helps nobody.
MAX_LISTING_LINES = 3_000
MAX_LISTING_CHARS = 400_000
MAX_LINE_CHARS = 1_000  # longer lines are cut on screen; the analysis sees them whole
CONTEXT_LINES = 3


@dataclass
class ShownFinding:
    """A finding as the page shows it: its number (for element ids) and its links."""

    number: int
    finding: Finding
    article_url: str
    in_listing: bool = False

    @property
    def fix_id(self) -> str:
        return f"fix-{self.number}"


@dataclass
class ListingLine:
    """One manifest line with the findings and parse errors pinned under it."""

    number: int
    code: SafeString
    hidden_before: int = 0
    cut: int = 0
    findings: list[ShownFinding] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


@dataclass
class Listing:
    """The lines shown, and how many lines of the manifest are left out after the last."""

    lines: list[ListingLine]
    total: int
    hidden_after: int = 0

    @property
    def partial(self) -> bool:
        return len(self.lines) < self.total


def _article_url(finding: Finding) -> str:
    url = reverse("kb:article_detail", args=[finding.article])
    return f"{url}#{finding.section}" if finding.section else url


def shown_findings(report: Report) -> list[ShownFinding]:
    """The report's findings, numbered in order, with their article links."""
    return [
        ShownFinding(number=number, finding=finding, article_url=_article_url(finding))
        for number, finding in enumerate(report.findings, start=1)
    ]


def _clamp(line: int | None, total: int) -> int:
    return min(max(line or 1, 1), total)


def _lines_to_show(pinned: list[int], widths: list[int]) -> list[int]:
    """Every line of a small manifest; else the lines around pinned ones, within the caps."""
    total = len(widths)
    if total <= MAX_LISTING_LINES and sum(widths) <= MAX_LISTING_CHARS:
        return list(range(1, total + 1))
    wanted: set[int] = set()
    chars = 0
    for line in sorted(set(pinned)):
        window = range(max(line - CONTEXT_LINES, 1), min(line + CONTEXT_LINES, total) + 1)
        new = [number for number in window if number not in wanted]
        more = sum(widths[number - 1] for number in new)
        if len(wanted) + len(new) > MAX_LISTING_LINES or chars + more > MAX_LISTING_CHARS:
            break
        wanted.update(new)
        chars += more
    return sorted(wanted)


def _runs(numbers: list[int]) -> list[list[int]]:
    """Split sorted line numbers into runs of consecutive lines."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


def build_listing(report: Report, findings: list[ShownFinding]) -> Listing:
    """The manifest's lines, highlighted, with findings and errors pinned under their lines."""
    lines = report.lines
    # A trailing newline leaves one empty "line" after the last; do not show it.
    total = len(lines) - 1 if lines and not lines[-1] else len(lines)
    if not total:
        return Listing(lines=[], total=0)
    pinned = [_clamp(shown.finding.line, total) for shown in findings]
    pinned += [_clamp(error.line, total) for error in report.errors]
    widths = [min(len(line), MAX_LINE_CHARS) for line in lines[:total]]
    rows: dict[int, ListingLine] = {}
    previous = 0
    for run in _runs(_lines_to_show(pinned, widths)):
        # Each run is highlighted on its own; for a whole manifest that is one run.
        shown_text = [line[:MAX_LINE_CHARS] for line in lines[run[0] - 1 : run[-1]]]
        codes = highlight_lines(shown_text)
        for number, code in zip(run, codes, strict=True):
            rows[number] = ListingLine(
                number=number,
                code=code,
                hidden_before=number - previous - 1,
                cut=len(lines[number - 1]) - widths[number - 1],
            )
            previous = number
    for shown in findings:
        row = rows.get(_clamp(shown.finding.line, total))
        if row is not None:
            row.findings.append(shown)
            shown.in_listing = True
    for error in report.errors:
        row = rows.get(_clamp(error.line, total))
        if row is not None:
            row.errors.append(error)
    return Listing(lines=list(rows.values()), total=total, hidden_after=total - previous)


def _results_context(report: Report, *, filename: str | None) -> dict:
    findings = shown_findings(report)
    counts = report.counts()
    return {
        "report": report,
        "filename": filename,
        "counts": counts,
        "findings": findings,
        "listing": build_listing(report, findings),
        "clean": not report.findings and not report.errors,
    }


# --- Views ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@never_cache
@sensitive_post_parameters("manifest")
def analyze(request: HttpRequest) -> HttpResponse:
    """Paste or upload manifests; POST shows the findings pinned under their lines."""
    limits = manifest_limits()
    context: dict = {"limit_summary": limit_summary(limits), "max_bytes": limits.max_bytes}
    status = 200
    if request.method == "POST":
        form = AnalyzeForm(request.POST, request.FILES, max_bytes=limits.max_bytes)
        context["submitted"] = True
        if form.is_valid():
            try:
                report = analyze_manifest(
                    text=form.cleaned_data["data"],
                    filename=form.cleaned_data["filename"],
                    limits=limits,
                )
            except ManifestRejected as rejected:
                status = 400
                context["rejected"] = rejected.message
            else:
                context.update(_results_context(report, filename=form.cleaned_data["filename"]))
        else:
            status = form.error_status()
    else:
        form = AnalyzeForm(max_bytes=limits.max_bytes)
    context["form"] = form
    template = "troubleshooter/analyze.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context, status=status)


def _json_error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _first_error(form) -> str:
    return next(iter(form.errors.values()))[0]


def _artifact_uri(filename: str | None) -> str:
    """The file name SARIF reports results against: the upload's base name, or a default."""
    name = PurePath(filename).name if filename else ""
    return name or "manifest.yaml"


def _is_form_post(request: HttpRequest) -> bool:
    """Whether the manifest comes in form fields rather than as the raw body.

    `curl --data-binary @deploy.yaml` labels raw YAML as urlencoded form data; without a
    `manifest` field such a body is taken as the manifest itself.
    """
    if request.content_type == "multipart/form-data":
        return True
    if request.content_type == "application/x-www-form-urlencoded":
        return "manifest" in request.POST
    return False


@csrf_exempt
@sensitive_post_parameters("manifest")
def api_analyze(request: HttpRequest) -> JsonResponse:
    """POST a manifest (raw body, form field `manifest` or file `file`); JSON or SARIF back."""
    if request.method != "POST":
        response = _json_error("Use POST with the manifest as the body.", 405)
        response["Allow"] = "POST"
        return response
    options = ApiOptionsForm(request.GET)
    if not options.is_valid():
        return _json_error(_first_error(options), 400)
    limits = manifest_limits()
    filename = None
    if _is_form_post(request):
        form = AnalyzeForm(request.POST, request.FILES, max_bytes=limits.max_bytes)
        if not form.is_valid():
            status = form.error_status()
            extra = {"limit": limits.max_bytes} if status == 413 else {}
            return _json_error(_first_error(form), status, **extra)
        data, filename = form.cleaned_data["data"], form.cleaned_data["filename"]
    else:
        try:
            data = request.body
        except RequestDataTooBig:
            return _json_error(
                f"The request body is larger than {settings.KB_MAX_REQUEST_BYTES:,} bytes.",
                413,
                limit=limits.max_bytes,
            )
        if len(data) > limits.max_bytes:
            message = too_large_message(size=len(data), limit=limits.max_bytes)
            return _json_error(message, 413, limit=limits.max_bytes)
        if not data.strip():
            return _json_error("The body is empty: send the manifest as the request body.", 400)
    try:
        report = analyze_manifest(
            text=data, filename=filename, limits=limits, disabled=options.cleaned_data["disable"]
        )
    except ManifestRejected as rejected:
        return _json_error(rejected.message, 400)
    if options.cleaned_data["format"] == "sarif":
        sarif = to_sarif(
            report,
            check_uri=lambda check_id: request.build_absolute_uri(
                reverse("troubleshooter:check_detail", args=[check_id])
            ),
            artifact_uri=_artifact_uri(filename),
        )
        return JsonResponse(sarif, content_type="application/sarif+json")
    return JsonResponse(to_json(report))


# --- Check documentation ------------------------------------------------------------------------

_RST_LITERAL = re.compile(r"::$", re.MULTILINE)


def check_documentation(module: ModuleType) -> SafeString:
    """A check's docstring as sanitized HTML (Markdown; a trailing `::` reads as `:`)."""
    text = _RST_LITERAL.sub(":", inspect.cleandoc(module.__doc__ or ""))
    return mark_safe(render_document(text=text, kind="markdown").html)


def highlight_yaml(text: str) -> SafeString:
    """YAML as Pygments HTML with CSS classes (Pygments escapes the text)."""
    formatter = HtmlFormatter(cssclass="codehilite")
    return mark_safe(highlight(text, YamlLexer(), formatter))


@require_GET
def check_list(request: HttpRequest) -> HttpResponse:
    """Every registered check: id, title, severity."""
    checks = sorted(
        registry.all_checks(), key=lambda module: (SEVERITY_ORDER[module.SEVERITY], module.ID)
    )
    return render(request, "troubleshooter/check_list.html", {"checks": checks})


@require_GET
def check_detail(request: HttpRequest, check_id: str) -> HttpResponse:
    """One check's documentation, examples, the findings its failing example produces."""
    if len(check_id) > MAX_CHECK_ID_LENGTH or not CHECK_ID_RE.fullmatch(check_id):
        raise Http404("No such check")
    try:
        module = registry.get(check_id)
    except registry.UnknownCheck:
        raise Http404("No such check") from None
    report = analyze_manifest(text=module.FAILING_EXAMPLE, limits=manifest_limits())
    example_findings = [
        shown for shown in shown_findings(report) if shown.finding.check == module.ID
    ]
    context = {
        "check": module,
        "documentation": check_documentation(module),
        "failing_html": highlight_yaml(module.FAILING_EXAMPLE),
        "passing_html": highlight_yaml(module.PASSING_EXAMPLE),
        "example_findings": example_findings,
        "article_url": reverse("kb:article_detail", args=[module.ARTICLE]),
        "annotation": ANNOTATION,
    }
    return render(request, "troubleshooter/check_detail.html", context)
