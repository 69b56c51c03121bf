"""The page frame's kept fragments and remembered static URLs give the same HTML as before.

The parts of templates/base.html, kb/search.html and kb/_search_form.html that are the same on
every page of a language (labels, menu, language list, static links) are rendered once per
process when KB_DEBUG=0 (`{% kept %}`, kb/templatetags/ui.py; kb/settings.py, CACHES): these
tests switch the "fragments" cache to a real one, since the test settings run with DEBUG's
dummy cache, under which nothing is kept.
"""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import caches
from django.template import engines

from kb.static_storage import StaticStorage
from kb.templatetags.ui import KeptNode

TOKEN = re.compile(rb'(?<=csrfmiddlewaretoken" value=")[^"]+|(?<="x-csrftoken": ")[^"]+')
DUMMY = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
KEPT = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "frame-test"}
PAGES = [
    ("/search/", {"q": "Too many pods"}),
    ("/search/", {"q": "Too many pods", "lang": "ja"}),
    ("/articles/", {}),
    ("/search/", {"q": "Too many pods", "lang": "zh-hans"}),
    ("/", {}),
    ("/articles/", {"lang": "ja"}),
    ("/troubleshoot/", {}),
    ("/search/", {"q": "another query"}),
]


def _frame_cache(settings, backend: dict) -> None:
    settings.CACHES = {**settings.CACHES, "fragments": backend}
    caches["fragments"].clear()


def _kept_parts() -> dict[str, dict]:
    """What each `{% kept %}` of the search page's templates holds, by fragment name."""
    engine = engines["django"].engine
    found = {}
    for name in ("base.html", "kb/search.html", "kb/_search_form.html"):
        for node in engine.get_template(name).nodelist.get_nodes_by_type(KeptNode):
            found[node.name] = node.kept
    return found


def _pages(client) -> list[bytes]:
    out = []
    for path, params in PAGES:
        response = client.get(path, params)
        assert response.status_code == 200, path
        out.append(TOKEN.sub(b"", response.content))
    return out


@pytest.mark.django_db
def test_pages_are_the_same_with_the_frame_cached_and_rendered_each_time(
    client, search_index, settings
):
    _frame_cache(settings, DUMMY)
    rendered = _pages(client)
    _frame_cache(settings, KEPT)
    first = _pages(client)  # fills the fragments
    kept = _kept_parts()
    assert kept["chrome_nav"]  # the fragments were kept
    assert kept["search_form_start"]
    again = _pages(client)  # answered from them
    assert rendered == first == again
    # The labels once per language; the menu once per language and view (search in three,
    # the article list in two, home and the troubleshooter in one); the search box once per
    # language for the search page's and once for the header's compact one (en, ja).
    assert len(kept["chrome_top"]) == 3
    assert len(kept["chrome_nav"]) == 7
    assert len(kept["search_form_start"]) == 5
    # Each language and each page kind has its own frame: the menu marks the current page.
    assert b'aria-current="page">Search</a>' in again[0]
    assert b'aria-current="page">Articles</a>' in again[2]
    assert b'aria-current="page">Search</a>' not in again[2]
    assert rendered[0] != rendered[1] != rendered[3]


@pytest.mark.django_db
def test_nothing_is_kept_under_the_dummy_cache_so_template_edits_show(
    client, search_index, settings
):
    _frame_cache(settings, KEPT)
    client.get("/search/", {"q": "Too many pods"})
    assert _kept_parts()["chrome_top"]
    _frame_cache(settings, DUMMY)  # a settings change forgets what was kept
    client.get("/search/", {"q": "Too many pods"})
    assert not any(_kept_parts().values())


@pytest.mark.django_db
def test_what_belongs_to_one_request_stays_out_of_the_cached_frame(client, search_index, settings):
    _frame_cache(settings, KEPT)
    first = client.get("/search/", {"q": "Too many pods"}).content
    second = client.get("/search/", {"q": "pods pending"}).content
    # The language switch returns to this page, not to the one that filled the cache.
    assert b'name="next" value="/search/?q=pods+pending"' in second
    assert b'name="next" value="/search/?q=Too+many+pods"' in first
    # Every request's CSRF token is its own (masked anew each time).
    tokens = [TOKEN.findall(page) for page in (first, second)]
    assert len(tokens[0]) == len(tokens[1]) >= 2
    assert set(tokens[0]).isdisjoint(tokens[1])


def _storage(tmp_path, paths: dict[str, str]) -> StaticStorage:
    (tmp_path / "staticfiles.json").write_text(
        json.dumps({"paths": paths, "version": "1.1", "hash": "x"}), encoding="utf-8"
    )
    return StaticStorage(location=str(tmp_path), base_url="/static/")


def test_a_static_url_is_the_manifests_and_worked_out_once(tmp_path, settings):
    settings.DEBUG = False
    storage = _storage(tmp_path, {"css/app.css": "css/app.0123abcd.css"})
    assert storage.url("css/app.css") == "/static/css/app.0123abcd.css"
    storage.hashed_files["css/app.css"] = "css/app.changed.css"  # remembered: not asked again
    assert storage.url("css/app.css") == "/static/css/app.0123abcd.css"
    assert storage.url("css/app.css", force=True) == "/static/css/app.changed.css"
    # A name missing from the manifest fails every time, as before; nothing is remembered.
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/missing.css")
    # DEBUG gives the plain name (Django's rule), whatever was remembered without it.
    settings.DEBUG = True
    assert storage.url("css/app.css") == "/static/css/app.css"


# The loop templates/kb/search.html had before kb/templatetags/results.py wrote it out.
LOOP = """{% load i18n ui results %}{% translate "language" as language_label %}
    {% for hit in hits %}
    <li>
      <a class="title" href="{{ hit.url }}" lang="{{ hit.lang|bcp47 }}">{{ hit.title }}</a>
      <span class="badge" title="{% translate "language" %}">{{ hit.lang }}</span>
      {% if hit.section_title %}<span class="muted section" lang="{{ hit.lang|bcp47 }}">\
 › {{ hit.section_title }}</span>{% endif %}
      <p class="snippet" lang="{{ hit.lang|bcp47 }}">{{ hit.snippet|safe }}</p>
    </li>
    {% endfor %}"""
TAG = """{% load i18n ui results %}{% translate "language" as language_label %}
    {% result_items hits language_label %}"""


@pytest.mark.parametrize("language", ["en", "ja", "zh-hans"])
def test_the_results_tag_writes_what_the_template_loop_wrote(language):
    from django.template import engines
    from django.utils import translation

    from kb.search import SearchHit

    hostile = "<script>alert(\"x\")</script> & 'quotes' {{ braces }} %s"
    hits = [
        SearchHit(
            "a",
            "Plain title",
            "/articles/a/#cause",
            "en",
            "a <mark>snippet</mark>",
            1.0,
            "cause",
            "Cause",
        ),
        SearchHit(
            "b", hostile, f'/articles/b/?lang=ja#"{hostile}', "ja", "&lt;b&gt; …", 0.5, None, None
        ),
        SearchHit("c", "中文", "/articles/c/?lang=zh", "zh", "", 0.1, "s", hostile),
        SearchHit("d", "", "", "", "", 0.0, None, ""),
    ]
    engine = engines["django"]
    with translation.override(language):
        for shown in (hits, hits[:1], []):
            loop = engine.from_string(LOOP).render({"hits": shown})
            tag = engine.from_string(TAG).render({"hits": shown})
            assert tag == loop
        full = engine.from_string(TAG).render({"hits": hits})
    assert "<script>" not in full
    assert "&lt;script&gt;" in full
    assert "<mark>snippet</mark>" in full
