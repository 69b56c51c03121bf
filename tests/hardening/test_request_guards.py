"""What kb/middleware.py refuses before any view reads the body, and every codec Python knows
declared on every form and API: a clear 4xx or a real answer, never a 5xx."""

from __future__ import annotations

import codecs
import encodings
import encodings.aliases
import json
import pkgutil
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

BOUNDARY = "request-guards-boundary-41c9"

# Every page and API that reads a query or a body.
ENDPOINTS = [
    ("/", "q"),
    ("/search/", "q"),
    ("/api/search/", "q"),
    ("/lookup/", "error"),
    ("/troubleshoot/", "text"),
    ("/api/diagnose/", "text"),
    ("/analyze/", "manifest"),
    ("/api/analyze/", "manifest"),
]


def every_codec_name() -> list[str]:
    """Every codec name Python knows: each alias and each module of the encodings package."""
    names = set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
    names |= {module.name for module in pkgutil.iter_modules(encodings.__path__)}
    known = []
    for name in sorted(names):
        try:
            codecs.lookup(name)
        except LookupError:
            continue  # a helper module of the package, not a codec
        known.append(name)
    return known


CODECS = every_codec_name()


def multipart(field: str, value: bytes, *, part_charset: str | None = None) -> bytes:
    part_type = f"Content-Type: text/plain; charset={part_charset}\r\n" if part_charset else ""
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"\r\n'
    return f"{head}{part_type}\r\n".encode() + value + f"\r\n--{BOUNDARY}--\r\n".encode()


# Escapes that unicode_escape and raw_unicode_escape decode to a lone surrogate, next to bytes
# that are invalid UTF-8 (an encoded surrogate) and plain text with an error line.
PAYLOAD = b"kind: Pod\nerror: envsubst: Argument list too long \\ud800 \xed\xa0\x80 \xff\n"


def assert_no_5xx(response, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code)
    if response.status_code >= 400 and response["Content-Type"].startswith("application/json"):
        assert json.loads(response.content)["error"], what


def test_it_knows_a_few_hundred_codec_names():
    assert len(CODECS) > 300
    assert {"punycode", "unicode_escape", "utf_8", "shift_jis", "rot_13"} <= set(CODECS)


@pytest.mark.parametrize("path,field", ENDPOINTS)
def test_no_declared_codec_makes_a_5xx_on_any_endpoint(search_index, path, field):
    """Every codec on GET (query string) and POST (raw, urlencoded, multipart, part charset)."""
    client = Client(raise_request_exception=False)
    for name in CODECS:
        declared = f"; charset={name}"
        sends = [
            (
                "GET",
                f"{path}?{field}=envsubst%20%5Cud800%ED%A0%80",
                b"",
                "text/plain" + declared,
            ),
            ("POST", path, PAYLOAD, "text/plain" + declared),
            ("POST", path, PAYLOAD, "application/yaml" + declared),
            (
                "POST",
                path,
                f"{field}=".encode() + b"%5Cud800%ED%A0%80envsubst",
                "application/x-www-form-urlencoded" + declared,
            ),
            (
                "POST",
                path,
                multipart(field, PAYLOAD),
                f"multipart/form-data; boundary={BOUNDARY}" + declared,
            ),
            (
                "POST",
                path,
                multipart(field, PAYLOAD, part_charset=name),
                f"multipart/form-data; boundary={BOUNDARY}",
            ),
        ]
        for method, url, body, content_type in sends:
            response = client.generic(method, url, body, content_type=content_type)
            assert_no_5xx(response, f"{method} {url} {content_type}")


@pytest.mark.parametrize("path", ["/search/", "/troubleshoot/", "/analyze/", "/api/analyze/"])
def test_it_refuses_multipart_declared_as_unicode_escape_with_400(search_index, path):
    body = multipart("q" if "search" in path else "text", b"\\ud800 envsubst")
    response = Client(raise_request_exception=False).post(
        path, body, content_type=f"multipart/form-data; boundary={BOUNDARY}; charset=unicode_escape"
    )
    assert response.status_code == 400
    assert b"unicode_escape" in response.content
    assert response["Content-Security-Policy"]


def test_it_refuses_punycode_on_the_diagnose_api_with_400(client):
    response = client.generic(
        "POST", "/api/diagnose/", "ab-ñ".encode(), content_type="text/plain; charset=punycode"
    )
    assert response.status_code == 400
    assert "punycode" in response.json()["error"]


@pytest.mark.parametrize("charset", ["utf-8", "UTF8", "latin1", "Shift_JIS", "utf-16"])
def test_it_still_reads_text_in_the_usual_charsets(client, search_index, charset):
    text = "envsubst: Argument list too long"
    response = client.generic(
        "POST",
        "/api/diagnose/",
        text.encode(charset),
        content_type=f"text/plain; charset={charset}",
    )
    assert response.status_code == 200, response.content
    assert "nginx-envsubst-argument-list-too-long" in response.content.decode()


@pytest.mark.parametrize("path", ["/api/diagnose/", "/api/analyze/", "/search/", "/analyze/"])
def test_it_refuses_a_chunked_body_with_411_instead_of_reading_it_as_empty(client, path):
    response = client.generic(
        "POST",
        path,
        b"",
        content_type="text/plain",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert b"Content-Length" in response.content
    assert response["X-Content-Type-Options"] == "nosniff"


PAGES = ["/", "/search/?q=envsubst", "/articles/", "/troubleshoot/", "/analyze/", "/checks/"]


@pytest.mark.parametrize("url", PAGES)
def test_head_answers_like_get_without_a_body(client, search_index, url):
    got = client.get(url)
    head = client.head(url)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head["Content-Type"] == got["Content-Type"]
    assert int(head["Content-Length"]) == len(got.content)


def test_head_on_a_missing_page_is_still_404(client, search_index):
    assert client.head("/articles/no-such-article/").status_code == 404


def assert_security_headers(response) -> None:
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_refusals_and_error_pages_carry_the_security_headers(client, settings):
    settings.KB_MAX_REQUEST_BYTES = 1024
    too_large = client.post("/analyze/", b"x" * 2048, content_type="text/plain")
    assert too_large.status_code == 413
    assert_security_headers(too_large)
    bad_host = Client(raise_request_exception=False).get("/", headers={"Host": "evil.example"})
    assert bad_host.status_code == 400
    assert_security_headers(bad_host)
    assert_security_headers(client.get("/no/such/page/"))
    assert_security_headers(
        client.generic("POST", "/api/analyze/", b"x", HTTP_TRANSFER_ENCODING="chunked")
    )


def test_it_throttles_admin_login_attempts_per_address(settings):
    settings.KB_ADMIN_LOGIN_ATTEMPTS = 3
    settings.KB_ADMIN_LOGIN_WINDOW_SECONDS = 60
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [
        attacker.post("/admin/login/", {"username": "admin", "password": f"guess{n}"}).status_code
        for n in range(5)
    ]
    assert statuses[:3] == [200, 200, 200]  # the form again, with its error
    assert statuses[3:] == [429, 429]
    refused = attacker.post("/admin/login/", {"username": "admin", "password": "x"})
    assert refused["Retry-After"] == "60"
    assert_security_headers(refused)
    # Another address is not affected, and the login page itself stays readable.
    assert Client(REMOTE_ADDR="203.0.113.8").post("/admin/login/", {}).status_code == 200
    assert attacker.get("/admin/login/").status_code == 200


def test_it_never_serves_the_static_manifest(settings, tmp_path: Path):
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "app.0123456789ab.css").write_text("body{}")
    (root / "staticfiles.json").write_text('{"paths": {"css/app.css": "css/app.0123456789ab.css"}}')
    settings.STATIC_ROOT = root
    client = Client()  # a new handler: whitenoise reads STATIC_ROOT when it is created
    assert client.get("/static/css/app.0123456789ab.css").status_code == 200
    assert client.get("/static/staticfiles.json").status_code == 404


def test_a_body_over_djangos_memory_limit_is_a_413_not_a_400(client, settings):
    settings.KB_MAX_REQUEST_BYTES = 10_000_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    response = client.post("/api/diagnose/", b"x" * 8192, content_type="text/plain")
    assert response.status_code == 413
    assert response.json()["limit"] == 4096
