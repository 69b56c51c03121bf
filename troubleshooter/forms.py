"""Forms for the manifest analyzer's faces: what may be posted, checked before analysis."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from troubleshooter.analyzer import Limits, registry
from troubleshooter.analyzer.cli import too_large_notice
from troubleshooter.listing import localized_notice

# Error codes the views turn into HTTP statuses: too_large → 413, everything else → 400.
TOO_LARGE = "too_large"
EMPTY = "empty"


def manifest_limits() -> Limits:
    """The analyzer's limits, from the KB_MAX_* settings (shared by the page, API and CLI)."""
    return Limits(
        max_bytes=settings.KB_MAX_MANIFEST_BYTES,
        max_documents=settings.KB_MAX_MANIFEST_DOCUMENTS,
        max_objects=settings.KB_MAX_MANIFEST_OBJECTS,
        max_depth=settings.KB_MAX_YAML_DEPTH,
        max_aliases=settings.KB_MAX_YAML_ALIASES,
    )


def _too_large(*, size: int, limit: int) -> str:
    """The analyzer's too-large message in the page's language (the API's stays English)."""
    said = too_large_notice(size=size, limit=limit)
    return localized_notice(
        key=said["message_key"], args=said["message_args"], english=said["message"]
    ).text


class AnalyzeForm(forms.Form):
    """A pasted manifest or an uploaded file (the file wins when both are given).

    `cleaned_data["data"]` is the text or the uploaded bytes, `cleaned_data["filename"]` the
    upload's name (None for pasted text). Nothing is stored: the upload is read into memory.
    """

    manifest = forms.CharField(
        required=False,
        strip=False,
        label="Manifest",
        widget=forms.Textarea(
            attrs={
                "rows": 16,
                "spellcheck": "false",
                "autocomplete": "off",
                "class": "code",
                # Lazy: the form class is built once, the page is read in three languages.
                "placeholder": gettext_lazy(
                    "Paste one or more YAML or JSON documents (kubectl get -o yaml, "
                    "helm template output…), or drop a file here."
                ),
            }
        ),
    )
    file = forms.FileField(required=False, label="or upload a file")

    def __init__(self, *args, max_bytes: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("file")
        text = cleaned.get("manifest") or ""
        if upload is not None:
            if upload.size > self.max_bytes:
                raise ValidationError(
                    _too_large(size=upload.size, limit=self.max_bytes), code=TOO_LARGE
                )
            cleaned["data"] = upload.read()
            cleaned["filename"] = upload.name
        elif text.strip():
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > self.max_bytes:
                raise ValidationError(_too_large(size=size, limit=self.max_bytes), code=TOO_LARGE)
            cleaned["data"] = text
            cleaned["filename"] = None
        else:
            raise ValidationError(_("Paste a manifest or choose a file to analyse."), code=EMPTY)
        return cleaned

    def error_status(self) -> int:
        """The HTTP status for an invalid form: 413 when the input was too large, else 400."""
        return 413 if self.has_error(NON_FIELD_ERRORS, TOO_LARGE) else 400


def parse_check_ids(value: str) -> frozenset[str]:
    """Comma-separated check ids, each checked against the registry; raises ValidationError."""
    ids = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(check_id for check_id in ids if check_id not in registry.CHECKS)
    if unknown:
        raise ValidationError(
            f"Unknown check id(s): {', '.join(unknown)}. See /checks/ for the list.",
            code="unknown_check",
        )
    return ids


class ApiOptionsForm(forms.Form):
    """Query parameters of the JSON API: `?format=json|sarif&disable=id1,id2`."""

    format = forms.ChoiceField(choices=[("json", "JSON"), ("sarif", "SARIF 2.1.0")], required=False)
    disable = forms.CharField(required=False, max_length=2000)

    def clean_format(self) -> str:
        return self.cleaned_data.get("format") or "json"

    def clean_disable(self) -> frozenset[str]:
        return parse_check_ids(self.cleaned_data.get("disable") or "")
