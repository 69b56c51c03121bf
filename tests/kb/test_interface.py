"""The page frame through Django's test client: language, alternates, meta, nav, search box, 404."""

from __future__ import annotations

import re

import pytest

PAGES = ["/", "/search/?q=nginx", "/articles/", "/checks/", "/analyze/", "/troubleshoot/"]
ARTICLE = "/articles/nginx-envsubst-argument-list-too-long/"


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def _japanese_original(*, title: str):
    """A document written in Japanese (not a translation), like an imported write-up."""
    from kb.models import Article

    return Article.objects.create(
        slug="node-pod-limit-notes",
        lang="ja",
        title=title,
        markdown="## 原因\n\n本文。\n",
        html='<h2 id="cause">原因</h2><p>本文。</p>',
        toc=[{"id": "cause", "title": "原因", "level": 2}],
    )


@pytest.mark.parametrize("path", PAGES)
def test_it_speaks_the_language_the_browser_asks_for(client, search_index, path) -> None:
    for header, lang, word in (
        ("ja,en;q=0.8", "ja", "検索"),
        ("zh-CN,zh;q=0.9", "zh-Hans", "搜索"),
        ("en-US", "en", "Search"),
        ("fr-FR", "en", "Search"),
    ):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=header)
        html = response.content.decode()
        assert html_lang(html) == lang, (path, header)
        assert f">{word}</a>" in html
        assert "Accept-Language" in response["Vary"]


def test_lang_in_the_url_wins_for_one_request(client, articles) -> None:
    html = client.get("/articles/?lang=zh", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert html_lang(html) == "zh-Hans"
    assert html_lang(client.get("/articles/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()) == "ja"
    assert html_lang(client.get("/articles/?lang=xx").content.decode()) == "en"


def test_the_language_switch_is_remembered_in_a_cookie(client, articles) -> None:
    response = client.post("/i18n/setlang/", {"language": "ja", "next": "/checks/"})
    assert response.status_code == 302 and response["Location"] == "/checks/"
    assert response.cookies["django_language"].value == "ja"
    html = client.get("/articles/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert html_lang(html) == "ja"


def test_the_switch_returns_to_the_page_without_its_lang_parameter(client, articles) -> None:
    html = client.get("/articles/?lang=ja&x=1").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'name="next" value="/articles/?x=1"' in html
    assert '<option value="zh-hans" lang="zh-Hans">' in html


def test_every_page_links_its_language_alternates(client, articles) -> None:
    html = client.get("/checks/").content.decode()
    links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))
    assert links == {
        "en": "http://testserver/checks/?lang=en",
        "ja": "http://testserver/checks/?lang=ja",
        "zh-Hans": "http://testserver/checks/?lang=zh-hans",
        "x-default": "http://testserver/checks/",
    }


def test_it_marks_lists_of_mixed_languages_with_lang(client, articles) -> None:

    _japanese_original(title="ノードの Pod 上限")
    html = client.get("/articles/").content.decode()
    assert 'lang="ja">ノードの Pod 上限</a>' in html
    assert 'href="/articles/nginx-envsubst-argument-list-too-long/" lang="en"' in html


def test_article_pages_carry_summary_and_open_graph_meta(client, articles) -> None:
    html = client.get(ARTICLE).content.decode()
    assert '<meta property="og:type" content="article">' in html
    title = re.search(r'<meta property="og:title" content="([^"]+)">', html).group(1)
    assert "envsubst" in title
    assert re.search(r'<meta name="description" content="[^"]{40,}">', html)
    assert f'<meta property="og:url" content="http://testserver{ARTICLE}">' in html
    check = client.get("/checks/nginx-envsubst-argument-list-too-long/").content.decode()
    assert "og:title" in check and "nginx-envsubst-argument-list-too-long:" in check


def test_it_marks_the_current_page_in_the_nav(client, articles) -> None:
    html = client.get("/articles/").content.decode()
    assert 'href="/articles/" aria-current="page"' in html
    html = client.get(ARTICLE).content.decode()
    assert 'href="/articles/" aria-current="true"' in html
    assert html.count("aria-current") == 1


def test_every_page_has_a_skip_link_and_one_search_box(client, search_index) -> None:
    for path in PAGES:
        html = client.get(path).content.decode()
        assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
        assert html.count("data-search-box") == 1, path
        assert 'class="no-js"' in html  # copy buttons and filters appear only with JavaScript


def test_a_pasted_log_never_becomes_the_title(client, search_index) -> None:
    log = "2026-11-30 first line of a log\n" + "noise\n" * 20 + "Too many pods\n"
    html = client.post("/search/", {"q": log}).content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "first line" not in title
    assert (
        "<title>envsubst · Search · KB</title>"
        in client.get("/search/", {"q": "envsubst"}).content.decode()
    )


def test_it_counts_the_results_in_page_and_fragment(client, search_index) -> None:
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        html = client.get("/search/", {"q": "nginx"}, **headers).content.decode()
        count = len(re.findall(r'<a class="title"', html))
        assert count >= 2
        assert f"{count} articles match" in html


def test_it_announces_a_cut_paste_when_the_view_says_so(client, search_index) -> None:
    from django.template.loader import render_to_string

    html = render_to_string("kb/search.html#results", {"query": "x", "hits": [], "query_cut": True})
    assert "Your paste was long" in html
    html = render_to_string("kb/search.html#results", {"query": "x", "hits": []})
    assert "Your paste was long" not in html


def test_a_404_offers_search_and_suggestions(client, search_index) -> None:
    response = client.get("/articles/nginx-envsubst-too-long/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'role="search"' in html and "nginx envsubst too long</textarea>" in html
    suggestions = html[html.index("not-found-suggestions") :]
    assert ARTICLE in suggestions
    assert client.get("/api/nope/").json() == {"error": "There is no page at this address."}


def test_a_404_survives_a_missing_index(client, db) -> None:
    response = client.get("/articles/anything-at-all/")
    assert response.status_code == 404
    assert "Perhaps you were looking for" not in response.content.decode()


def test_the_article_list_shows_dates_and_a_filter(client, articles) -> None:
    html = client.get("/articles/").content.decode()
    assert 'data-filter-table="article-table"' in html
    assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}">', html)


def test_snippets_start_at_a_word_boundary() -> None:
    from kb.search.snippets import snippet_at

    # The window opens 40 characters before the match: here inside "kubernetesclusteradmin".
    text = "word " * 30 + "kubernetesclusteradmin" + " pod" * 6 + " envsubst argument list too long"
    match = next(re.finditer("envsubst", text))
    assert text[match.start() - 41].isalpha() and text[match.start() - 40].isalpha()
    snippet = snippet_at(text, [match.span()])
    assert snippet.startswith("… pod pod"), snippet
    # Japanese and Chinese have no spaces: the window is left where it is.
    cjk = "設定" * 40 + "envsubst"
    assert snippet_at(cjk, [next(re.finditer("envsubst", cjk)).span()]).startswith("… 設定")


def test_labels_around_an_article_carry_the_interface_language(client, articles) -> None:

    _japanese_original(title="ノードの Pod 上限")
    html = client.get("/articles/node-pod-limit-notes/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<article class="article-layout" lang="ja">' in html
    assert '<aside aria-label="Contents" lang="en">' in html
    assert '<section id="sources" class="sources" lang="en">' in html


def test_a_disallowed_host_still_gets_the_400_page(client, db, settings) -> None:
    # The 400 page uses the same frame; it must not ask for the bad host again.
    settings.DEBUG = False
    response = client.get("/articles/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    html = response.content.decode()
    assert "evil.example" not in html
    assert '<link rel="alternate" hreflang="ja" href="/articles/?lang=ja">' in html


@pytest.mark.parametrize("lang", ["en", "ja", "zh"])
def test_no_table_of_contents_names_two_sections_alike(client, articles, lang) -> None:
    """The contents list an article's own headings and then the page's sections (original
    reports, sources): in every language a reader can tell each entry apart."""
    from kb.models import Article

    slugs = sorted(set(Article.objects.values_list("slug", flat=True)))
    assert len(slugs) >= 11
    for slug in slugs:
        html = client.get(f"/articles/{slug}/?lang={lang}").content.decode()
        contents = html.split('<aside aria-label="', 1)[1].split("</aside>", 1)[0]
        entries = [
            re.sub(r"<[^>]+>|\s+", " ", text).strip()
            for text in re.findall(r'<a href="#[^"]+">(.*?)</a>', contents, re.S)
        ]
        assert len(entries) >= 4, (slug, lang)
        assert len(entries) == len(set(entries)), (slug, lang, entries)
