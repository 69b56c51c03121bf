"""Rendering: anchors, footnotes, tables, highlighting, sanitizing, scraped plain text."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kb.rendering import looks_like_markdown, render_document, split_sections

FIXTURES = Path(__file__).parent / "fixtures" / "docs" / "good"


def test_it_gives_headings_readable_unique_anchors():
    text = (
        "# Title\n\n## Symptoms\n\na\n\n## Symptoms\n\nb\n\n## 原因と対処\n\nc\n\n## 原因と対処\n"
    )
    rendered = render_document(text=text, kind="markdown")
    ids = [entry["id"] for entry in rendered.toc]
    assert ids == ["title", "symptoms", "symptoms-2", "原因と対処", "原因と対処-2"]
    assert [entry["level"] for entry in rendered.toc] == [1, 2, 2, 2, 2]
    assert '<h2 id="symptoms">Symptoms<a class="anchor" href="#symptoms"' in rendered.html


def test_it_renders_footnotes_tables_and_highlighted_code_with_classes_only():
    rendered = render_document(
        text=(FIXTURES / "hugepages-pending.md").read_text(), kind="markdown"
    )
    assert 'class="footnote"' in rendered.html
    assert 'href="#fn:alloc"' in rendered.html
    assert "<table>" in rendered.html and "<td>vm.nr_hugepages</td>" in rendered.html
    assert '<div class="codehilite">' in rendered.html
    assert '<span class="nt">resources</span>' in rendered.html
    assert "style=" not in rendered.html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src="x.png" onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        '<div style="position:fixed" onclick="steal()">raw</div>',
        "[click](javascript:alert(1))",
        "![pic](javascript:alert(1))",
        '<iframe src="https://evil.example"></iframe>',
    ],
)
def test_it_never_lets_scripts_handlers_or_raw_html_through(hostile):
    for kind in ("markdown", "plain"):
        parser = _TagCollector()
        parser.feed(render_document(text=f"Intro text.\n\n{hostile}\n\nEnd.", kind=kind).html)
        tags = {tag for tag, _ in parser.tags}
        assert not tags & {"script", "iframe", "div", "style"}, (kind, parser.tags)
        for tag, attributes in parser.tags:
            for name, value in attributes:
                assert not name.startswith("on") and name != "style", (kind, tag, name)
                if name in ("href", "src"):
                    assert not (value or "").lower().startswith("javascript"), (kind, tag)


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def test_it_escapes_raw_html_in_markdown_as_visible_text():
    html = render_document(text="Use <b>bold</b> here.", kind="markdown").html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_it_marks_external_links_noopener():
    html = render_document(text="[docs](https://kubernetes.io/docs/)", kind="markdown").html
    assert '<a href="https://kubernetes.io/docs/" rel="noopener noreferrer">docs</a>' in html


def test_it_finds_unfenced_yaml_and_shell_in_scraped_text():
    text = (FIXTURES / "service-links-scraped.txt").read_text()
    assert not looks_like_markdown(text)
    rendered = render_document(text=text, kind="plain")
    assert '<pre class="plain-code"><code>apiVersion: apps/v1\nkind: Deployment\n' in rendered.html
    assert "<code>$ kubectl apply -f web.yaml\n$ kubectl get pods\nNAME READY" in rendered.html
    assert "envsubst: Argument list too long</code></pre>" in rendered.html
    # Wrapped Japanese lines are joined without a space.
    assert (
        "<p>こんにちは。今回は検証環境で出会った不思議な起動失敗について書きます。</p>"
        in rendered.html
    )
    assert [e["id"] for e in rendered.toc][1:] == ["1-起きたこと", "2-対処", "3-まとめ"]


def test_it_keeps_a_shell_comment_in_scraped_text_from_looking_like_markdown():
    text = "Setup\n\n# create the group\naz group create --name rg\n"
    assert not looks_like_markdown(text)
    assert looks_like_markdown("# Title\n\nbody")
    assert looks_like_markdown("text\n\n```\ncode\n```\n")


def test_it_splits_sections_with_the_intro_under_an_empty_id():
    text = "Before any heading.\n\n## First\n\nOne **bold** word.\n\n### Deeper\n\nTwo.\n"
    sections = split_sections(render_document(text=text, kind="markdown").html)
    assert [(s.id, s.title, s.level) for s in sections] == [
        ("", "", 0),
        ("first", "First", 2),
        ("deeper", "Deeper", 3),
    ]
    assert sections[0].text == "Before any heading."
    assert sections[1].text == "One bold word."


def test_it_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown document kind"):
        render_document(text="x", kind="rst")


# Beside the repository, or where KB_SEEDS_DIR says (as in tests/conftest.py).
SEEDS = Path(
    os.environ.get("KB_SEEDS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "seeds"
).resolve()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seeds folder is not beside the repository")
def test_it_renders_the_scraped_seeds_with_code_blocks_and_sections():
    text = (SEEDS / "002_c2db910eea9848ae.txt").read_text()
    rendered = render_document(text=text, kind="plain")
    titles = [e["title"] for e in rendered.toc]
    assert titles[0] == "0. はじめに" and "7. さいごに" in titles
    assert {e["level"] for e in rendered.toc} == {2, 3, 4}
    assert "<code>apiVersion: v1\nkind: PersistentVolume\nmetadata:\n" in rendered.html
    assert "<code>$ kubectl get node\nNAME STATUS ROLES AGE VERSION\n" in rendered.html


def test_it_renders_normally_after_a_document_that_failed_half_way():
    import inspect
    import sys

    # Absurd nesting exhausts the recursion limit inside Markdown's block parser. Lowering the
    # limit for this test reaches that state in milliseconds instead of seconds.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 120)
    try:
        deep = "\n".join("  " * depth + "- x" for depth in range(110))
        with pytest.raises(RecursionError):
            render_document(text=deep, kind="markdown")
    finally:
        sys.setrecursionlimit(limit)
    html = render_document(text="[docs](https://kubernetes.io/docs/)", kind="markdown").html
    assert '<a href="https://kubernetes.io/docs/" rel="noopener noreferrer">docs</a>' in html


@pytest.mark.parametrize(
    "text",
    [
        "[" * 20_000 + "x",
        "(" * 5_000 + "[a](b)",
        "\n".join("  " * depth + "- x" for depth in range(300)),
        "> " * 5_000 + "deep quote",
    ],
    ids=["brackets", "parentheses", "nested-list", "nested-quote"],
)
def test_it_shows_absurdly_nested_markdown_as_escaped_plain_text(text):
    rendered = render_document(text=text, kind="markdown")
    assert "<pre" in rendered.html or "<p>" in rendered.html
    assert "<a " not in rendered.html and "<li>" not in rendered.html


def test_it_keeps_explicit_heading_anchors_for_translations():
    rendered = render_document(
        text="# 題名\n\n## 症状 {#symptoms}\n\n本文。\n\n## 原因 {#cause}\n\n## 原因 {#cause}\n\n"
        "## Bad {#Not_Valid!}\n",
        kind="markdown",
    )
    ids = [entry["id"] for entry in rendered.toc]
    assert ids[1:3] == ["symptoms", "cause"]
    # A repeated or malformed explicit id falls back to a generated, unique one.
    assert ids[3] != "cause" and len(set(ids)) == len(ids)
    assert "{#" not in rendered.html and 'id="Not_Valid!"' not in rendered.html


def test_it_shows_a_placeholder_instead_of_loading_any_image():
    rendered = render_document(
        text="See ![node memory](meminfo.png) and ![](https://example.com/tracker.gif).\n",
        kind="markdown",
    )
    assert "<img" not in rendered.html and "example.com" not in rendered.html
    assert '<span class="image-missing">[Image not included: node memory]</span>' in rendered.html
    assert "[Image not included: tracker.gif]" in rendered.html
