"""'Did this solve it?': a vote and an optional comment per article and per tree node.

CSRF-protected POST, rate-limited per address (a salted hash kept in the cache, never stored),
validated against the articles and the tree before anything is saved. No paste is stored.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kb.models import Article
from troubleshooter.diagnosis import get_tree
from troubleshooter.models import Feedback
from troubleshooter.ratelimit import over_rate_limit

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Ten answers an hour from one address is more than any reader gives; a script gets 429s.
RATE_LIMIT = 10
RATE_WINDOW_SECONDS = 3600
MAX_COMMENT_CHARS = 1000


class FeedbackForm(forms.Form):
    """A vote on one article or tree node; the target must exist."""

    kind = forms.ChoiceField(choices=Feedback.KINDS)
    target = forms.CharField(max_length=120)
    helpful = forms.TypedChoiceField(
        choices=[("yes", "yes"), ("no", "no")], coerce=lambda value: value == "yes"
    )
    comment = forms.CharField(
        required=False,
        max_length=MAX_COMMENT_CHARS,
        label=gettext_lazy("What was missing? (optional)"),
        widget=forms.Textarea,
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, target = cleaned.get("kind"), cleaned.get("target") or ""
        if kind and not target_exists(kind=kind, target=target):
            raise forms.ValidationError(_("There is no such page to give feedback on."))
        return cleaned


def target_exists(*, kind: str, target: str) -> bool:
    """Whether the article or tree node exists (checked against the id grammar first)."""
    if not SLUG_RE.fullmatch(target):
        return False
    if kind == Feedback.ARTICLE:
        return Article.objects.filter(slug=target).exists()
    try:
        get_tree().node(target)
    except KeyError:
        return False
    return True


def target_url(*, kind: str, target: str) -> str:
    """The page the feedback is about."""
    if kind == Feedback.ARTICLE:
        return reverse("kb:article_detail", args=[target])
    return reverse("troubleshooter:node", args=[target])


@require_POST
def feedback(request: HttpRequest) -> HttpResponse:
    """Store one vote; htmx gets the thanks fragment, a plain form post goes back to the page."""
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        context = {"error": _("This feedback could not be taken."), "form": form}
        return render(request, "_feedback_thanks.html", context, status=400)
    if over_rate_limit(
        request, scope="feedback", limit=RATE_LIMIT, window_seconds=RATE_WINDOW_SECONDS
    ):
        context = {"error": _("Thank you, but that is a lot of feedback: please try again later.")}
        return render(request, "_feedback_thanks.html", context, status=429)
    data = form.cleaned_data
    Feedback.objects.create(
        kind=data["kind"],
        target=data["target"],
        helpful=data["helpful"],
        comment=data["comment"].strip(),
        lang=(get_language() or "")[:10],
    )
    if request.htmx:
        return render(request, "_feedback_thanks.html", {"helpful": data["helpful"]})
    messages.success(request, _("Thank you: your feedback was recorded."))
    return redirect(target_url(kind=data["kind"], target=data["target"]) + "#feedback")
