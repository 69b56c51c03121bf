"""split_sections reads sanitized HTML with one regex instead of HTMLParser (half of what
analysing an article for the index cost); it must give exactly what HTMLParser gives, and
fall back to it for anything that is not the simple HTML our pipeline stores."""

from __future__ import annotations

import pytest

from kb.rendering import render_document
from kb.rendering.sections import Section, _SectionParser, _split_simple, _tidy, split_sections


def by_html_parser(html_text: str) -> list[Section]:
    parser = _SectionParser()
    parser.feed(html_text)
    parser.close()
    return [Section(id=s[0], title=s[1], level=s[2], text=_tidy(s[3])) for s in parser.sections]


SIMPLE = [
    '<p>Intro &amp; more</p><h2 id="cause">Cause <a class="anchor" href="#cause">¶</a></h2>'
    "<p>The <code>kubelet</code> says <em>no</em>.</p>",
    '<h1 id="t">Title</h1><ul><li>one</li><li>two<br>three<br/>four<br />five</li></ul>',
    '<div class="codehilite"><pre><span></span><code><span class="nt">spec</span>'
    '<span class="p">:</span>\n  x: &lt;y&gt; &quot;z&quot; &#39;q&#39;</code></pre></div>',
    "<table><tr><th>a</th><td>b &amp;amp; c</td></tr></table><hr><p>end</p>",
    '<H2 ID="Upper">Mixed <A CLASS="anchor" href="#u">#</A></H2><P>case</P>',
    '<h3 id="a&amp;b">Entity &#x41; in id</h3><p>text</p>',
    "plain text only, no tags &copy;",
    "",
]
NOT_SIMPLE = [
    "<p>a < b</p>",  # a stray "<"
    "<!-- note --><p>comment</p>",
    "<p>x</p><script>var a = '<p>';</script><p>y</p>",
    "<p class=bare>unquoted</p>",
    "<!DOCTYPE html><p>doc</p>",
    "<p>unclosed <a",
]


@pytest.mark.parametrize("html_text", SIMPLE)
def test_simple_html_is_read_like_html_parser_reads_it(html_text):
    assert _split_simple(html_text) is not None
    assert split_sections(html_text) == by_html_parser(html_text)


@pytest.mark.parametrize("html_text", NOT_SIMPLE)
def test_anything_else_goes_to_html_parser(html_text):
    assert _split_simple(html_text) is None
    assert split_sections(html_text) == by_html_parser(html_text)


def test_rendered_documents_take_the_fast_path_with_the_same_sections():
    markdown = (
        "Intro with `code`, **bold** and a [link](https://example.com/a?b=1&c=2).\n\n"
        "## Symptoms {#symptoms}\n\n```yaml\nkey: <value> & 'quoted'\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n## 原因\n\n本文 &amp; テキスト。\n\n- one\n- two\n"
    )
    html_text = render_document(text=markdown, kind="markdown").html
    assert _split_simple(html_text) is not None
    assert split_sections(html_text) == by_html_parser(html_text)
    assert [s.id for s in split_sections(html_text)][:2] == ["", "symptoms"]
