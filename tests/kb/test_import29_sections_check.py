"""`split_sections` takes simple HTML through one regex and anything else through
HTMLParser. Which HTML is simple is decided by a search for a "<" that opens no simple tag,
and the tags it skips by a pattern comparing only tag names ignoring case: both must decide
as the whole-string substitution and the pattern ignoring case everywhere did."""

from __future__ import annotations

import random
import re

import pytest

from kb.rendering import sections
from kb.rendering.sections import _SectionParser, split_sections

_OLD_INERT = re.compile(sections._INERT_TAG.pattern.replace("(?i:", "(?:"), re.IGNORECASE)

PIECES = [
    "<", ">", "/", "p", "P", "span", "SPAN", " ", "a", "A", "=", '"', "x", "\u017f", "\u212a",
    "h2", "H2", "class", "id", "&amp;", "&lt;", "text", "\n", "<!--", "-->", "<br/>", "code",
]  # fmt: skip


def parsed(html_text: str) -> list:
    parser = _SectionParser()
    parser.feed(html_text)
    parser.close()
    return [tuple(s[:3]) + (sections._tidy(s[3]),) for s in parser.sections]


def shown(html_text: str) -> list:
    return [(s.id, s.title, s.level, s.text) for s in split_sections(html_text)]


@pytest.mark.parametrize(
    "html_text",
    [
        '<h2 id="x">T<a class="anchor" href="#x">#</a></h2><p>one <span class="k">two</span></p>',
        "<<span>p>stray opening before a tag",
        '<P>upper case<BR/>tags</P><H3 ID="a">Title</H3><SPAN>x</SPAN>',
        "<\u017fpan>long s</\u017fpan><p>after</p>",
        "<\u212a>kelvin</\u212a>",
        "a < b and c > d",
        '<p class="a<b">bad value</p>',
        "<!-- a comment --><p>x</p>",
    ],
)
def test_awkward_html_gives_what_htmlparser_gives(html_text):
    assert shown(html_text) == parsed(html_text)


def test_the_stray_search_and_the_skipped_tags_decide_as_before():
    rng = random.Random(29)
    for _ in range(4000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 30)))
        stray = sections._STRAY_OPENING.search(text) is not None
        assert stray == ("<" in sections._SIMPLE_TAG.sub("", text)), text
        if not stray:
            assert sections._INERT_TAG.sub("", text) == _OLD_INERT.sub("", text), text
            if not sections._RAW_CONTENT.search(text):
                assert shown(text) == parsed(text), text
