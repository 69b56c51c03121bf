"""The search page's tags write what the template tags they replaced wrote.

`path_to`, `alternate_links`, `result_count` and `from_database` (kb/templatetags/) stand in
for `{% url %}`, a `{% for %}` over `language_alternates`, `{% blocktranslate count %}` and
`hits.0.source` on the search page, because they cost less per render; each is compared here
with the markup it replaced, and the page with it. `{% blocks_found_once %}` keeps the list
of base.html's blocks that `{% extends %}` asked for on every render.
"""

from __future__ import annotations

import re

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import set_script_prefix
from django.utils import translation

from kb.search import SearchHit

TOKEN = re.compile(rb'(?<=csrfmiddlewaretoken" value=")[^"]+|(?<="x-csrftoken": ")[^"]+')
# What templates/base.html, kb/search.html and kb/_search_form.html had before.
OLD_ALTERNATES = """{% load ui %}{% language_alternates request as alternates %}\
{% for link in alternates %}
  <link rel="alternate" hreflang="{{ link.hreflang }}" href="{{ link.href }}">{% endfor %}"""
NEW_ALTERNATES = "{% load ui %}{% alternate_links request %}"
OLD_COUNT = """{% load i18n %}{% blocktranslate trimmed count counter=hits|length %}\
{{ counter }} article matches
    {% plural %}{{ counter }} articles match{% endblocktranslate %}"""
NEW_COUNT = "{% load results %}{% result_count hits %}"
OLD_NOTICE = '{% if hits.0.source == "database" %}notice{% endif %}'
NEW_NOTICE = "{% load results %}{% if hits|from_database %}notice{% endif %}"


def _render(source: str, context: dict) -> str:
    return engines["django"].from_string(source).render(context)


def _hit(slug: str, source: str = "index") -> SearchHit:
    return SearchHit(slug, slug, f"/articles/{slug}/", "en", "", 1.0, None, None, source)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?q=Too+many+pods",
        "?q=%3Cscript%3E%26%22%27&lang=ja&page=2",
        "?lang=zh-hans",
        "?q=a&q=b&extra=%E4%B8%AD%E6%96%87",
    ],
)
def test_it_links_the_same_language_alternates_as_the_loop(query: str) -> None:
    request = RequestFactory().get(f"/search/{query}")
    old = _render(OLD_ALTERNATES, {"request": request})
    assert _render(NEW_ALTERNATES, {"request": request}) == old
    assert old.count('<link rel="alternate"') == 4  # en, ja, zh-Hans and x-default


@pytest.mark.parametrize("language", ["en", "ja", "zh-hans"])
def test_it_counts_the_results_in_the_words_of_blocktranslate(language: str) -> None:
    with translation.override(language):
        for count in (0, 1, 2, 10, 50):
            hits = [_hit(f"a{i}") for i in range(count)]
            old = _render(OLD_COUNT, {"hits": hits})
            assert _render(NEW_COUNT, {"hits": hits}) == old
            assert str(count) in old


def test_it_flags_the_databases_answer_as_the_first_hit_did() -> None:
    for hits in ([], None, [_hit("a")], [_hit("a", "database"), _hit("b", "database")]):
        assert _render(NEW_NOTICE, {"hits": hits}) == _render(OLD_NOTICE, {"hits": hits})
    assert _render(NEW_NOTICE, {"hits": [_hit("a", "database")]}) == "notice"


@pytest.mark.parametrize("prefix", ["/", "/kb/", "/other/"])
def test_it_writes_the_search_address_url_wrote_under_each_script_prefix(prefix: str) -> None:
    # The address is remembered per script prefix: a site moved under /kb/ links under /kb/.
    set_script_prefix(prefix)
    try:
        old = _render("{% url 'kb:search' %}", {})
        assert _render("{% load ui %}{% path_to 'kb:search' %}", {}) == old
        assert old == f"{prefix}search/"
    finally:
        set_script_prefix("/")


@pytest.mark.django_db
def test_the_search_page_keeps_its_form_addresses_links_and_count(client, search_index) -> None:
    page = client.get("/search/", {"q": "envsubst argument list", "lang": "ja"}).content.decode()
    assert page.count('action="/search/"') == 2  # the search box and the paste form
    assert (
        '<link rel="alternate" hreflang="zh-Hans" '
        'href="http://testserver/search/?q=envsubst+argument+list&amp;lang=zh-hans">'
    ) in page
    assert "件の記事が見つかりました" in page
    assert 'class="notice"' not in page


@pytest.mark.django_db
def test_the_search_page_says_when_the_database_answered(client, articles) -> None:
    page = client.get("/search/", {"q": "envsubst"}).content.decode()
    assert "these results come from a plain text match, not ranked." in page
    assert "1 article matches" in page


@pytest.mark.django_db
def test_a_page_does_not_walk_the_frame_for_its_blocks_again(client, search_index, monkeypatch):
    from django.template.loader_tags import BlockNode

    first = client.get("/search/", {"q": "envsubst"}).content  # compiles, finds the blocks
    walked = []
    real = BlockNode.get_nodes_by_type

    def counted(self, nodetype):  # noqa: ANN001, ANN202
        walked.append(self.name)
        return real(self, nodetype)

    monkeypatch.setattr(BlockNode, "get_nodes_by_type", counted)
    again = client.get("/search/", {"q": "envsubst"}).content
    # {% extends %} walked base.html for its blocks on every render; now on the first only.
    assert walked == []
    assert again.count(b"<title>") == 1
    assert TOKEN.sub(b"", first) == TOKEN.sub(b"", again)


def test_the_frames_blocks_are_the_ones_a_walk_finds(settings) -> None:
    from django.template.loader_tags import BlockNode

    source = (
        "{% load ui %}{% blocks_found_once %}<p>{% block a %}A{% endblock %}"
        "{% if x %}{% block b %}B{% endblock %}{% endif %}</p>{% endblocks_found_once %}\n"
    )
    frame = engines["django"].from_string(source)
    names = [node.name for node in frame.template.nodelist.get_nodes_by_type(BlockNode)]
    assert names == ["a", "b"]
    found = frame.template.nodelist.get_nodes_by_type(BlockNode)
    found.clear()  # a caller's list is its own
    assert [n.name for n in frame.template.nodelist.get_nodes_by_type(BlockNode)] == names
    assert frame.render({"x": True}) == "<p>AB</p>\n"


# templates/kb/_search_form.html before its constant parts went into `{% kept %}`.
OLD_SEARCH_FORM = """{% load i18n ui %}
<form class="search-form{% if compact %} compact{% endif %}" action="{% path_to 'kb:search' %}" \
method="get" role="search"
      data-search-form{% if live %} data-live-search="results" \
data-empty-title="{% translate "Search" %} · KB"{% endif %}>
  <label class="offscreen" for="{{ box_id|default:'q' }}">\
{% translate "Error message, log or search terms" %}</label>
  <textarea id="{{ box_id|default:'q' }}" name="q" rows="1" data-search-box spellcheck="false" \
autocomplete="off"
            autocapitalize="off" placeholder="{% if compact %}\
{% translate "Search or paste an error" %}{% else %}\
{% translate "e.g. envsubst: Argument list too long" %}{% endif %}"
            {% if autofocus %}autofocus{% endif %} aria-keyshortcuts="/">\
{{ query|default:"" }}</textarea>
  <button type="submit"{% if compact %} class="icon-button"{% endif %}><span class="icon \
icon-search" aria-hidden="true"></span><span class="{% if compact %}offscreen\
{% else %}button-label{% endif %}">{% translate "Search" %}</span></button>
</form>
"""
# The include sites: the search page and home, the header, the 404 page.
FORM_SITES = [
    {"autofocus": True, "live": True},
    {"box_id": "site-q", "compact": True, "query": "", "autofocus": False, "live": False},
    {"autofocus": True},
]
HOSTILE_QUERIES = ["", "Too many pods", "<script>\"x\" & 'y'</script>", "二行\nの クエリ", None]


@pytest.fixture
def kept_fragments(settings):
    """The "fragments" cache of KB_DEBUG=0, under which `{% kept %}` keeps what it renders."""
    settings.CACHES = {
        **settings.CACHES,
        "fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }


@pytest.mark.parametrize("language", ["en", "ja", "zh-hans"])
def test_the_kept_search_box_writes_what_the_whole_template_wrote(
    kept_fragments, language: str
) -> None:
    from kb.templatetags.ui import KeptNode

    new = engines["django"].get_template("kb/_search_form.html")
    with translation.override(language):
        # Twice: the first render fills the kept parts, the second is written from them.
        for _round in range(2):
            for site in FORM_SITES:
                for query in HOSTILE_QUERIES:
                    context = {**site, "query": query} if query is not None else dict(site)
                    old = _render(OLD_SEARCH_FORM, context)
                    assert new.render(context) == old
    kept = new.template.nodelist.get_nodes_by_type(KeptNode)
    assert [node.name for node in kept] == ["search_form_start", "search_form_end"]
    assert all(node.kept for node in kept)


# The site name in base.html's head: a `{% with %}` around the Open Graph block before.
OLD_SITE_NAME = """{% load i18n %}{% with site_name=_("Container pitfalls") %}\
<meta property="og:site_name" content="{{ site_name }}">|{{ site_name }}{% endwith %}"""
NEW_SITE_NAME = """{% load i18n %}\
<meta property="og:site_name" content="{% translate "Container pitfalls" %}">|\
{% translate "Container pitfalls" %}"""


@pytest.mark.parametrize("language", ["en", "ja", "zh-hans"])
def test_the_site_name_is_written_as_the_with_block_wrote_it(language: str) -> None:
    with translation.override(language):
        old = _render(OLD_SITE_NAME, {})
        assert _render(NEW_SITE_NAME, {}) == old
    assert old.count("|") == 1
    assert len(old) > len('<meta property="og:site_name" content="">|')


def test_a_kept_part_is_kept_per_language_prefix_and_variable(kept_fragments) -> None:
    source = (
        '{% load i18n ui %}{% kept t view %}{% translate "Search" %} {{ view }} {% url "kb:home" %}'
        "{% endkept %}|{{ view }}"
    )
    frame = engines["django"].from_string(source)
    seen = {}
    for prefix in ("/", "/kb/"):
        set_script_prefix(prefix)
        try:
            for language in ("en", "ja"):
                with translation.override(language):
                    for view in ("a", "b", "a"):
                        seen[(prefix, language, view)] = frame.render({"view": view})
        finally:
            set_script_prefix("/")
    assert seen[("/", "en", "a")] == "Search a /|a"
    assert seen[("/kb/", "en", "b")] == "Search b /kb/|b"
    assert seen[("/", "ja", "a")] != seen[("/", "en", "a")]
    assert len(set(seen.values())) == 8


# The search page's title block before `title_prefix` and the kept label.
OLD_TITLE = """{% load i18n ui %}{% if query|is_title_safe %}{{ query|truncatechars:60 }} · \
{% endif %}{% translate "Search" %}"""
NEW_TITLE = """{% load i18n ui %}{{ query|title_prefix }}{% kept search_label %}\
{% translate "Search" %}{% endkept %}"""
TITLE_QUERIES = [
    "",
    "   ",
    "Too many pods",
    "<script>alert('x') & \"y\"</script>",
    "x" * 59,
    "x" * 60,
    "x" * 61,
    "日本語のとても長いクエリ" * 8,
    "one line\nanother line",
    "trailing newline\n",
    "y" * 200,
    "y" * 201,
    "e\u0301" * 70,
    "e\u0301" * 20,
    "\u0958" * 59,
    "\u0958" * 61,
    "\u212b" * 60,
]


@pytest.mark.parametrize("language", ["en", "ja", "zh-hans"])
def test_the_search_title_is_what_the_if_and_truncatechars_wrote(
    kept_fragments, language: str
) -> None:
    with translation.override(language):
        for _round in range(2):
            for query in TITLE_QUERIES:
                old = _render(OLD_TITLE, {"query": query})
                assert _render(NEW_TITLE, {"query": query}) == old
    assert "&lt;script&gt;" in _render(NEW_TITLE, {"query": TITLE_QUERIES[3]})
