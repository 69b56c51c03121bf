"""Check titles in Japanese and Chinese: the front matter's `title`, on each page naming a check."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path

import pytest

from troubleshooter.analyzer import check_docs, registry

CHECKS = sorted(registry.all_checks(), key=lambda module: module.ID)
KANA = re.compile("[\u3040-\u30ff]")
HAN = re.compile("[\u4e00-\u9fff]")
BCP47 = {"ja": "ja", "zh": "zh-Hans"}
KUBELET = registry.get("kubelet-max-pods")


def _title(lang: str, module=KUBELET) -> str:
    translation = check_docs.load_translation(module, lang)
    assert translation is not None
    return translation.title


def _escaped(text: str) -> str:
    """Text as Django's autoescape writes it into the page."""
    return text.replace("&", "&amp;").replace("'", "&#x27;").replace('"', "&quot;")


def _head(html: str) -> tuple[str, str]:
    """(<title>, og:title) of a page, unescaped."""
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    og = re.search(r'<meta property="og:title" content="([^"]*)">', html).group(1)
    return unescape(title), unescape(og)


@pytest.mark.parametrize("module", CHECKS, ids=lambda module: module.ID)
def test_it_has_a_native_title_in_every_translation(module) -> None:
    ja, zh = _title("ja", module), _title("zh", module)
    assert KANA.search(ja), f"checks/docs/{module.ID}.ja.md: title has no kana: {ja!r}"
    assert HAN.search(zh) and not KANA.search(zh), f"{module.ID}.zh.md: not Chinese: {zh!r}"
    assert module.TITLE not in (ja, zh)


def test_it_lists_each_check_under_its_title_in_the_page_language(client) -> None:
    for lang, accept in (("ja", "ja,en;q=0.5"), ("zh", "zh-CN,zh;q=0.9")):
        html = client.get("/checks/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
        for module in CHECKS:
            cell = f'lang="{BCP47[lang]}">{_escaped(_title(lang, module))}</td>'
            assert cell in html, (lang, module.ID)
            assert _escaped(module.TITLE) not in html
    english = client.get("/checks/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for module in CHECKS:
        assert f'lang="en">{_escaped(module.TITLE)}</td>' in english
    assert not KANA.search(english.split("<tbody>", 1)[1])


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_heads_a_check_page_with_its_native_title(client, lang) -> None:
    native = _title(lang)
    html = client.get(f"/checks/{KUBELET.ID}/", {"lang": lang}).content.decode()
    assert f'<h1 class="check-title" lang="{BCP47[lang]}">{_escaped(native)}</h1>' in html
    title, og = _head(html)
    assert native in title and KUBELET.ID in title
    assert og == f"{KUBELET.ID}: {native}"
    assert KUBELET.TITLE not in html
    # The example's findings are in the page's language too (their templates are translated).
    findings = html.split('class="example-findings"', 1)[1].split("</ul>", 1)[0]
    assert findings.count(f'<span class="message" lang="{BCP47[lang]}">maxPods: 400 ') == 1
    assert "is more than" not in findings
    # The negotiated language gives the same page as ?lang=.
    accept = {"ja": "ja", "zh": "zh-Hans,zh;q=0.9"}[lang]
    negotiated = client.get(f"/checks/{KUBELET.ID}/", HTTP_ACCEPT_LANGUAGE=accept)
    assert f'lang="{BCP47[lang]}">{_escaped(native)}</h1>' in negotiated.content.decode()


def test_it_heads_the_english_page_with_the_english_title(client) -> None:
    html = client.get(f"/checks/{KUBELET.ID}/", {"lang": "en"}).content.decode()
    assert f'<h1 class="check-title" lang="en">{_escaped(KUBELET.TITLE)}</h1>' in html
    assert _head(html)[1] == f"{KUBELET.ID}: {KUBELET.TITLE}"


@pytest.fixture
def untitled_docs(tmp_path, monkeypatch) -> Path:
    """The check pages as shipped, except that the kubelet-max-pods ja page has no title."""
    docs = tmp_path / "docs"
    shutil.copytree(check_docs.DOCS_DIR, docs)
    page = docs / f"{KUBELET.ID}.ja.md"
    text = page.read_text(encoding="utf-8")
    assert re.search(r"^title: .*\n", text, re.M)
    page.write_text(re.sub(r"^title: .*\n", "", text, count=1, flags=re.M), encoding="utf-8")
    monkeypatch.setattr(check_docs, "DOCS_DIR", docs)
    return docs


def test_it_falls_back_to_the_english_title_marked_as_english(client, untitled_docs) -> None:
    english = f'lang="en">{_escaped(KUBELET.TITLE)}'
    page = client.get(f"/checks/{KUBELET.ID}/", {"lang": "ja"}).content.decode()
    assert f'<h1 class="check-title" {english}</h1>' in page
    assert _head(page)[1] == f"{KUBELET.ID}: {KUBELET.TITLE}"
    # The body is still the Japanese translation, and still current.
    assert 'class="check-doc article-body" lang="ja"' in page and "stale-translation" not in page
    listing = client.get("/checks/", {"lang": "ja"}).content.decode()
    assert f"{english}</td>" in listing
    # Other checks keep their Japanese titles.
    other = CHECKS[0] if CHECKS[0] is not KUBELET else CHECKS[1]
    assert f'lang="ja">{_escaped(_title("ja", other))}</td>' in listing
    # Chinese is untouched.
    zh = client.get(f"/checks/{KUBELET.ID}/", {"lang": "zh"}).content.decode()
    assert f'lang="zh-Hans">{_escaped(_title("zh"))}</h1>' in zh


def _analyze(client, lang: str) -> str:
    response = client.post(
        f"/analyze/?lang={lang}", {"manifest": KUBELET.FAILING_EXAMPLE}, HTTP_ACCEPT_LANGUAGE=lang
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_it_names_each_finding_check_by_its_title_in_the_report(client, lang) -> None:
    html = _analyze(client, lang)
    span = f'<span class="check-title" lang="{BCP47[lang]}">{_escaped(_title(lang))}</span>'
    # Once in the summary by object, once pinned under the line.
    assert html.count(span) == 2
    assert KUBELET.TITLE not in html


def test_it_names_the_check_in_english_on_an_english_report(client) -> None:
    html = _analyze(client, "en")
    span = f'<span class="check-title" lang="en">{_escaped(KUBELET.TITLE)}</span>'
    assert html.count(span) == 2


def test_it_keeps_english_titles_in_the_machine_formats(client) -> None:
    """SARIF and JSON are read by tools: ids and titles stay as the code has them."""
    response = client.post(
        "/api/analyze/?format=sarif",
        KUBELET.FAILING_EXAMPLE,
        content_type="application/yaml",
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    rules = json.loads(response.content)["runs"][0]["tool"]["driver"]["rules"]
    rule = next(rule for rule in rules if rule["id"] == KUBELET.ID)
    assert rule["shortDescription"]["text"] == KUBELET.TITLE
    plain = client.post(
        "/api/analyze/",
        KUBELET.FAILING_EXAMPLE,
        content_type="application/yaml",
        HTTP_ACCEPT_LANGUAGE="ja",
    ).content.decode()
    assert not KANA.search(plain)


def test_it_makes_a_translation_stale_when_the_english_title_changes(client, monkeypatch) -> None:
    assert not check_docs.load_translation(KUBELET, "ja").stale
    monkeypatch.setattr(KUBELET, "TITLE", "kubelet maxPods above the pod range")
    for lang in ("ja", "zh"):
        assert check_docs.load_translation(KUBELET, lang).stale
        page = client.get(f"/checks/{KUBELET.ID}/", {"lang": lang}).content.decode()
        assert 'class="notice stale-translation"' in page
        # The title written for the old English is still the one shown, with the notice.
        assert _escaped(_title(lang)) in page


def test_it_reads_a_title_from_the_front_matter(tmp_path) -> None:
    digest = check_docs.english_sha256(KUBELET)
    cases = {
        f'title: "ノードの \\"範囲\\""\ntranslated_from: {digest}': 'ノードの "範囲"',
        f"translated_from: {digest}\ntitle: 素のタイトル  ": "素のタイトル",
        f"translated_from: {digest}": "",
        f'title: "{"長" * (check_docs.MAX_TITLE_LENGTH + 1)}"\ntranslated_from: {digest}': "",
        f'title: "閉じない\ntranslated_from: {digest}': "",
    }
    for number, (fields, title) in enumerate(cases.items()):
        docs = tmp_path / str(number)
        docs.mkdir()
        (docs / f"{KUBELET.ID}.ja.md").write_text(f"---\n{fields}\n---\n本文。\n", "utf-8")
        translation = check_docs.load_translation(KUBELET, "ja", docs_dir=docs)
        assert translation.title == title, fields
        assert translation.markdown == "本文。\n" and not translation.stale
        shown = check_docs.check_title(KUBELET, "ja", docs_dir=docs)
        assert shown == check_docs.CheckTitle(title or KUBELET.TITLE, "ja" if title else "en")
    assert check_docs.check_title(KUBELET, "en") == check_docs.CheckTitle(KUBELET.TITLE, "en")
    assert check_docs.check_title(KUBELET, "fr").lang == "en"


def test_it_maps_django_language_codes_to_ours() -> None:
    cases = {"ja": "ja", "zh-hans": "zh", "zh-CN": "zh", "zh": "zh", "en-us": "en", "": "en"}
    for code, ours in cases.items():
        assert check_docs.language_for(code) == ours
    assert check_docs.language_for(None) == "en" and check_docs.language_for("jav") == "en"


@pytest.mark.django_db
def test_it_names_the_check_in_each_readers_language_on_a_shared_report(client) -> None:
    """One shared link, read by a Japanese and a Chinese colleague: each gets their title."""
    location = client.post("/analyze/share/", {"manifest": KUBELET.FAILING_EXAMPLE})["Location"]
    for lang in ("ja", "zh"):
        html = client.get(location, HTTP_ACCEPT_LANGUAGE={"ja": "ja", "zh": "zh-CN"}[lang])
        span = f'<span class="check-title" lang="{BCP47[lang]}">{_escaped(_title(lang))}</span>'
        assert span in html.content.decode()
    english = client.get(location, {"lang": "en"}).content.decode()
    assert f'<span class="check-title" lang="en">{_escaped(KUBELET.TITLE)}</span>' in english
