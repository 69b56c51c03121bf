"""A chunk nested too deep is refused as before the builder ran first (parse._parse_stream).

The builder now runs before `_check_depth`, which runs only when the builder stops on a
collection too deep, a syntax error or an anchor; each expectation below is what `main` at
9bbee6f (depth check first) reported for the same input.
"""

from __future__ import annotations

import pytest

from troubleshooter.analyzer import Limits, analyze_manifest

DEEP_FLOW = "a: " + "[" * 150 + "]" * 150 + "\n"
DEEP_COMPACT = "- " * 150 + "x\n"

CASES = {
    # An earlier refusal in the same document does not hide the depth refusal.
    "tag-then-deep": (
        "a: !!python/name:os.system x\nb: " + "[" * 150 + "]" * 150 + "\n",
        [(2, 103, "too-deep", "error")],
    ),
    "long-value-then-compact-deep": (
        "a: " + "v" * 80 + "\nb:\n  " + DEEP_COMPACT,
        [(3, 201, "too-deep", "error")],
    ),
    # The depth refusal wins over a syntax error later in the chunk.
    "deep-then-syntax": (DEEP_FLOW + "b: c\n d: e\n", [(1, 103, "too-deep", "error")]),
    # An anchor sends the chunk to the composer, which recurses: refused before it.
    "deep-with-anchor": ("x: &a 1\ny: *a\n" + DEEP_FLOW, [(3, 103, "too-deep", "error")]),
    "compact-deep": (DEEP_COMPACT, [(1, 201, "too-deep", "error")]),
    "deep-then-ok-doc": (
        DEEP_FLOW + "---\nkind: ConfigMap\nmetadata: {name: x}\na: 1\na: 2\n",
        [(1, 103, "too-deep", "error"), (6, 1, "duplicate-key", "note")],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_it_refuses_a_deep_chunk_as_the_depth_check_did(name) -> None:
    text, expected = CASES[name]
    report = analyze_manifest(text=text, limits=Limits(max_scalar_bytes=60))
    assert [(e.line, e.column, e.message_key, e.severity) for e in report.errors] == expected


def test_it_stops_at_the_deep_collection_after_a_refusal() -> None:
    # A refused document is still walked for its depth: a million nested items after an
    # unsupported tag stop at the 101st level, not at the end of the text.
    text = "a: !!python/name:os.system x\nb:\n" + "- " * 500_000 + "x\n"
    report = analyze_manifest(text=text)
    assert [(e.line, e.column, e.message_key) for e in report.errors] == [(3, 199, "too-deep")]
