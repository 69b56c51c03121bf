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
from troubleshooter.analyzer.report import to_json, to_sarif
from troubleshooter.analyzer.suppress import ANNOTATION
from troubleshooter.forms import (
    AnalyzeForm,
    ApiOptionsForm,
    describe_size,
    manifest_limits,
    too_large_message,
)

# Same rule as the registry's ids; checked before any lookup so junk never reaches it.
CHECK_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CHECK_ID_LENGTH = 100
FORM_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
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


@dataclass
class ShownFinding:
    """A finding as the page shows it: its number (for element ids) and its links."""

    number: int
    finding: Finding
    article_url: str

    @property
    def fix_id(self) -> str:
        return f"fix-{self.number}"


@dataclass
class ListingLine:
    """One manifest line with the findings and parse errors pinned under it."""

    number: int
    code: SafeString
    findings: list[ShownFinding] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


def _article_url(finding: Finding) -> str:
    url = reverse("kb:article_detail", args=[finding.article])
    return f"{url}#{finding.section}" if finding.section else url


def shown_findings(report: Report) -> list[ShownFinding]:
    """The report's findings, numbered in order, with their article links."""
    return [
        ShownFinding(number=number, finding=finding, article_url=_article_url(finding))
        for number, finding in enumerate(report.findings, start=1)
    ]


def build_listing(report: Report, findings: list[ShownFinding]) -> list[ListingLine]:
    """Every line of the manifest, highlighted, with findings and errors pinned to it."""
    listing = [
        ListingLine(number=number, code=code)
        for number, code in enumerate(highlight_lines(report.lines), start=1)
    ]
    # A trailing newline leaves one empty "line" after the last; do not show it.
    if listing and not report.lines[-1]:
        listing.pop()
    last = len(listing)
    for shown in findings:
        line = min(max(shown.finding.line, 1), last) if last else 0
        if line:
            listing[line - 1].findings.append(shown)
    for error in report.errors:
        line = min(max(error.line or 1, 1), last) if last else 0
        if line:
            listing[line - 1].errors.append(error)
    return listing


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
    if request.content_type in FORM_CONTENT_TYPES:
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
