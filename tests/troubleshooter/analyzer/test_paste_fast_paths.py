"""The shortcuts that make a paste-sized analysis cheap answer exactly as the long way did.

Each shortcut replaced a slower form of the same test (bench/RESULTS.md, Analysis); these
tests hold the fast form to the slow one on the inputs where they could part: separators at
the edges of the text, runs of blanks with and without tabs, the node budget and the deadline
inside a document, and the template memo.
"""

import re
import time

import pytest
import yaml

from troubleshooter.analyzer import Limits, analyze_manifest, registry
from troubleshooter.analyzer import messages as messages_module
from troubleshooter.analyzer.parse import (
    DocumentRefused,
    _build_from_events,
    _Converter,
    _could_be_deep,
    _has_content,
    _Loader,
    _next_check,
    split_documents,
)
from troubleshooter.analyzer.results import ParseError
from troubleshooter.analyzer.tree import plain

# The slow forms, as they were before the shortcuts.
SEPARATOR = re.compile(r"^---(?=[ \t]|$)", re.MULTILINE)
DEEP_INDENT = re.compile(r"^[ \t]{40,}+\S", re.MULTILINE)
COMPACT_RUN = re.compile(r"(?:[-?:][ \t]++){20,}")
CONTENT = re.compile(r"^[ \t]*+[^\s#]", re.MULTILINE)


def separators_slowly(text):
    return [match.start() for match in SEPARATOR.finditer(text)]


@pytest.mark.parametrize(
    "text",
    [
        "---",
        "---\n",
        "--- \na: 1\n",
        "---\ta: 1",
        "----\na: 1\n",
        "a: 1\n---",
        "a: 1\n---\n---\n---x\n--- # c\nb: 2\n",
        " ---\na: 1\n",
        "a: |\n  ---\n---\nb: 1\n",
        "",
        "\n---\n\n---",
    ],
)
def test_documents_split_at_the_same_separator_lines(text):
    chunks = split_documents(text)
    starts = separators_slowly(text)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    assert [chunk for _, chunk in chunks] == [
        text[start:end] for start, end in zip(starts, starts[1:] + [len(text)], strict=True)
    ]


def could_be_deep_slowly(text):
    return DEEP_INDENT.search(text) is not None or COMPACT_RUN.search(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n",
        " " * 39 + "x\n",
        " " * 40 + "x\n",
        " " * 40 + "\n",
        "\t" * 40 + "x\n",
        " " * 20 + "\t" * 20 + "x\n",
        "- " * 19 + "x\n",
        "- " * 20 + "x\n",
        "a: " + ": " * 19 + "x",
        "? \t" * 20,
        "-" * 40 + "\n",
        ("- " * 10 + "x\n") * 5,
    ],
)
def test_the_depth_precheck_gives_the_same_verdict(text):
    assert _could_be_deep(text) == could_be_deep_slowly(text)


@pytest.mark.parametrize(
    "chunk",
    ["---", "---\n", "--- # c\n  # x\n\n", "---\nfoo: 1\n", "--- a", "--- #c\n  a: 1", "a: 1"],
)
def test_a_chunk_has_content_as_before(chunk):
    body = chunk
    slow = None
    if body.startswith("---"):
        end = body.find("\n")
        first = body[3:end] if end >= 0 else body[3:]
        if first.strip() and not first.strip().startswith("#"):
            slow = True
        body = body[end + 1 :] if end >= 0 else ""
    if slow is None:
        slow = CONTENT.search(body) is not None
    assert _has_content(chunk) == slow


def test_the_budget_and_clock_are_looked_at_on_every_count_that_can_stop_a_document():
    for budget, timed in ((5_000, True), (10_000, True), (8_192, True), (9_000, False)):
        due = {n for n in range(1, 20_000) if n > budget or (timed and not n % 4096)}
        seen = set()
        check_at = _next_check(0, budget, timed)
        for nodes in range(1, 20_000):
            if nodes >= check_at:
                assert nodes == check_at
                seen.add(nodes)
                if nodes > budget:
                    break
                check_at = _next_check(nodes, budget, timed)
        assert min(n for n in due) in seen
        assert {n for n in due if n <= budget + 1} == seen


def refusal_by_composer(chunk, *, budget, deadline):
    converter = _Converter(base=0, limits=Limits(), budget=budget, errors=[], deadline=deadline)
    node = yaml.compose(chunk, Loader=_Loader)
    try:
        return plain(converter.convert(node, 0))
    except DocumentRefused as refused:
        said = refused.said
        return ParseError(
            refused.line,
            refused.column,
            said["message"],
            message_key=said.get("message_key"),
            message_args=said.get("message_args") or {},
        )


@pytest.mark.parametrize("deadline", [None, -1.0])
@pytest.mark.parametrize("budget", [60, 5_000, 100_000])
def test_the_event_builder_stops_a_document_where_the_composer_does(budget, deadline):
    chunk = "items:\n" + "".join(f"  - {{name: v{i}, size: {i}}}\n" for i in range(1_500))
    when = None if deadline is None else time.monotonic() + deadline
    built = _build_from_events(chunk, base=0, limits=Limits(), budget=budget, deadline=when)
    result = built[0]
    expected = refusal_by_composer(chunk, budget=budget, deadline=when)
    if isinstance(expected, ParseError):
        assert result == expected
    else:
        assert plain(result) == expected
    if budget == 100_000 and deadline is not None:
        assert "ran out of time" in result.message  # the 4096th node, past the deadline


def test_a_document_after_a_refused_one_in_the_same_chunk_is_built_afresh():
    chunk = "a: [1, 2, 3, 4]\n...\n---\nb: 1\n"
    built = _build_from_events(chunk, base=0, limits=Limits(), budget=3, deadline=None)
    assert isinstance(built[0], ParseError)
    assert plain(built[1]) == {"b": 1}


def test_the_template_memo_hands_out_sets_that_callers_may_change():
    template = "httpd serves {root} from {volume}."
    fields = messages_module.template_fields(template)
    fields.add("intruder")
    assert messages_module.template_fields(template) == {"root", "volume"}
    assert messages_module.render(template, {"root": "/srv", "volume": "'data'"}) == (
        "httpd serves /srv from 'data'."
    )
    assert messages_module.render(template, {"root": "/srv"}) is None
    assert messages_module.template_fields("{a!r}") is None


def test_inline_suppressions_still_apply_and_only_where_written():
    example = registry.get("run-as-non-root").FAILING_EXAMPLE
    first = analyze_manifest(text=example).findings[0]
    assert first.check == "run-as-non-root" and not first.suppressed
    lines = example.split("\n")
    lines[first.line - 1] += "  # kb-ignore: run-as-non-root the image drops root itself"
    report = analyze_manifest(text="\n".join(lines))
    silenced = [f for f in report.findings if f.suppressed]
    assert [(f.check, f.line) for f in silenced] == [("run-as-non-root", first.line)]
    assert silenced[0].suppression_reason == "the image drops root itself"
