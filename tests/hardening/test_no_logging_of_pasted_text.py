"""Pasted manifests, logs and queries never reach a log record, whatever the answer was."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hostile_corpus import POD

pytestmark = pytest.mark.django_db

MARKER = "PASTED-9f3c1e-SECRET"
MANIFEST = POD.format(name="m") + f"  annotations:\n    note: {MARKER}\n"
SECRET = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  password: {MARKER}\n"
LOG = f"2024-01-01 envsubst: Argument list too long {MARKER}\n"


def _written(record: logging.LogRecord) -> str:
    """What a handler writes for the record: the message, its arguments, the exception."""
    text = record.getMessage() + repr(record.args)
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    return text


@pytest.fixture
def everything_logged(caplog):
    """Logging as verbose as an operator can make it (KB_LOG_LEVEL=DEBUG and more); loggers
    that settings.LOGGING pins on purpose (django.template) keep their level."""
    caplog.set_level(logging.DEBUG)
    for name in (
        "django",
        "django.request",
        "django.security",
        "django.server",
        "kb",
        "troubleshooter",
    ):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_no_surface_logs_what_was_pasted(client, search_index, settings, everything_logged):
    sent = []

    def check(response, *statuses):
        sent.append(response.status_code)
        assert response.status_code in statuses

    check(client.post("/analyze/", {"manifest": MANIFEST}), 200)
    check(client.post("/analyze/", {"manifest": SECRET}, headers={"HX-Request": "true"}), 200)
    upload = SimpleUploadedFile("m.yaml", MANIFEST.encode())
    check(client.post("/analyze/", {"file": upload}), 200)
    check(client.post("/api/analyze/", MANIFEST, content_type="application/yaml"), 200)
    check(client.post("/api/analyze/?format=sarif", SECRET, content_type="application/yaml"), 200)
    check(client.post("/troubleshoot/", {"text": LOG}), 200)
    check(client.get(f"/troubleshoot/?text={quote(LOG)}"), 200)
    check(client.post("/api/diagnose/", LOG, content_type="text/plain"), 200)
    check(client.get(f"/search/?q={quote(LOG)}"), 200)
    check(client.post("/search/", {"q": LOG}), 200)
    check(client.get(f"/api/search/?q={quote(LOG)}"), 200)
    check(client.get(f"/lookup/?error={quote(LOG)}"), 302)
    # Refusals: the answers (and Django's warnings about 4xx) must not quote the input either.
    check(
        client.post(
            "/api/analyze/", f"a: !!python/object {MARKER}", content_type="application/yaml"
        ),
        200,
    )
    check(
        client.post("/api/analyze/", MARKER.encode() + b"\xff", content_type="application/yaml"),
        400,
    )
    check(
        client.post(f"/api/analyze/?disable={MARKER}", MANIFEST, content_type="application/yaml"),
        400,
    )
    check(client.post("/api/analyze/", {"other": MANIFEST}), 400)  # a form without a manifest
    check(client.get(f"/api/search/?q={MARKER}&limit={MARKER}"), 400)
    check(client.get(f"/api/analyze/?q={MARKER}"), 405)
    check(client.get("/articles/no-such-page/"), 404)
    check(client.get("/troubleshoot/no-such-page/"), 404)
    check(client.get("/checks/no-such-page/"), 404)
    check(
        client.generic(
            "POST", "/api/diagnose/", MARKER.encode(), content_type="text/plain; charset=x-nope"
        ),
        400,
    )
    many_fields = "&".join(f"f{n}={MARKER}" for n in range(300))
    check(
        client.post(
            "/troubleshoot/", many_fields, content_type="application/x-www-form-urlencoded"
        ),
        400,
    )
    settings.KB_MAX_MANIFEST_BYTES = 1_024
    check(client.post("/api/analyze/", MANIFEST * 40, content_type="application/yaml"), 413)
    check(client.post("/analyze/", {"manifest": MANIFEST * 40}), 413)
    settings.KB_MAX_REQUEST_BYTES = 2_048
    check(client.post("/api/diagnose/", LOG * 100, content_type="text/plain"), 413)

    assert any(status >= 400 for status in sent)
    assert everything_logged.records, "logging was captured (django.request warns about 4xx)"
    leaking = {
        record.name
        for record in everything_logged.records
        if MARKER.lower() in _written(record).lower()
    }
    # Paths are logged (a 404 names its path); what was pasted or posted never is.
    assert leaking == set()
