"""Shareable analyzer results: stored only when the user presses Share, Secret values redacted,
with an expiry and a delete key for their creator."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from troubleshooter.analyzer import ManifestRejected, analyze_manifest
from troubleshooter.forms import AnalyzeForm, manifest_limits
from troubleshooter.models import SharedReport
from troubleshooter.share import CannotRedact, redact_secrets
from troubleshooter.views.analyze import _results_context, limit_summary

SHARE_DAYS = 7
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
SESSION_KEY = "shared-reports"  # tokens this browser created, with their delete keys


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _load(token: str) -> SharedReport:
    """The shared report, or 404 when unknown or expired (an expired one is deleted)."""
    if not TOKEN_RE.fullmatch(token):
        raise Http404("No such shared report")
    shared = SharedReport.objects.filter(token=token).first()
    if shared is None:
        raise Http404("No such shared report")
    if shared.expires_at <= timezone.now():
        shared.delete()
        raise Http404("This shared report has expired")
    return shared


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
    SharedReport.objects.filter(expires_at__lte=timezone.now()).delete()
    token = secrets.token_urlsafe(18)
    delete_key = secrets.token_urlsafe(18)
    SharedReport.objects.create(
        token=token,
        delete_key_hash=_hash(delete_key),
        manifest=redacted.text,
        filename=(form.cleaned_data["filename"] or "")[:200],
        redacted_values=redacted.count,
        expires_at=timezone.now() + timedelta(days=SHARE_DAYS),
    )
    mine = request.session.get(SESSION_KEY, {})
    mine[token] = delete_key
    request.session[SESSION_KEY] = mine
    return redirect("troubleshooter:share_detail", token=token)


@require_GET
def share_detail(request: HttpRequest, token: str) -> HttpResponse:
    """A shared analysis: the redacted manifest analysed again, read-only."""
    shared = _load(token)
    report = analyze_manifest(text=shared.manifest, limits=manifest_limits())
    delete_key = request.session.get(SESSION_KEY, {}).get(token)
    context = {
        "shared": shared,
        "share_url": request.build_absolute_uri(),
        "delete_url": (
            request.build_absolute_uri(
                reverse("troubleshooter:share_delete", args=[token]) + f"?key={delete_key}"
            )
            if delete_key
            else None
        ),
        "delete_key": delete_key,
        **_results_context(report, filename=shared.filename or None),
    }
    return render(request, "troubleshooter/shared_report.html", context)


@never_cache
def share_delete(request: HttpRequest, token: str) -> HttpResponse:
    """GET: confirm; POST with the right key: delete the shared report for good."""
    shared = _load(token)
    key = (request.POST.get("key") or request.GET.get("key") or "")[:100]
    if not key or not secrets.compare_digest(_hash(key), shared.delete_key_hash):
        raise Http404("No such shared report")
    if request.method == "POST":
        shared.delete()
        mine = request.session.get(SESSION_KEY, {})
        mine.pop(token, None)
        request.session[SESSION_KEY] = mine
        return render(request, "troubleshooter/shared_deleted.html", {})
    return render(request, "troubleshooter/shared_delete.html", {"shared": shared, "key": key})
