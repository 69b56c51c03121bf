"""The search results list, written out in Python: the page's one loop over many values.

Ten results took 1.1-1.4 ms through the template engine (per result nine variable and filter
lookups, an `if` and a `{% translate %}`, each through Django's lazy-string checks); written
here they take 0.17-0.23 ms (1 000 renders of the same ten hits, load ~6). The markup is the
one `templates/kb/search.html` had in its loop, escaped as `{{ }}` escapes (the snippet is
HTML already, as with `|safe`); tests/kb/test_serving_page_frame.py renders both and compares.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext

from kb.search import SearchHit
from kb.templatetags.ui import bcp47

register = template.Library()

# Exactly the loop's text: each item starts on a new line and ends with the next one's indent.
_ITEM = (
    "\n    <li>\n"
    '      <a class="title" href="{url}" lang="{tag}">{title}</a>\n'
    '      <span class="badge" title="{language_label}">{lang}</span>\n'
    "      {section}\n"
    '      <p class="snippet" lang="{tag}">{snippet}</p>\n'
    "    </li>\n    "
)
_SECTION = '<span class="muted section" lang="{tag}"> › {section_title}</span>'


def _escaped(value: object) -> str:
    """What `{{ value }}` writes: Django's conditional_escape, without its lazy-string wrapper
    (django.utils.html.escape is html.escape of str(value); safe strings are kept)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


@register.simple_tag
def result_items(hits: Iterable[SearchHit], language_label: str) -> SafeString:
    """Every hit as an `<li>`: title link, language badge, best section, snippet."""
    label = _escaped(language_label)
    items = []
    for hit in hits:
        tag = _escaped(bcp47(hit.lang))
        section = (
            _SECTION.format(tag=tag, section_title=_escaped(hit.section_title))
            if hit.section_title
            else ""
        )
        items.append(
            _ITEM.format(
                url=_escaped(hit.url),
                tag=tag,
                title=_escaped(hit.title),
                language_label=label,
                lang=_escaped(hit.lang),
                section=section,
                snippet=str(hit.snippet),  # HTML made by kb.search.snippets, as with |safe
            )
        )
    return mark_safe("".join(items))  # noqa: S308 - every value above escaped but the snippet


@register.simple_tag
def result_count(hits: list[SearchHit]) -> SafeString:
    """The results' count in the reader's language ("3 articles match"): the sentence and
    the catalog entry the template's `{% blocktranslate count %}` had, for less (0.1 ms a
    page there: the node re-reads its tokens and localizes the number on every render)."""
    count = len(hits)
    sentence = ngettext("%(counter)s article matches", "%(counter)s articles match", count)
    # As blocktranslate: the catalog's text as it is, the number the one value put in.
    return mark_safe(sentence % {"counter": count})  # noqa: S308 - our catalog and an int


@register.filter
def from_database(hits: list[SearchHit]) -> bool:
    """Whether the hits are the database's plain match (the first hit says for all); read in
    the template as `hits.0.source`, each step a failed dictionary look-up first."""
    return bool(hits) and hits[0].source == "database"
