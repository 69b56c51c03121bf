"""The manifest analyzer's web faces: the page, the JSON/SARIF API and the check documentation.

Each view parses its input with a form, calls `analyze_manifest` once and renders. Pasted and
uploaded manifests live only in memory for the length of the request: they are never saved,
never logged, and `sensitive_post_parameters` keeps them out of error reports.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from types import ModuleType
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from troubleshooter.analyzer import (
    Limits,
    ManifestRejected,
    Report,
    analyze_manifest,
    check_docs,
    registry,
)
from troubleshooter.analyzer.cli import describe_size, too_large_message
from troubleshooter.analyzer.report import to_json, to_sarif
from troubleshooter.analyzer.suppress import ANNOTATION
from troubleshooter.forms import AnalyzeForm, ApiOptionsForm, manifest_limits
from troubleshooter.listing import (
    build_listing,
    group_by_object,
    localized_message,
    localized_rejection,
    shown_errors,
    shown_findings,
)

# Same rule as the registry's ids; checked before any lookup so junk never reaches it.
CHECK_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CHECK_ID_LENGTH = 100
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def limit_summary(limits: Limits) -> str:
    """The documented limit as shown on the page: "up to 2 MB / 5 000 objects"."""
    objects = f"{limits.max_objects:,}".replace(",", "\u202f")
    return _("up to %(size)s / %(objects)s objects") % {
        "size": describe_size(limits.max_bytes),
        "objects": objects,
    }


# "Load an example": the failing examples of these checks, one document after another.
EXAMPLE_CHECKS = (
    "aks-virtual-node-azure-files-pvc",
    "nfs-efs-mount-options",
    "php-upload-tmp-dir",
    "client-source-ip-external-traffic-policy",
)


def example_manifest() -> str:
    """A manifest with findings of several severities, from the checks' own failing examples."""
    return "---\n".join(
        registry.get(check_id).FAILING_EXAMPLE.strip("\n") + "\n" for check_id in EXAMPLE_CHECKS
    )


def _results_context(report: Report, *, filename: str | None) -> dict:
    findings = shown_findings(report)
    counts = report.counts()
    return {
        "report": report,
        "filename": filename,
        "counts": counts,
        "findings": findings,
        "groups": group_by_object(findings),
        "errors": shown_errors(report),
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
                said = localized_rejection(rejected)
                context["rejected"], context["rejected_lang"] = said.text, said.lang
            else:
                context.update(_results_context(report, filename=form.cleaned_data["filename"]))
        else:
            status = form.error_status()
            if status == 413:
                # Never echo a refused manifest back into the page: the form starts empty.
                context["refused_errors"] = form.non_field_errors()
                form = AnalyzeForm(max_bytes=limits.max_bytes)
    else:
        initial = {"manifest": example_manifest()} if request.GET.get("example") else None
        form = AnalyzeForm(max_bytes=limits.max_bytes, initial=initial)
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
        response = JsonResponse(sarif, content_type="application/sarif+json")
        extension = "sarif"
    else:
        response = JsonResponse(to_json(report))
        extension = "json"
    if request.GET.get("download"):
        # The analyzer page's "Download" buttons post the same form here.
        stem = PurePath(_artifact_uri(filename)).stem or "manifest"
        safe_stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem)[:80] or "manifest"
        response["Content-Disposition"] = f'attachment; filename="{safe_stem}.{extension}"'
    return response


# --- Check documentation ------------------------------------------------------------------------

_RST_LITERAL = re.compile(r"::$", re.MULTILINE)


def check_doc_language(language: str | None) -> str:
    """Our language for a Django language code: ja, zh (zh-hans, zh-cn, ...) or en."""
    return check_docs.language_for(language)


class CheckDocumentation(NamedTuple):
    """A check page's text as shown: sanitized HTML, its language, and whether it is a
    translation that fell behind the docstring."""

    html: SafeString
    lang: str
    stale: bool


def check_documentation(module: ModuleType, *, lang: str = "en") -> CheckDocumentation:
    """A check's docstring, or its ja/zh translation (checks/docs/<id>.<lang>.md), as HTML.

    Markdown; a trailing `::` reads as `:`. English when the translation is missing. The
    translation's front matter (the digest it was written from) is never shown.
    """
    text, shown_lang, stale = check_docs.docstring(module), "en", False
    translation = check_docs.load_translation(module, lang)
    if translation is not None:
        text, shown_lang, stale = translation.markdown, lang, translation.stale
    from kb.rendering import render_document  # Markdown and Pygments: only for check pages

    html = mark_safe(render_document(text=_RST_LITERAL.sub(":", text), kind="markdown").html)
    return CheckDocumentation(html=html, lang=shown_lang, stale=stale)


def highlight_yaml(text: str) -> SafeString:
    """YAML as Pygments HTML with CSS classes (Pygments escapes the text)."""
    from pygments import highlight  # only check pages highlight YAML
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import YamlLexer

    formatter = HtmlFormatter(cssclass="codehilite")
    return mark_safe(highlight(text, YamlLexer(), formatter))


class ListedCheck(NamedTuple):
    """A row of the check list: the check and its title in the page's language."""

    check: ModuleType
    title: check_docs.CheckTitle


@require_GET
def check_list(request: HttpRequest) -> HttpResponse:
    """Every registered check: id, title (in the page's language when translated), severity."""
    lang = check_doc_language(get_language())
    checks = sorted(
        registry.all_checks(), key=lambda module: (SEVERITY_ORDER[module.SEVERITY], module.ID)
    )
    rows = [ListedCheck(module, check_docs.check_title(module, lang)) for module in checks]
    return render(request, "troubleshooter/check_list.html", {"checks": rows})


@require_GET
def check_detail(request: HttpRequest, check_id: str) -> HttpResponse:
    """One check's documentation, examples, the findings its failing example produces."""
    if len(check_id) > MAX_CHECK_ID_LENGTH or not CHECK_ID_RE.fullmatch(check_id):
        raise Http404("No such check")
    try:
        module = registry.get(check_id)
    except registry.UnknownCheck:
        raise Http404("No such check") from None
    # An explicit ?lang= wins over the negotiated language (Accept-Language, cookie).
    lang = check_doc_language(request.GET.get("lang") or get_language())
    report = analyze_manifest(text=module.FAILING_EXAMPLE, limits=manifest_limits())
    example_findings = [
        shown for shown in shown_findings(report) if shown.finding.check == module.ID
    ]
    documentation = check_documentation(module, lang=lang)
    for shown in example_findings:
        # The example's messages follow the text above them, like the title.
        shown.localized = localized_message(shown.finding, documentation.lang)
    context = {
        "check": module,
        # The title follows the text below it: translated with it, English where it is.
        "title": check_docs.check_title(module, documentation.lang),
        "documentation": documentation.html,
        "documentation_lang": documentation.lang,
        "documentation_stale": documentation.stale,
        "failing_html": highlight_yaml(module.FAILING_EXAMPLE),
        "passing_html": highlight_yaml(module.PASSING_EXAMPLE),
        "example_findings": example_findings,
        "article_url": reverse("kb:article_detail", args=[module.ARTICLE]),
        "annotation": ANNOTATION,
    }
    return render(request, "troubleshooter/check_detail.html", context)
