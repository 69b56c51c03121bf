"""Tree validation: each broken file is refused with an error naming its file and line."""

import textwrap
from pathlib import Path

import pytest

from troubleshooter.diagnosis import TreeError, load_tree, localize

ARTICLES = {"known-article"}

VALID = """\
start: start
nodes:
  - id: start
    kind: question
    text: {en: Which one?, ja: どれですか？, zh: 哪一个？}
    options:
      - label: The known one
        goto: known-cause
        when: [marker]
      - label: Something else
        goto: not-ours
  - id: known-cause
    kind: cause
    title: A known cause
    article: known-article
    section: fix
  - id: not-ours
    kind: not-covered
    title: Not ours
    advice: Look elsewhere.
signatures:
  - id: known-error
    phrase: "widget {name} exploded"
    goto: start
    examples: ["widget w1 exploded"]
    near_misses: ["widget w1 is fine"]
"""


def write(tmp_path: Path, text: str, name: str = "tree.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(TreeError) as caught:
        load_tree([path], known_articles=ARTICLES)
    return [str(problem) for problem in caught.value.problems]


def test_it_loads_a_valid_tree(tmp_path):
    tree = load_tree([write(tmp_path, VALID)], known_articles=ARTICLES)
    assert tree.start == "start"
    assert tree.node("known-cause").article == "known-article"
    assert [s.id for s in tree.signatures] == ["known-error"]


def test_it_picks_the_text_of_the_language_and_falls_back_to_english(tmp_path):
    tree = load_tree([write(tmp_path, VALID)], known_articles=ARTICLES)
    start = tree.node("start")
    assert localize(start, "ja").text == "どれですか？"
    assert localize(start, "zh").text == "哪一个？"
    assert localize(start, "en").text == "Which one?"
    # Options without translations keep their English label.
    assert localize(start, "ja").options[0].label == "The known one"


def test_the_real_tree_has_every_text_in_three_languages():
    tree = load_tree()
    for node in tree.nodes.values():
        for key, texts in node.i18n.items():
            assert set(texts) == {"en", "ja", "zh"}, (node.id, key)
        for option in getattr(node, "options", ()):
            assert set(option.i18n["label"]) == {"en", "ja", "zh"}, (node.id, option.target)


# (text to replace, replacement, text on the line the error must name, message)
@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        ("article: known-article", "article: no-such", "article: no-such", "unknown article slug"),
        ("goto: not-ours", "goto: nowhere", "goto: nowhere", "unknown node 'nowhere'"),
        (
            "goto: start\n    examples",
            "goto: ghost\n    examples",
            "id: known-error",
            "'ghost'",
        ),
        (
            "goto: start\n    examples",
            "goto: known-cause\n    examples",
            "id: known-error",
            "list the string under 'symptoms' of the article",
        ),
        ("ja: どれですか？", "ja: ''", "ja: ''", "text.ja must be a non-empty string"),
        ("ja: どれですか？", "fr: Lequel ?", "fr: Lequel", "unknown language 'fr'"),
        (
            "- id: not-ours",
            "- id: known-cause",
            "- id: known-cause\n    kind: not",
            "duplicate node",
        ),
        ('examples: ["widget w1 exploded"]', "examples: []", "examples: []", "has no example"),
        (
            'near_misses: ["widget w1 is fine"]',
            "near_misses: []",
            "near_misses: []",
            "no near miss",
        ),
        (
            'phrase: "widget {name} exploded"',
            "regex: 'widget ('\n    anchors: [w]",
            "regex:",
            "bad regex",
        ),
        (
            # Lines are read with no closing long-vowel mark on a katakana word and a space
            # between CJK and Latin: a regex spelled otherwise could never match.
            'phrase: "widget {name} exploded"',
            "regex: 'ウィジェットエラー'\n    anchors: [ウィジェット]",
            "regex:",
            "write the regex as the diagnosis reads a line: 'ウィジェットエラ'",
        ),
        (
            'phrase: "widget {name} exploded"',
            "regex: '挂载failed'\n    anchors: [挂载]",
            "regex:",
            "write the regex as the diagnosis reads a line: '挂载 failed'",
        ),
        (
            # A signature's `context` words once raised its confidence; nothing has read them
            # since causes came from the articles, so the key is refused rather than ignored.
            "goto: start\n    examples",
            "goto: start\n    context: [kubernetes]\n    examples",
            "context:",
            "has unknown key 'context'",
        ),
        ("- id: known-cause\n", "- id: Known_Cause\n", "Known_Cause", "not kebab-case"),
        ("section: fix", "section: appendix", "section: appendix", "unknown section 'appendix'"),
        ("kind: not-covered", "kind: maybe", "kind: maybe", "node kind 'maybe'"),
        ("title: Not ours", "title: Not ours\n    title: Twice", "title: Twice", "duplicate key"),
        ("start: start", "start: missing", "start: missing", "start node 'missing' does not exist"),
    ],
)
def test_it_names_file_and_line_for_each_broken_case(tmp_path, old, new, marker, message):
    assert old in VALID
    broken = VALID.replace(old, new, 1)
    line = broken[: broken.index(marker)].count("\n") + 1
    found = problems(tmp_path, broken)
    expected = f"{tmp_path / 'tree.yaml'}:{line}: "
    assert any(p.startswith(expected) and message in p for p in found), (expected, found)


def test_it_refuses_unreachable_nodes(tmp_path):
    orphan = VALID.replace(
        "signatures:",
        "  - id: orphan\n    kind: not-covered\n    title: Lost\n    advice: None.\nsignatures:",
    )
    found = problems(tmp_path, orphan)
    line = orphan[: orphan.index("- id: orphan")].count("\n") + 1
    assert any(f":{line}: " in p and "'orphan' is unreachable" in p for p in found), found


def test_it_refuses_cycles(tmp_path):
    cyclic = VALID.replace(
        "signatures:",
        "  - id: loop-a\n    kind: question\n    text: A?\n    options:\n"
        "      - {label: to b, goto: loop-b}\n      - {label: out, goto: not-ours}\n"
        "  - id: loop-b\n    kind: question\n    text: B?\n    options:\n"
        "      - {label: to a, goto: loop-a}\n      - {label: out, goto: not-ours}\n"
        "signatures:",
    ).replace("goto: not-ours\n  - id: known-cause", "goto: loop-a\n  - id: known-cause")
    found = problems(tmp_path, cyclic)
    assert any("cycle: " in p and "loop-a" in p and "loop-b" in p for p in found), found


def test_it_reports_every_problem_at_once(tmp_path):
    broken = VALID.replace("article: known-article", "article: nope").replace(
        "goto: not-ours", "goto: nowhere"
    )
    assert len(problems(tmp_path, broken)) >= 2


def test_it_names_the_file_among_several(tmp_path):
    first = write(tmp_path, VALID, "a.yaml")
    second = write(
        tmp_path,
        "nodes:\n  - id: start\n    kind: not-covered\n    title: T\n    advice: A.\n",
        "b.yaml",
    )
    with pytest.raises(TreeError) as caught:
        load_tree([first, second], known_articles=ARTICLES)
    assert any(
        str(p).startswith(f"{second}:2: duplicate node id 'start'") for p in caught.value.problems
    )


def test_it_reports_yaml_syntax_errors_with_their_line(tmp_path):
    found = problems(tmp_path, VALID + "  - id: [unclosed\n")
    assert any(p.startswith(f"{tmp_path / 'tree.yaml'}:") and "YAML" in p for p in found), found


@pytest.mark.parametrize(
    ("phrase", "line"),
    [
        ("バスエラー", "バスエラ (コアダンプ)"),
        ("バスエラ", "バスエラー (コアダンプ)"),
        ("掛載失敗", "nfs 挂载失败"),
        ("挂载失败", "NFS 掛載失敗"),
    ],
)
def test_a_phrase_is_read_as_the_lines_it_is_matched_with(tmp_path, phrase, line):
    """A tree phrase is spelled as the diagnosis reads a pasted line (a katakana word's
    closing mark, Traditional Chinese): either spelling of the phrase finds either of the
    line. Before, "バスエラー" in the tree never matched, as every line lost that mark."""
    from troubleshooter.diagnosis.evidence import prepare

    text = VALID.replace('phrase: "widget {name} exploded"', f'phrase: "{phrase}"').replace(
        'examples: ["widget w1 exploded"]', f'examples: ["{line}"]'
    )
    (signature,) = load_tree([write(tmp_path, text)], known_articles=ARTICLES).signatures
    assert any(signature.pattern.search(n) for n in prepare(line).normalized)
