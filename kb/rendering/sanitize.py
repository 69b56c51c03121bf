"""The allow-list every rendered document goes through (nh3): no script, no style, no
inline styles (the CSP forbids them), links only to http(s), mailto and relative URLs."""

from __future__ import annotations

import re

import nh3

_ALLOWED_TAGS = {
    *(f"h{n}" for n in range(1, 7)),
    *[
        "p",
        "br",
        "hr",
        "blockquote",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "pre",
        "code",
        "span",
        "div",
        "em",
        "strong",
        "b",
        "i",
        "del",
        "s",
    ],
    *[
        "sup",
        "sub",
        "kbd",
        "abbr",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "a",
        "img",
        "caption",
    ],
}
_ALLOWED_ATTRIBUTES = {
    **{f"h{n}": {"id"} for n in range(1, 7)},
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "div": {"class"},
    "sup": {"id"},
    "li": {"id"},
    "ol": {"start"},
    "abbr": {"title"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
_CLASS = re.compile(r"^[A-Za-z0-9_ -]{0,200}$")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class" and not _CLASS.match(value):
        return None
    if tag == "img" and attribute == "src" and value.lower().startswith("mailto:"):
        return None
    return value


def sanitize_html(fragment: str) -> str:
    """Keep only the tags and attributes articles need; links: http(s), mailto, relative."""
    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
