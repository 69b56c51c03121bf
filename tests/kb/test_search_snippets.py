"""The best section of a hit and its snippet: which words are marked, and where."""

from __future__ import annotations

from kb.search.snippets import best_section, needles


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
