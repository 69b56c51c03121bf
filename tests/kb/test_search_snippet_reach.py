"""Snippets computed with less work give what the plain computation gives."""

from __future__ import annotations

import html
import random
import re

from kb.search import snippets
from kb.search.snippets import (
    LEAD_CHARS,
    SNIPPET_CHARS,
    WINDOW_CANDIDATES,
    needles,
    snippet_at,
)

WORDS = ["node", "Node", "list", "ip", "pod", "filler", "other", "x", "\n", "巨页", "设置", "页面"]


def _plain_window(found: list[tuple[int, int]]) -> tuple[int, int]:
    """(window start, anchor) counted over every match, the first best window winning."""
    best, chosen = -1, (0, 0)
    for position, _ in found[:WINDOW_CANDIDATES]:
        start = max(0, position - LEAD_CHARS)
        count = sum(1 for s, _ in found if start <= s < start + SNIPPET_CHARS)
        if count > best:
            best, chosen = count, (start, position)
    return chosen


def test_the_window_is_the_one_counted_over_every_match() -> None:
    rng = random.Random(14)
    for _ in range(300):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 1500)))
        for query in ("node list ip", "pod", "巨页 设置", "node"):
            found = needles(query).spans(text)
            if not found:
                continue
            start, anchor = _plain_window(found)
            snippet = snippet_at(text, found)
            # The snippet shows the text from the chosen window (moved off a word's middle).
            first = snippets._word_start(text, start, anchor)  # noqa: SLF001
            shown = re.sub(r"</?mark>", "", snippet).removeprefix("… ").removesuffix(" …")
            expected = html.escape(text[first : first + SNIPPET_CHARS]).replace("\n", " ")
            assert shown == expected.strip(), (query, text[:80])


def test_matches_past_the_reach_change_no_snippet() -> None:
    text = "node " * 100 + "filler " * 60 + "node list ip " * 50
    found = needles("node list ip").spans(text)
    assert len(found) > WINDOW_CANDIDATES
    reach = found[WINDOW_CANDIDATES - 1][0] + SNIPPET_CHARS
    within = [span for span in found if span[0] < reach]
    assert len(within) < len(found)
    assert snippet_at(text, found) == snippet_at(text, within)
