"""Translations of the curated articles: front matter, anchors and code match the original."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ARTICLES_DIR = Path(__file__).resolve().parents[2] / "articles"
LANGS = ("ja", "zh")
ORIGINALS = sorted(p for p in ARTICLES_DIR.glob("*.md") if p.name.count(".") == 1)
TRANSLATION_KEYS = {"title", "translation_of", "lang", "summary", "translated_from"}
HEADINGS = {
    "ja": {
        "symptoms": "症状",
        "cause": "原因",
        "fix": "対処",
        "confirm": "確認",
        "prevent": "予防",
        "references": "参考資料",
    },
    "zh": {
        "symptoms": "症状",
        "cause": "原因",
        "fix": "解决方法",
        "confirm": "验证",
        "prevent": "预防",
        "references": "参考资料",
    },
}
EN_ANCHORS = {
    "Symptoms": "symptoms",
    "Cause": "cause",
    "Fix": "fix",
    "Confirm": "confirm",
    "Prevent": "prevent",
    "References": "references",
}
FENCE = re.compile(r"^```[^\n]*\n.*?^```[ \t]*$", re.M | re.S)
KANA = re.compile("[\u3040-\u30ff]")
HAN = re.compile("[\u4e00-\u9fff]")


def _split(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    assert match, f"{path.name}: no front matter"
    return yaml.load(match.group(1), Loader=yaml.CSafeLoader), match.group(2)


def _anchors_en(body: str) -> list[str]:
    return [EN_ANCHORS.get(h, h) for h in re.findall(r"^## (.+?)\s*$", body, re.M)]


def _anchors_translated(body: str, lang: str) -> list[str]:
    anchors = []
    for title, anchor in re.findall(r"^## (.+?) \{#([a-z-]+)\}\s*$", body, re.M):
        assert HEADINGS[lang].get(anchor) == title, (anchor, title)
        anchors.append(anchor)
    assert len(anchors) == len(re.findall(r"^## ", body, re.M)), "every section has an anchor"
    return anchors


def _without_comments(block: str) -> str:
    """A code block with comments dropped: comments are the one part a translation may change."""
    lines = []
    for line in block.splitlines():
        if re.match(r"^\s*#(?!!)", line):
            continue
        lines.append(re.sub(r"\s+#\s.*$", "", line).rstrip())
    return "\n".join(lines)


def _code(body: str) -> list[str]:
    return [_without_comments(block) for block in FENCE.findall(body)]


def _cases():
    return [
        (original, lang)
        for original in ORIGINALS
        for lang in LANGS
        if original.with_name(f"{original.stem}.{lang}.md").exists()
    ]


def _id(case) -> str:
    return f"{case[0].stem}.{case[1]}"


def test_it_finds_the_originals_and_translations() -> None:
    assert len(ORIGINALS) >= 11
    assert _cases()
    strays = [
        p.name
        for p in ARTICLES_DIR.glob("*.*.md")
        if p.name.split(".")[1] not in LANGS
        or not p.with_name(p.name.split(".")[0] + ".md").exists()
    ]
    assert not strays, "a translation needs a known language and an English original"


@pytest.mark.parametrize("original", ORIGINALS, ids=lambda path: path.stem)
def test_it_has_a_japanese_and_a_chinese_version_of_every_original(original) -> None:
    for lang in LANGS:
        assert original.with_name(f"{original.stem}.{lang}.md").is_file(), (
            f"{original.stem}.{lang}.md"
        )


@pytest.mark.parametrize("case", _cases(), ids=_id)
def test_it_has_each_translation_with_a_valid_front_matter(case) -> None:
    original, lang = case
    path = original.with_name(f"{original.stem}.{lang}.md")
    assert path.is_file(), f"missing {path.name}"
    meta, body = _split(path)
    assert set(meta) == TRANSLATION_KEYS, set(meta) ^ TRANSLATION_KEYS
    assert meta["translation_of"] == original.stem
    assert meta["lang"] == lang
    assert isinstance(meta["title"], str) and 5 <= len(meta["title"]) <= 200
    assert isinstance(meta["summary"], str) and 20 <= len(meta["summary"]) <= 400
    assert re.fullmatch(r"[0-9a-f]{64}", str(meta["translated_from"]))
    written = meta["title"] + meta["summary"] + body
    if lang == "ja":
        assert KANA.search(written), "a Japanese translation is written with kana"
    else:
        assert HAN.search(written) and not KANA.search(meta["title"] + meta["summary"])


@pytest.mark.parametrize("case", _cases(), ids=_id)
def test_it_keeps_the_sections_and_their_anchors(case) -> None:
    original, lang = case
    _, en_body = _split(original)
    _, body = _split(original.with_name(f"{original.stem}.{lang}.md"))
    assert _anchors_translated(body, lang) == _anchors_en(en_body)


@pytest.mark.parametrize("case", _cases(), ids=_id)
def test_it_keeps_the_code_blocks_of_the_original(case) -> None:
    original, lang = case
    _, en_body = _split(original)
    _, body = _split(original.with_name(f"{original.stem}.{lang}.md"))
    assert _code(body) == _code(en_body)


def _fix_yaml(body: str) -> str:
    fix = re.search(r"^## [^\n]*\{#fix\}\s*$(.*?)(?=^## |\Z)", body, re.M | re.S).group(1)
    return "---\n".join(re.findall(r"^```ya?ml\n(.*?)^```", fix, re.M | re.S))


@pytest.mark.parametrize("case", _cases(), ids=_id)
def test_it_gives_a_fix_that_passes_our_analyzer(case) -> None:
    """The manifests a reader copies from the translated Fix section raise no error finding."""
    from troubleshooter.analyzer.analyze import analyze_manifest

    original, lang = case
    _, body = _split(original.with_name(f"{original.stem}.{lang}.md"))
    manifests = _fix_yaml(body)
    if not manifests:
        pytest.skip("the Fix section has no YAML (shell commands only)")
    report = analyze_manifest(text=manifests)
    assert report.objects >= 1 and not report.errors, report.errors
    assert not [f for f in report.findings if f.severity == "error"], report.findings


def test_it_notices_a_changed_code_block() -> None:
    body = "## 対処 {#fix}\n\n```yaml\nkind: Pod\n# 日本語のコメント\n```\n"
    assert _code(body) == _code("## Fix\n\n```yaml\nkind: Pod\n# a comment\n```\n")
    assert _code(body) != _code("## Fix\n\n```yaml\nkind: Deployment\n```\n")
