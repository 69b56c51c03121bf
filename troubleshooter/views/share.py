"""Shareable results of the analyzer and the troubleshooter: stored only when the user presses
Share, secrets redacted, with an expiry and a delete key for their creator.

Both kinds share one life cycle (``troubleshooter.share``): a random token in the URL, 404 for
a token that is malformed or unknown, 410 with a clear page once expired, and a delete link
that only the creator's session is shown. Creating one is rate-limited per address.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from kb.middleware import too_large_response
from troubleshooter.analyzer import ManifestRejected, analyze_manifest
from troubleshooter.diagnosis import get_tree, localize
from troubleshooter.forms import AnalyzeForm, manifest_limits
from troubleshooter.models import Shared, SharedDiagnosis, SharedReport
from troubleshooter.ratelimit import over_rate_limit
from troubleshooter.share import (
    SHARE_MAX_PASTE_BYTES,
    CannotRedact,
    ShareGone,
    create_shared,
    delete_key_matches,
    load_shared,
    redact_paste,
    redact_secrets,
)
from troubleshooter.views.analyze import _results_context, limit_summary
from troubleshooter.views.diagnose import _chosen, answer, current_lang

SESSION_KEY = "shared-reports"  # tokens this browser created, with their delete keys
# Twenty shares an hour from one address (both kinds together) is more than a person makes.
SHARE_RATE_LIMIT = 20
SHARE_RATE_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class ShareKind:
    """What differs between the kinds of shared result: their model and their URL names."""

    model: type[Shared]
    detail: str
    delete: str
    start: str  # the page to make one's own


KINDS = {
    "analysis": ShareKind(
        SharedReport,
        "troubleshooter:share_detail",
        "troubleshooter:share_delete",
        "troubleshooter:analyze",
    ),
    "diagnosis": ShareKind(
        SharedDiagnosis,
        "troubleshooter:diagnosis_share_detail",
        "troubleshooter:diagnosis_share_delete",
        "troubleshooter:troubleshoot",
    ),
}


def _remember(request: HttpRequest, token: str, delete_key: str) -> None:
    mine = request.session.get(SESSION_KEY, {})
    mine[token] = delete_key
    request.session[SESSION_KEY] = mine


def _forget(request: HttpRequest, token: str) -> None:
    mine = request.session.get(SESSION_KEY, {})
    mine.pop(token, None)
    request.session[SESSION_KEY] = mine


def _load(request: HttpRequest, kind: str, token: str) -> Shared | HttpResponse:
    """The shared result; raises Http404 when unknown, answers 410 when it has expired."""
    try:
        shared = load_shared(KINDS[kind].model, token)
    except ShareGone:
        context = {"kind": kind, "start_url": reverse(KINDS[kind].start)}
        return render(request, "troubleshooter/shared_gone.html", context, status=410)
    if shared is None:
        raise Http404("No such shared result")
    return shared


def _share_context(request: HttpRequest, kind: str, shared: Shared) -> dict[str, object]:
    """The link, the expiry and (for its creator only) the delete link of a shared result."""
    delete_key = request.session.get(SESSION_KEY, {}).get(shared.token)
    delete_url = None
    if delete_key:
        path = reverse(KINDS[kind].delete, args=[shared.token]) + f"?key={delete_key}"
        delete_url = request.build_absolute_uri(path)
    return {
        "kind": kind,
        "shared": shared,
        "share_url": request.build_absolute_uri(reverse(KINDS[kind].detail, args=[shared.token])),
        "delete_url": delete_url,
    }


def _over_share_limit(request: HttpRequest) -> bool:
    return over_rate_limit(
        request, scope="share", limit=SHARE_RATE_LIMIT, window_seconds=SHARE_RATE_WINDOW_SECONDS
    )


def _too_many_message() -> str:
    return _("You have shared a lot in the last hour: please try again later.")


# --- Analyzer results --------------------------------------------------------------------------


def _refuse(request: HttpRequest, message: str, status: int) -> HttpResponse:
    limits = manifest_limits()
    context = {
        "form": AnalyzeForm(max_bytes=limits.max_bytes),
        "limit_summary": limit_summary(limits),
        "max_bytes": limits.max_bytes,
        "rejected": message,
    }
    return render(request, "troubleshooter/analyze.html", context, status=status)


@require_POST
@never_cache
@sensitive_post_parameters("manifest")
def share_create(request: HttpRequest) -> HttpResponse:
    """Store the posted manifest, redacted, and go to its shared page."""
    limits = manifest_limits()
    form = AnalyzeForm(request.POST, request.FILES, max_bytes=limits.max_bytes)
    if not form.is_valid():
        status = form.error_status()
        return _refuse(request, " ".join(form.non_field_errors()), status)
    # Before the analysis: the allowance protects the server's time as well as its disk.
    if _over_share_limit(request):
        return _refuse(request, _too_many_message(), 429)
    data = form.cleaned_data["data"]
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        analyze_manifest(text=text, limits=limits)
        redacted = redact_secrets(text)
    except (UnicodeDecodeError, ManifestRejected, CannotRedact):
        message = _(
            "This manifest cannot be shared: it does not parse as a whole, so its Secret "
            "values could not be found and hidden."
        )
        return _refuse(request, message, 400)
    shared, delete_key = create_shared(
        SharedReport,
        redacted_values=redacted.count,
        manifest=redacted.text,
        filename=(form.cleaned_data["filename"] or "")[:200],
    )
    _remember(request, shared.token, delete_key)
    return redirect("troubleshooter:share_detail", token=shared.token)


@require_GET
def share_detail(request: HttpRequest, token: str) -> HttpResponse:
    """A shared analysis: the redacted manifest analysed again, read-only."""
    shared = _load(request, "analysis", token)
    if isinstance(shared, HttpResponse):
        return shared
    report = analyze_manifest(text=shared.manifest, limits=manifest_limits())
    context = {
        **_share_context(request, "analysis", shared),
        **_results_context(report, filename=shared.filename or None),
    }
    return render(request, "troubleshooter/shared_report.html", context)


# --- Troubleshooter results --------------------------------------------------------------------


def _diagnosis(text: str, chosen_node: str) -> dict[str, object]:
    """The troubleshooter's answer for `text`: the chosen option's when one was chosen."""
    chosen = _chosen(chosen_node, current_lang()) if chosen_node else None
    if chosen is not None:
        return {"chosen": chosen, "answer": chosen_node}
    return answer(text)


def _refuse_paste(request: HttpRequest, text: str, message: str, status: int) -> HttpResponse:
    """The troubleshooter page again, with the paste, its diagnosis and why it was not shared."""
    tree = get_tree()
    context: dict[str, object] = {
        "text": text,
        "share_refused": message,
        "empty": not text.strip(),
        "start": localize(tree.node(tree.start), current_lang()),
    }
    if text.strip():
        context.update(_diagnosis(text, request.POST.get("answer", "")))
    return render(request, "troubleshooter/troubleshoot.html", context, status=status)


@require_POST
@never_cache
@sensitive_post_parameters("text")
def diagnosis_share_create(request: HttpRequest) -> HttpResponse:
    """Store the posted paste (redacted) and the chosen answer, and go to its shared page."""
    text = request.POST.get("text", "")
    size = len(text.encode("utf-8", errors="replace"))
    if size > settings.KB_MAX_LOG_BYTES:
        return too_large_response(request, limit=settings.KB_MAX_LOG_BYTES, what="pasted text")
    if size > SHARE_MAX_PASTE_BYTES:
        message = _(
            "This paste is too long to share (the limit is %(limit)s KB): share the part of the "
            "log around the error."
        ) % {"limit": SHARE_MAX_PASTE_BYTES // 1000}
        return _refuse_paste(request, text, message, 413)
    if not text.strip():
        return _refuse_paste(request, text, _("There is nothing to share: paste a text."), 400)
    if _over_share_limit(request):
        return _refuse_paste(request, text, _too_many_message(), 429)
    chosen = request.POST.get("answer", "")
    # Only an answer the tree knows is kept; anything else is dropped, not stored.
    chosen = chosen if chosen and _chosen(chosen, "en") is not None else ""
    # PostgreSQL's text cannot hold NUL: it is stored as U+FFFD, the mark of a character that
    # could not be kept (the diagnosis never depends on it).
    redacted = redact_paste(text.replace("\x00", "\ufffd"))
    shared, delete_key = create_shared(
        SharedDiagnosis, redacted_values=redacted.count, text=redacted.text, answer=chosen
    )
    _remember(request, shared.token, delete_key)
    return redirect("troubleshooter:diagnosis_share_detail", token=shared.token)


@require_GET
def diagnosis_share_detail(request: HttpRequest, token: str) -> HttpResponse:
    """A shared troubleshooter result: the redacted paste diagnosed again, read-only."""
    shared = _load(request, "diagnosis", token)
    if isinstance(shared, HttpResponse):
        return shared
    context: dict[str, object] = {
        **_share_context(request, "diagnosis", shared),
        "text": shared.text,
    }
    context.update(_diagnosis(shared.text, shared.answer))
    return render(request, "troubleshooter/shared_diagnosis.html", context)


# --- Both --------------------------------------------------------------------------------------


@never_cache
def share_delete(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    """GET: confirm; POST with the right key: delete the shared result for good."""
    shared = _load(request, kind, token)
    if isinstance(shared, HttpResponse):
        return shared
    key = request.POST.get("key") or request.GET.get("key") or ""
    if not delete_key_matches(shared, key):
        raise Http404("No such shared result")
    context = {"kind": kind, "start_url": reverse(KINDS[kind].start)}
    if request.method == "POST":
        shared.delete()
        _forget(request, token)
        return render(request, "troubleshooter/shared_deleted.html", context)
    context.update(
        shared=shared, key=key[:100], delete_url=reverse(KINDS[kind].delete, args=[token])
    )
    return render(request, "troubleshooter/shared_delete.html", context)
