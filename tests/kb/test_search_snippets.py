"""The best section of a hit and its snippet: which words are marked, and where."""

from __future__ import annotations

import html
import random
import re

from kb.search.snippets import _marked, best_section, needles


def test_it_marks_whole_latin_words_only() -> None:
    sections = [("a", "A", "xpod pods pod_x sub-pod Pod")]
    _, _, snippet = best_section(sections, needles("pod"))
    assert snippet == "xpod pods pod_x sub-<mark>pod Pod</mark>"


def test_it_marks_cjk_bigrams_inside_words() -> None:
    sections = [("a", "A", "ノードの巨页面设置")]
    _, _, snippet = best_section(sections, needles("巨页"))
    assert snippet == "ノードの<mark>巨页</mark>面设置"


def test_it_keeps_offsets_when_lower_case_changes_the_length() -> None:
    # "İ".lower() is two characters: the text is searched as written.
    sections = [("a", "A", "İİİ envsubst Argument list too long")]
    _, _, snippet = best_section(sections, needles("envsubst argument"))
    assert snippet == "İİİ <mark>envsubst Argument</mark> list too long"


def test_it_picks_the_section_with_the_most_distinct_words() -> None:
    sections = [
        ("intro", "Intro", "pod pod pod pod"),
        ("cause", "Cause", "the pod hit the max pods limit"),
        ("fix", "Fix", "nothing here"),
    ]
    assert best_section(sections, needles("pod limit"))[:2] == ("cause", "Cause")


def test_the_window_holds_the_densest_run_of_matches() -> None:
    text = "envsubst " + "filler " * 100 + "argument list too long envsubst"
    _, _, snippet = best_section([("a", "A", text)], needles("envsubst argument list too long"))
    assert snippet.startswith("… ") and "<mark>argument list too long envsubst</mark>" in snippet


def _escaped_piece_by_piece(text: str, found: list[tuple[int, int]], start: int, end: int) -> str:
    """The window as snippets were written before `_marked`: each piece escaped alone."""
    pieces, cursor = [], start
    for match_start, match_end in found:
        if match_start >= end:
            break
        if match_start < cursor or match_end > end:
            continue
        pieces.append(html.escape(text[cursor:match_start]))
        pieces.append(f"<mark>{html.escape(text[match_start:match_end])}</mark>")
        cursor = match_end
    pieces.append(html.escape(text[cursor:end]))
    return re.sub(r"</mark>(\s*)<mark>", r"\1", "".join(pieces).replace("\n", " "))


def test_a_window_escaped_at_once_reads_as_escaped_piece_by_piece() -> None:
    rng = random.Random(14)
    # Markup characters, line breaks, spaces between marks, and the two characters that
    # stand for a mark's ends before escaping (a window holding one takes the slow path).
    alphabet = "ab <>&\"'\n\t é页" * 4 + "\x00\x01"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        start = rng.randint(0, len(text) - 1)
        end = rng.randint(start, len(text))
        found, position = [], start
        while position < len(text) and len(found) < 12:
            position += rng.randint(0, 6)
            length = rng.randint(1, 4)
            if position + length <= len(text):
                found.append((position, position + length))
            position += length + rng.randint(-2, 3)  # overlaps too, as bigrams overlap
        found.sort()
        assert _marked(text, found, start, end) == _escaped_piece_by_piece(
            text, found, start, end
        ), (text, found, start, end)
