"""The article links of search hits (kb/search/lookup.py `article_path`): remembered, yet
always the URL Django's reverse() gives for the running prefix and URL configuration."""

from __future__ import annotations

import pytest
from django.urls import reverse, set_script_prefix

from kb.search.lookup import article_path


def test_it_gives_what_reverse_gives_under_every_script_prefix() -> None:
    for prefix in ("/", "/kb/", "/other/", "/kb-slug-placeholder/", "/a b/", "//", "/"):
        set_script_prefix(prefix)
        try:
            for slug in (
                "nginx-envsubst-argument-list-too-long",
                "a_b",
                "x" * 40,
                "kb-slug-placeholder",  # the placeholder itself
                "kb-slug-placeholder-kb-slug-placeholder",
                "Upper-Case",
                "ünïcode-页面",
                "a%20b",
                "a.b",
                "..",
                "a b",
                "-",
            ):
                expected = reverse("kb:article_detail", args=[slug])
                assert article_path(slug) == expected
                assert article_path(slug) == expected  # once more, remembered
                # A prefix is quoted and a leading "//" escaped as reverse() does it.
                assert expected.startswith(prefix) or prefix in ("/a b/", "//")
        finally:
            set_script_prefix("/")


@pytest.mark.django_db
def test_a_search_hit_links_under_the_script_prefix(client) -> None:  # noqa: ANN001
    from kb.models import Article
    from kb.search import caches, rebuild_index, search_articles

    Article.objects.create(
        slug="pod-wolf", title="Pod wolf", lang="en", markdown="", html="<p>kubernetes wolf</p>"
    )
    rebuild_index()
    caches.results.clear()
    assert [h.url for h in search_articles("wolf")] == ["/articles/pod-wolf/"]
    set_script_prefix("/kb/")
    try:
        caches.results.clear()
        assert [h.url for h in search_articles("wolf")] == ["/kb/articles/pod-wolf/"]
    finally:
        set_script_prefix("/")
