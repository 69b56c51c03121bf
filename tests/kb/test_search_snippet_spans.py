"""Where the query's words are found in a section: whole Latin words, CJK bigrams anywhere."""

from __future__ import annotations

import random
import re

from kb.search.snippets import best_section, needles


def _reference(words: list[str], text: str) -> list[tuple[int, int]]:
    """Every whole-word occurrence, case ignored, found one position at a time."""
    found = []
    position = 0
    lowered = text.lower()
    while position < len(text):
        for word in sorted(words, key=len, reverse=True):
            end = position + len(word)
            if (
                lowered.startswith(word, position)
                and (
                    position == 0
                    or not (lowered[position - 1].isalnum() or lowered[position - 1] == "_")
                )
                and (end == len(text) or not (lowered[end].isalnum() or lowered[end] == "_"))
            ):
                found.append((position, end))
                position = end
                break
        else:
            position += 1
    return found


def test_a_word_counts_only_where_no_word_character_comes_before_it() -> None:
    text = "pod xpod _pod 3pod épod Pod-pod (pod) pod_ pods"
    spans = needles("pod").spans(text)
    assert [text[start:end] for start, end in spans] == ["pod", "Pod", "pod", "pod"]
    assert spans[0] == (0, 3)


def test_the_matches_are_those_of_a_plain_scan_on_random_text() -> None:
    rng = random.Random(4711)
    vocabulary = ["node", "Node", "ip", "IP", "list", "lists", "x", "_", "-", " ", "é", "3", "\n"]
    words = ["node", "ip", "list"]
    pattern = needles("node list ip")
    for _ in range(300):
        text = "".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 40)))
        assert pattern.spans(text) == _reference(words, text), text


def test_distinct_words_are_counted_as_written() -> None:
    # "pod POD" holds two distinct spellings, "pod pod pod" one: the first section wins,
    # although the second has more matches.
    sections = [("many", "Many", "pod pod pod"), ("two", "Two", "pod POD")]
    assert best_section(sections, needles("pod"))[0] == "two"


def test_cjk_bigrams_are_found_inside_words_and_do_not_overlap() -> None:
    text = "巨页面巨页"
    spans = needles("巨页 页面").spans(text)
    assert spans == [(0, 2), (3, 5)]
    assert re.sub(r"\s", "", best_section([("a", "A", text)], needles("巨页"))[2]) == (
        "<mark>巨页</mark>面<mark>巨页</mark>"
    )
