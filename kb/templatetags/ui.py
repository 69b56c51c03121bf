"""Template helpers for the page frame: language links, the current nav entry, short titles."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django import template
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

register = template.Library()


class BlocksFoundOnce(template.Node):
    """A template's nodes, rendered as they are, with the list of its blocks kept.

    Django's `{% extends %}` asks the root template for its `{% block %}` nodes on every
    render (`ExtendsNode.render`: `get_nodes_by_type(BlockNode)`, a walk of every node of
    base.html, 0.3 ms of a 2.1 ms search page). A compiled template does not change: the
    cached loader keeps it for the process, and without that loader (DEBUG) each render
    compiles a new one, with an empty memory. So the answer per node type is kept here.
    """

    child_nodelists = ("nodelist",)

    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist
        self._found: dict[type, list[template.Node]] = {}

    def render(self, context: template.Context) -> str:
        return self.nodelist.render(context)

    def get_nodes_by_type(self, nodetype: type) -> list[template.Node]:
        found = self._found.get(nodetype)
        if found is None:
            found = self._found[nodetype] = super().get_nodes_by_type(nodetype)
        return list(found)  # a copy: callers may extend what they get


@register.tag
def blocks_found_once(parser: template.base.Parser, token: template.base.Token) -> BlocksFoundOnce:
    """`{% blocks_found_once %}...{% endblocks_found_once %}` around a base template's body."""
    nodelist = parser.parse(("endblocks_found_once",))
    parser.delete_first_token()
    return BlocksFoundOnce(nodelist)


# Kept fragments: a bound per tag that only caps a mistake (a variable that is not one of a few
# values: languages, views).
MAX_KEPT_PER_FRAGMENT = 64
_DUMMY_CACHE = "django.core.cache.backends.dummy.DummyCache"


def _fragments_kept() -> bool:
    """Whether `{% kept %}` keeps what it renders: as `{% cache ... using="fragments" %}` did,
    when the "fragments" cache is a real one (KB_DEBUG=0; kb/settings.py, CACHES)."""
    backend = settings.CACHES.get("fragments", {}).get("BACKEND", _DUMMY_CACHE)
    return backend != _DUMMY_CACHE


class _Keeping:
    """The answer of `_fragments_kept`, asked again when the settings change (tests)."""

    on = _fragments_kept()
    generation = 0


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: object) -> None:
    if setting in ("CACHES", "DEBUG", "STATIC_URL", "STORAGES", "LANGUAGES", "ROOT_URLCONF"):
        _Keeping.on = _fragments_kept()
        _Keeping.generation += 1  # and forget what was kept under the old settings


# A variable named by itself (`compact`, not `request.path` or `x|f`) is looked up directly: an
# include that does not pass it would otherwise cost three caught exceptions (Variable tries a
# key, an attribute and an index before it gives up).
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _vary_value(
    variable: str | template.base.FilterExpression, context: template.Context
) -> object:
    if isinstance(variable, str):
        return context.get(variable)
    return variable.resolve(context)


# Where a page's render keeps the language and script prefix its kept parts are looked up by.
_PAGE_KEY = object()


class KeptNode(template.Node):
    """A part of a page rendered once per process for each interface language, URL prefix and
    value of the variables named, then written from memory.

    What `{% cache None name vars using="fragments" %}` did, without its price: the cache tag
    works out an md5 key, looks the cache up through Django's per-thread cache handler and
    unpickles the value, more than one `{% translate %}` costs; a dictionary on the node
    answers in a thirtieth of the cache tag's time and a twentieth of a translate's (ten
    fragments rendered 3 000 times), so even one translated label is worth keeping. Only
    what is the same for every request of a language may sit inside (no CSRF token, query or
    request path), and no `{% language %}` switch around it: the language is read once a page.
    A compiled template lives as long as the cached loader keeps it, so the memory goes with
    it when templates reload.
    """

    child_nodelists = ("nodelist",)

    def __init__(
        self,
        nodelist: template.NodeList,
        name: str,
        vary_on: list[str | template.base.FilterExpression],
    ) -> None:
        self.nodelist = nodelist
        self.name = name
        self.vary_on = vary_on
        self.kept: dict[tuple, str] = {}
        self.generation = _Keeping.generation

    def render(self, context: template.Context) -> str:
        if self.generation != _Keeping.generation:
            self.kept, self.generation = {}, _Keeping.generation
        if not _Keeping.on:
            return self.nodelist.render(context)
        # The language and prefix are asked once per page: thread-local look-ups, a fifth of
        # this tag's cost when every kept part asked (py-spy). Django's {% include %} keeps its
        # own per-render memory in the same first dictionary of the render context.
        first = context.render_context.dicts[0]
        key = first.get(_PAGE_KEY)
        if key is None:
            key = first[_PAGE_KEY] = (get_language(), get_script_prefix())
        if self.vary_on:
            key = (*key, *[_vary_value(v, context) for v in self.vary_on])
        found = self.kept.get(key)
        if found is None:
            found = self.nodelist.render(context)
            if len(self.kept) < MAX_KEPT_PER_FRAGMENT:
                self.kept[key] = found
        return found


@register.tag
def kept(parser: template.base.Parser, token: template.base.Token) -> KeptNode:
    """`{% kept name [variable ...] %}...{% endkept %}`: markup that is the same for every
    request of one language (and value of the variables), rendered once (KeptNode)."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("'kept' needs a name for the fragment")
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    vary_on = [
        bit if _PLAIN_NAME.fullmatch(bit) else parser.compile_filter(bit) for bit in bits[2:]
    ]
    return KeptNode(nodelist, bits[1], vary_on)


# BCP 47 tags for hreflang and lang attributes; Django's codes are lower-case.
BCP47 = {"en": "en", "ja": "ja", "zh-hans": "zh-Hans", "zh": "zh-Hans"}
# Nav entries and the views that belong to them: the entry is the current page for the first
# view and "current section" for the others.
NAV_SECTIONS = {
    "kb:search": ("kb:search",),
    "troubleshooter:troubleshoot": ("troubleshooter:troubleshoot", "troubleshooter:node"),
    "troubleshooter:analyze": ("troubleshooter:analyze",),
    "troubleshooter:check_list": ("troubleshooter:check_list", "troubleshooter:check_detail"),
    "kb:article_list": ("kb:article_list", "kb:article_detail"),
}


@register.filter
def bcp47(code: str) -> str:
    """A Django language code as a BCP 47 tag: zh-hans → zh-Hans (and our article code zh)."""
    return BCP47.get((code or "").lower(), code or "")


def _params_without_lang(request: HttpRequest) -> list[tuple[str, str]]:
    return [(key, value) for key, value in request.GET.lists() for value in value if key != "lang"]


@register.simple_tag
def path_without_lang(request: HttpRequest) -> str:
    """The current path and query, minus `?lang=` (where the language switch returns to)."""
    params = _params_without_lang(request)
    return request.path + (f"?{urlencode(params)}" if params else "")


def _absolute(request: HttpRequest, location: str) -> str:
    """An absolute URL, or the bare path when the Host header is not an allowed one.

    The 400 page for a disallowed Host renders this template too: asking for the host again
    there would raise DisallowedHost and turn a 400 into a 500.
    """
    try:
        return request.build_absolute_uri(location)
    except DisallowedHost:
        return location


@register.simple_tag
def absolute_url(request: HttpRequest) -> str:
    """This page's absolute URL (for og:url), safe on a request with a bad Host."""
    return _absolute(request, request.get_full_path())


@register.simple_tag
def language_alternates(request: HttpRequest) -> list[dict[str, str]]:
    """One `<link rel=alternate hreflang>` target per interface language, plus x-default."""
    params = _params_without_lang(request)
    base = _absolute(request, request.path)
    # Encoded once: urlencode joins its pairs with "&", so the pairs and `lang=` (a code of
    # letters and "-", which it leaves as they are) give the same text as encoding them all.
    encoded = urlencode(params)
    with_params = f"{base}?{encoded}&" if params else f"{base}?"
    links = [
        {"hreflang": bcp47(code), "href": f"{with_params}{urlencode([('lang', code)])}"}
        for code, _name in settings.LANGUAGES
    ]
    default = f"{base}?{encoded}" if params else base
    links.append({"hreflang": "x-default", "href": default})
    return links


@register.simple_tag
def alternate_links(request: HttpRequest) -> SafeString:
    """The `<link rel=alternate hreflang>` elements of `language_alternates`, each on its own
    line: what a `{% for %}` over them wrote, at a quarter of its cost (three variable nodes a
    link, 0.1 ms of every page)."""
    return format_html_join(
        "",
        '\n  <link rel="alternate" hreflang="{}" href="{}">',
        ((link["hreflang"], link["href"]) for link in language_alternates(request)),
    )


@register.simple_tag
def path_to(name: str) -> str:
    """`{% url name %}` for a URL without arguments, worked out once per URL configuration and
    script prefix (what reverse() reads besides the name): the tag cost 0.1 ms each time."""
    return _path_to(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@lru_cache(maxsize=64)
def _path_to(name: str, urlconf: object, prefix: str) -> str:  # noqa: ARG001 - a key
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def nav_current(request: HttpRequest, entry: str) -> str:
    """aria-current for a nav entry: "page" on its own page, "true" inside its section."""
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match else ""
    pages = NAV_SECTIONS.get(entry, (entry,))
    if view == pages[0]:
        return "page"
    if view in pages:
        return "true"
    return ""


@register.filter
def is_title_safe(query: str) -> bool:
    """Whether a query reads well as a page title: one short line (a pasted log does not)."""
    return bool(query) and "\n" not in query.strip() and len(query) <= 200


TITLE_CHARS = 60


@register.filter
def title_prefix(query: str) -> str:
    """The start of the search page's title: the query cut to 60 characters and " · " when it
    reads as a title (`is_title_safe`), else nothing. What `{% if query|is_title_safe %}{{
    query|truncatechars:60 }} · {% endif %}` wrote, as one filter instead of three nodes."""
    if not is_title_safe(query):
        return ""
    # Truncator.chars gives the NFC form of the text and cuts only past 60 characters that are
    # not combining marks: a text of at most 60 characters in all comes back as its NFC form.
    # That is most titles; Truncator (a lazy object) is made only for the others.
    text = unicodedata.normalize("NFC", str(query))
    if len(text) > TITLE_CHARS:
        text = Truncator(str(query)).chars(TITLE_CHARS)
    return format_html("{} · ", text)


SEVERITY_LABELS = {
    "error": _("error"),
    "warning": _("warning"),
    "info": _("info"),
    "suppressed": _("suppressed"),
}


@register.filter
def severity_label(severity: str) -> str:
    """A finding's severity as the reader's language names it."""
    return SEVERITY_LABELS.get(severity, severity)
