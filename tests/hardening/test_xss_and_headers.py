"""Markup in imported documents, pasted manifests and logs is escaped or sanitized on every
page type, and every page carries the security headers (CSP without inline script)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hostile_corpus import XSS_TEXT, case, dangerous_markup

from kb.importer import import_paths

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/articles/",
    "/articles/hostile-front-matter/",
    "/articles/hostile-markdown-body/",
    "/articles/hostile-plain-scraped/",
    "/search/?q=hostilexss",
    "/troubleshoot/",
    f"/troubleshoot/?text={quote(XSS_TEXT)}",
    "/analyze/",
    "/checks/",
    "/articles/no-such-article/",
]


def assert_safe(html: str) -> None:
    assert dangerous_markup(html) == []
    assert "<script>window" not in html


@pytest.mark.parametrize("url", PAGES)
def test_it_sends_the_security_headers_on_every_page_type(client, hostile_site, url):
    response = client.get(url)
    assert response.status_code in (200, 404)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert_safe(response.content.decode())


@pytest.mark.parametrize("url", ["/api/search/?q=hostilexss", "/api/diagnose/", "/api/analyze/"])
def test_it_sends_nosniff_json_from_the_apis(client, hostile_site, url):
    response = client.get(url) if "search" in url else client.post(url, "x", "text/plain")
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_sanitizes_front_matter_and_body_on_article_pages(client, hostile_site):
    page = client.get("/articles/hostile-front-matter/").content.decode()
    assert "&lt;script&gt;window.__pwned=11&lt;/script&gt;" in page  # the title, escaped
    assert 'href="javascript:' not in page
    body = client.get("/articles/hostile-markdown-body/").content.decode()
    assert "Hostile body" in body
    for trap in ("javascript:alert(8)", "data:text/html", "alert(12)", "alert(13)", "alert(15)"):
        assert f'"{trap}' not in body


def test_it_escapes_search_snippets_and_titles(client, hostile_site):
    for url in ("/search/?q=hostilexss", "/search/?q=envsubst+script"):
        for headers in ({}, {"HX-Request": "true"}):
            html = client.get(url, headers=headers).content.decode()
            assert "hostile" in html.lower()
            assert_safe(html)
    hits = client.get("/api/search/?q=hostilexss").json()["results"]
    assert {hit["slug"] for hit in hits} >= {"hostile-front-matter", "hostile-markdown-body"}


def test_it_echoes_pasted_manifests_and_logs_escaped(client, search_index):
    manifest = case("html-and-javascript-in-values").data.decode()
    for headers in ({}, {"HX-Request": "true"}):
        html = client.post("/analyze/", {"manifest": manifest}, headers=headers).content.decode()
        assert "&lt;script&gt;" in html
        assert_safe(html)
        html = client.post("/troubleshoot/", {"text": XSS_TEXT}, headers=headers).content.decode()
        if not headers:  # the full page echoes the text in its textarea; the fragment does not
            assert "&lt;script&gt;" in html
        assert_safe(html)
    # Errors quote the offending text: escaped as well.
    broken = "a: <script>window.__pwned=1</script>\n  b: [<img src=x onerror=alert(1)>\n"
    html = client.post("/analyze/", {"manifest": broken}).content.decode()
    assert_safe(html)


def test_it_refuses_a_javascript_source_in_front_matter(tmp_path):
    doc = tmp_path / "js-source.md"
    doc.write_text("---\nsources: ['javascript:alert(5)']\n---\n# T\n\ntext\n")
    report = import_paths([doc])
    assert [problem.path for problem in report.failed] == [doc]
    assert "http(s)" in report.failed[0].reason
