"""Check pages in Japanese and Chinese: translated docstrings, and how /checks/<id>/ serves them."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from troubleshooter.analyzer import registry

DOCS = Path(__file__).resolve().parents[2] / "troubleshooter" / "analyzer" / "checks" / "docs"
LANGS = ("ja", "zh")
CHECKS = sorted(registry.all_checks(), key=lambda module: module.ID)
# Indented literal blocks, as the docstrings write their examples (after a `::` line).
LITERAL = re.compile(r"(?<=\n\n)((?:    [^\n]*(?:\n|$))+)")
SPAN = re.compile(r"``(.+?)``|`([^`]+)`", re.S)
KANA = re.compile("[\u3040-\u30ff]")
HAN = re.compile("[\u4e00-\u9fff]")
LOCALE = "django.middleware.locale.LocaleMiddleware"


def _spans(text: str) -> set[str]:
    return {" ".join((a or b).split()) for a, b in SPAN.findall(text)}


def _translation(module, lang: str) -> str:
    return (DOCS / f"{module.ID}.{lang}.md").read_text(encoding="utf-8")


def test_it_has_no_translation_of_an_unknown_check() -> None:
    ids = {module.ID for module in CHECKS}
    for path in DOCS.glob("*.md"):
        check_id, lang, suffix = path.name.rsplit(".", 2)
        assert check_id in ids and lang in LANGS and suffix == "md", path.name


@pytest.mark.parametrize("module", CHECKS, ids=lambda module: module.ID)
@pytest.mark.parametrize("lang", LANGS)
def test_it_translates_every_check_with_the_docstrings_examples(module, lang) -> None:
    doc = _translation(module, lang)
    english = inspect.cleandoc(module.__doc__)
    assert LITERAL.findall(doc) == LITERAL.findall(english)
    missing = _spans(english) - _spans(doc)
    assert not missing, f"code spans of the docstring missing from the translation: {missing}"
    # The failing and passing examples live once, in the module: the page shows those.
    assert "{#failing-example}" not in doc and module.FAILING_EXAMPLE.strip() not in doc
    prose = SPAN.sub("", LITERAL.sub("", doc))
    if lang == "ja":
        assert len(KANA.findall(prose)) > 100
    else:
        assert len(HAN.findall(prose)) > 100 and not KANA.search(prose)


@pytest.fixture
def locale_middleware(settings):
    """Django's language negotiation as the interface installs it (en, ja, zh-hans)."""
    if LOCALE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(middleware.index("django.middleware.common.CommonMiddleware"), LOCALE)
        settings.MIDDLEWARE = middleware
    settings.LANGUAGES = [("en", "English"), ("ja", "日本語"), ("zh-hans", "简体中文")]


def _doc_html(response) -> str:
    html = response.content.decode()
    start = html.index('class="check-doc')
    return html[start : html.index("</div>", start)]


@pytest.mark.parametrize("module", CHECKS, ids=lambda module: module.ID)
def test_it_serves_each_check_page_in_the_accepted_language(client, locale_middleware, module):
    url = f"/checks/{module.ID}/"
    english = _doc_html(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
    japanese = _doc_html(client.get(url, HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5"))
    chinese = _doc_html(client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"))
    assert not KANA.search(english) and not HAN.search(english)
    assert KANA.search(japanese)
    assert HAN.search(chinese) and not KANA.search(chinese)
    # The examples come from the module in every language, once.
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert page.count('id="failing-example"') == 1 and page.count('id="passing-example"') == 1
    first_key = module.FAILING_EXAMPLE.split(":", 1)[0].strip()
    assert first_key in page.split('id="failing-example"', 1)[1]


def test_it_lets_an_explicit_lang_parameter_win(client, locale_middleware) -> None:
    url = f"/checks/{CHECKS[0].ID}/"
    assert KANA.search(_doc_html(client.get(url, {"lang": "ja"}, HTTP_ACCEPT_LANGUAGE="zh")))
    assert not HAN.search(_doc_html(client.get(url, {"lang": "en"}, HTTP_ACCEPT_LANGUAGE="ja")))
    chinese = _doc_html(client.get(url, {"lang": "zh-hans"}))
    assert HAN.search(chinese) and not KANA.search(chinese)


def test_it_falls_back_to_english_for_other_languages(client, locale_middleware) -> None:
    url = f"/checks/{CHECKS[0].ID}/"
    for accepted in ("fr", "ko", "de-DE"):
        html = _doc_html(client.get(url, HTTP_ACCEPT_LANGUAGE=accepted))
        assert not KANA.search(html) and not HAN.search(html)
    html = _doc_html(client.get(url, {"lang": "../../etc/passwd"}))
    assert not KANA.search(html) and not HAN.search(html)
