"""The importer's rendering shortcuts give exactly what the long way gives.

Each shortcut (kb/rendering, kb/writeups.py, kb/frontmatter.py) skips work whose result is
known: text no inline pattern can match, a block whose first line cannot open a table, a
list of block processors built again, a lexer class looked up again, lines no error word
occurs in, lines checked one by one for nesting, front matter read for aliases it cannot
hold. Each test runs the real code both ways on inputs chosen to hit the edges of the
shortcut.
"""

from __future__ import annotations

import re

import markdown
import pytest
import yaml
from markdown.extensions.tables import TableProcessor
from markdown.inlinepatterns import SimpleTagInlineProcessor
from markdown.treeprocessors import InlineProcessor
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from kb.frontmatter import FrontMatterError, parse_front_matter
from kb.rendering import MAX_BRACKETS_PER_LINE, MAX_NESTING_COLUMNS, render_document
from kb.rendering import _too_nested_for_markdown as too_nested
from kb.rendering.markdown_html import _lexer_by_name, _new_markdown
from kb.writeups import _ERROR_LINE, _SHELL_CODE, MAX_SYMPTOMS, extract_symptoms

MARKDOWN_SAMPLES = [
    "plain words only, nothing to see here",
    "a line that ends in two spaces  \nand goes on",
    "a line that ends in one space \nand goes on",
    "`code` and ``double `tick` code``",
    "an escaped \\*star\\* and a \\\\ backslash",
    "a [link](https://example.org/x) and a [reference][r]\n\n[r]: https://example.org/r",
    "an ![image](pic.png) and a short [ref]\n\n[ref]: /a",
    "a footnote[^1] here\n\n[^1]: the note",
    "an autolink <https://example.org/> and a mail <someone@example.org>",
    "entities: &amp; &#169; &#x41; & alone",
    "*em* **strong** ***both*** _em_ __strong__ snake_case_name 2 * 3",
    "テキストだけの段落です。記号はありません。",
    "中文段落，包含<尖括号>与&符号",
    "# Title\n\nsome text\n\n## Section {#sec}\n\n- item one\n- item `two`\n\n> quote *em*",
    "| a | b |\n|---|---|\n| *x* | y |\n| plain | cell |",
    "```\ncode block * not em\n```\n\ntext after [a](b)",
    "    indented code with * and _\n\ntext _after_",
    "term < 3 and > 2 but no tag",
    "trailing two spaces at the very end  ",
]


def _stock_markdown() -> markdown.Markdown:
    """Our pipeline with Python-Markdown's own inline processor put back."""
    md = _new_markdown()
    md.treeprocessors.register(InlineProcessor(md), "inline", 20)
    return md


@pytest.mark.parametrize("text", MARKDOWN_SAMPLES)
def test_quick_inline_renders_as_markdown_does(text):
    quick, stock = _new_markdown(), _stock_markdown()
    assert type(quick.treeprocessors["inline"]).__name__ == "_QuickInlineProcessor"
    assert quick.convert(text) == stock.convert(text)


def test_text_without_markers_is_not_offered_to_the_patterns():
    md = _new_markdown()
    md.convert("just words")
    assert md.treeprocessors["inline"].kb_quick is True


def test_an_unknown_inline_pattern_turns_the_shortcut_off():
    # A pattern the shortcut does not know ("zz" marks deleted text here): every text is
    # offered to every pattern again, so it still applies.
    md = _new_markdown()
    md.inlinePatterns.register(SimpleTagInlineProcessor(r"()zz(.+?)zz", "del"), "zz", 65)
    assert "<del>gone</del>" in md.convert("text zzgonezz here")
    assert md.treeprocessors["inline"].kb_quick is False


TABLE_SAMPLES = [
    *MARKDOWN_SAMPLES,
    "| one column |\n| --- |\n| row |",
    "| left border only\n|---\n| row",
    "right border only |\n---|\nrow |",
    "a | b\n--|--\n1 | 2",
    "no pipe in the first line\n| a | b |\n|---|---|\n| 1 | 2 |",
    "`a | b` | c\n---|---\nx | y",
    "\\| escaped | pipe\n---|---\nx | y",
    "| a | b |\n| not a separator |\n| 1 | 2 |",
    "   | indented | table |\n   |---|---|\n   | 1 | 2 |",
    "text before\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\ntext after",
]


def _stock_tables() -> markdown.Markdown:
    """Our pipeline with the tables extension's own block processor put back."""
    md = _new_markdown()
    md.parser.blockprocessors.register(
        TableProcessor(md.parser, md.parser.blockprocessors["table"].config), "table", 75
    )
    return md


@pytest.mark.parametrize("text", TABLE_SAMPLES)
def test_quick_table_test_renders_as_the_tables_extension_does(text):
    quick, stock = _new_markdown(), _stock_tables()
    assert type(quick.parser.blockprocessors["table"]).__name__ == "_QuickTableProcessor"
    assert type(stock.parser.blockprocessors["table"]) is TableProcessor
    assert quick.convert(text) == stock.convert(text)


def test_block_processors_are_listed_again_after_a_change():
    md = _new_markdown()
    blocks = md.parser.blockprocessors
    assert type(blocks).__name__ == "_ListedRegistry"
    before = list(blocks)
    assert [type(p).__name__ for p in before] == [
        type(blocks[i]).__name__ for i in range(len(blocks))
    ]
    paragraph = blocks["paragraph"]
    blocks.deregister("paragraph")
    assert paragraph not in list(blocks)
    blocks.register(paragraph, "paragraph", 200)
    assert list(blocks)[0] is paragraph
    # The paragraph processor now comes first and takes the table's lines as a paragraph.
    assert "<table>" not in md.convert("| a | b |\n|---|---|\n| 1 | 2 |")


@pytest.mark.parametrize("alias", ["python", "bash", "TEXT", "c", "console", "yaml", "Text"])
def test_lexer_lookup_gives_what_pygments_gives(alias):
    options = {"stripnl": False, "tabsize": 4}
    ours, theirs = _lexer_by_name(alias, **options), get_lexer_by_name(alias, **options)
    assert type(ours) is type(theirs)
    assert ours.options == theirs.options
    assert _lexer_by_name(alias) is not _lexer_by_name(alias)  # a lexer per code block


@pytest.mark.parametrize("alias", ["", None, "no-such-language-xyz"])
def test_unknown_lexer_names_raise_as_pygments_does(alias):
    with pytest.raises(ClassNotFound):
        get_lexer_by_name(alias)
    for _ in range(2):  # the second time from the memo
        with pytest.raises(ClassNotFound):
            _lexer_by_name(alias)


def test_code_blocks_with_and_without_language_render_highlighted():
    text = (
        "```python\ndef f():\n    return 1\n```\n\n```nosuchlang\nx = 1\n```\n\n    plain block\n"
    )
    html = render_document(text=text, kind="markdown").html
    assert '<span class="k">def</span>' in html
    assert html.count('<div class="codehilite">') == 3


def _symptoms_the_long_way(text: str) -> list[str]:
    """extract_symptoms as it was: the error regex on every part of every line."""
    found: list[str] = []
    for raw in text.split("\n"):
        for part in re.split(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]+", raw):
            line = part.strip().strip("`").strip().rstrip(".")
            if not 12 <= len(line) <= 240 or not _ERROR_LINE.search(line):
                continue
            if line.startswith(("#", "//", "-", "*", ">")) or _SHELL_CODE.search(line):
                continue
            if not any(line in earlier for earlier in found):
                found.append(line)
        if len(found) >= MAX_SYMPTOMS:
            break
    return found[:MAX_SYMPTOMS]


SYMPTOM_SAMPLES = [
    "nothing wrong here\njust prose",
    "ERROR: something went wrong badly\nWarning: disk almost full now\n",
    "mount.nfs: access DENIED by server while mounting\nconnection Timed Out after 30s",
    "Segmentation fault (core dumped) in worker\nbus error at address 0x0",
    "運行時報錯：Zend OPcache huge_code_pages: mmap failed\n这是一行中文",
    "cannot open shared object file: No such file\nthe file was not found on disk",
    "403 Forbidden returned by the proxy server\nunsupported type in field spec",
    # Letters that case folding matches to ASCII but lower() does not: the regex still finds
    # these, so must the shortcut.
    "ſegmentation fault (core dumped) in the worker",
    "the request faİled with code 7 here",
    "permıssion denıed by policy on mount",
    "argument list too long for /bin/sh exec",
    "\n".join(f"line {n}: operation failed with code {n}" for n in range(40)),
]


@pytest.mark.parametrize("text", SYMPTOM_SAMPLES)
def test_symptoms_are_what_the_regex_finds_on_every_line(text):
    assert extract_symptoms(text) == _symptoms_the_long_way(text)


def test_symptoms_with_folding_letters_are_found():
    assert extract_symptoms("ſegmentation fault (core dumped) in the worker") == [
        "ſegmentation fault (core dumped) in the worker"
    ]


def _too_nested_the_long_way(text: str) -> bool:
    for line in text.splitlines():
        if line.count("[") + line.count("(") > MAX_BRACKETS_PER_LINE:
            return True
        if len(re.match(r"^[ \t>*+-]*", line).group(0)) > MAX_NESTING_COLUMNS:
            return True
    return False


DEEP = "> " * (MAX_NESTING_COLUMNS // 2) + "* x"  # 240 columns, then a marker: 241
SHALLOW = " " * MAX_NESTING_COLUMNS + "x"
NESTING_SAMPLES = [
    "plain text",
    DEEP,
    SHALLOW,
    "first line\n" + DEEP,
    "first line\u2028" + DEEP,  # a line separator str.splitlines cuts at
    "first line\x0c" + DEEP,
    "first line\r\n" + DEEP,
    "first line\r" + SHALLOW,
    "[" * (MAX_BRACKETS_PER_LINE + 1),
    "(" * MAX_BRACKETS_PER_LINE,
    "\n".join(["[" * 200] * 3),  # many brackets, but no line over the limit
    "[" * 200 + "\u2028" + "(" * 100,
    "[" * 200 + "(" * 57,
]


@pytest.mark.parametrize("text", NESTING_SAMPLES)
def test_nesting_check_agrees_with_the_line_by_line_check(text):
    assert too_nested(text) == _too_nested_the_long_way(text)


def test_nesting_samples_cover_both_answers():
    answers = {_too_nested_the_long_way(text) for text in NESTING_SAMPLES}
    assert answers == {True, False}


def _front_matter_the_long_way(text: str):  # noqa: ANN202
    """parse_front_matter as it was: every text's events read for aliases before loading."""
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise FrontMatterError("aliases", line=event.start_mark.line + 2)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return ("error", f"invalid YAML: {exc.problem or exc}", mark.line + 2 if mark else None)
    except FrontMatterError:
        # parse_front_matter reports it as an invalid value, without a line (as before).
        return ("error", "aliases", None)
    return _front_matter_now(text)


def _front_matter_now(text: str):  # noqa: ANN202
    try:
        return ("ok", vars(parse_front_matter(text)))
    except FrontMatterError as exc:
        message = "aliases" if "aliases" in str(exc) else str(exc)
        return ("error", message, exc.line)


FRONT_MATTER_SAMPLES = [
    "title: A title\nlang: en\ntags: [a, b]",
    "title: [unclosed\nlang: en",
    "title: 'unclosed\n",
    "a: b\n  c: d\n",
    "title: x\n\tlang: en",
    "x: &x value\ny: *x",
    "x: &x value\nx2: &x other\ntitle: [broken",
    "title: a * b & c",
    "- a\n- b",
    "",
]


@pytest.mark.parametrize("text", FRONT_MATTER_SAMPLES)
def test_front_matter_reads_as_with_the_alias_pass(text):
    assert _front_matter_now(text) == _front_matter_the_long_way(text)


def test_aliases_are_still_refused():
    with pytest.raises(FrontMatterError, match="aliases"):
        parse_front_matter("x: &x value\nitems:\n  - *x\n")
