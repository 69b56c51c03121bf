"""Every knowledge-base page as a full page and, where htmx swaps it, as a fragment."""

from __future__ import annotations

import pytest
from django.utils.html import escape


def test_it_serves_the_home_page_with_a_search_box(client, search_index) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="q"' in html and "autofocus" in html and "data-search-box" in html
    # A textarea, so a whole log can be pasted; app.js runs the live search against /search/.
    assert '<textarea id="q" name="q"' in html
    assert 'action="/search/"' in html and 'data-live-search="results"' in html
    assert "htmx" in html


def test_it_serves_search_results_as_a_full_page(client, search_index) -> None:
    response = client.get("/search/", {"q": "envsubst: Argument list too long"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and "<header" in html
    assert "/articles/nginx-envsubst-argument-list-too-long/" in html
    assert "<mark>" in html


def test_it_serves_only_the_results_fragment_to_htmx(client, search_index) -> None:
    response = client.get(
        "/search/", {"q": "envsubst: Argument list too long"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<header" not in html and "<form" not in html
    assert "/articles/nginx-envsubst-argument-list-too-long/" in html
    assert "HX-Request" in response["Vary"]


def test_it_accepts_a_posted_log(client, search_index) -> None:
    log = "line one\n" * 50 + "Zend OPcache huge_code_pages: mmap(HUGETLB) failed\n" + "x\n" * 50
    response = client.post("/search/", {"q": log})
    assert response.status_code == 200
    assert "/articles/php-opcache-hugepages/" in response.content.decode()


def test_it_says_so_when_nothing_matches(client, search_index) -> None:
    response = client.get("/search/", {"q": "zzzqqqxxx"})
    assert "No article matches" in response.content.decode()


def test_it_escapes_the_query_on_the_results_page(client, search_index) -> None:
    response = client.get("/search/", {"q": "<script>alert(1)</script>"})
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_it_lists_all_articles(client, articles) -> None:
    response = client.get("/articles/")
    html = response.content.decode()
    assert response.status_code == 200
    for article in articles:
        assert f'href="/articles/{article.slug}/"' in html


@pytest.mark.parametrize("lang", ["en", "ja", "zh"])
def test_the_list_shows_each_article_once_in_the_readers_language(client, articles, lang) -> None:
    from kb.models import Article

    html = client.get("/articles/", {"lang": lang}).content.decode()
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr ")[1:]
    originals = Article.objects.filter(translation_of__isnull=True)
    assert len(rows) == originals.count()
    for original in originals:
        shown = original.translations.filter(lang=lang).first() or original
        row = next(r for r in rows if f"/articles/{original.slug}/" in r)
        assert f">{escape(shown.title)}</a>" in row, (lang, original.slug)
        if shown.lang != original.lang:
            assert f'href="/articles/{original.slug}/?lang={lang}"' in row
            assert f">{escape(original.title)}</a>" not in row
        # Every language the article can be read in, for the filter and for the reader.
        langs = sorted({original.lang, *original.translations.values_list("lang", flat=True)})
        assert f'data-lang="{" ".join(langs)}"' in row
        assert all(f'<span class="badge">{code}</span>' in row for code in langs)


def test_it_serves_an_article_with_toc_and_sources(client, articles) -> None:
    response = client.get("/articles/kubelet-max-pods/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="#symptoms"' in html and 'id="symptoms"' in html
    assert 'id="sources"' in html


@pytest.mark.parametrize(
    "slug",
    ["no-such-article", "UPPER", "a--b", "-a", "%2e%2e", "..", "a" * 121, "a_b", "日本語", "a.b"],
)
def test_it_answers_404_for_unknown_and_bad_slugs(client, articles, slug) -> None:
    response = client.get(f"/articles/{slug}/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_it_redirects_a_confident_lookup_to_the_section(client, search_index) -> None:
    response = client.get(
        "/lookup/", {"error": "Zend OPcache huge_code_pages: mmap(HUGETLB) failed"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/articles/php-opcache-hugepages/")


def test_it_sends_an_unclear_lookup_to_the_search_page(client, search_index) -> None:
    response = client.get("/lookup/", {"error": "kubernetes"})
    assert response.status_code == 302
    assert response["Location"] == "/search/?q=kubernetes"


def test_it_sends_an_empty_lookup_to_the_search_page(client, search_index) -> None:
    response = client.get("/lookup/")
    assert response.status_code == 302
    assert response["Location"] == "/search/?q="


def test_it_answers_the_search_api_in_json(client, search_index) -> None:
    response = client.get("/api/search/", {"q": "Too many pods", "limit": "3"})
    assert response.status_code == 200
    data = response.json()
    assert data["query"] == "Too many pods"
    assert 1 <= len(data["results"]) <= 3
    first = data["results"][0]
    assert first["slug"] == "kubelet-max-pods"
    assert {"slug", "title", "url", "lang", "snippet", "score", "section"} <= set(first)
    assert first["lang"] == "en"


@pytest.mark.parametrize("limit", ["0", "51", "x", "-1", "1e3"])
def test_it_rejects_a_bad_limit(client, search_index, limit) -> None:
    response = client.get("/api/search/", {"q": "nfs", "limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]


def test_it_answers_unknown_api_urls_in_json(client, db) -> None:
    response = client.get("/api/nothing/")
    assert response.status_code == 404
    assert response.json()["error"]


def test_it_refuses_a_huge_body_before_reading_it(client, db, settings) -> None:
    settings.KB_MAX_REQUEST_BYTES = 10_000
    response = client.post("/search/", {"q": "x" * 20_000})
    assert response.status_code == 413
    assert "larger than the limit" in response.content.decode()


def test_it_sets_the_security_headers(client, db) -> None:
    response = client.get("/articles/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_it_redirects_the_favicon_to_the_static_icon(client, db) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/favicon.svg")


def test_it_gives_every_article_page_exactly_one_title_heading(client, seeds) -> None:
    for article in seeds:
        html = client.get(f"/articles/{article.slug}/").content.decode()
        assert html.count("<h1") == 1, article.slug
