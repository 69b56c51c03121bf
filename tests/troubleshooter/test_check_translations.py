"""Check pages in Japanese and Chinese: translated docstrings, and how /checks/<id>/ serves them."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from troubleshooter.analyzer import check_docs, registry

DOCS = Path(__file__).resolve().parents[2] / "troubleshooter" / "analyzer" / "checks" / "docs"
LANGS = ("ja", "zh")
CHECKS = sorted(registry.all_checks(), key=lambda module: module.ID)
# Indented literal blocks, as the docstrings write their examples (after a `::` line).
LITERAL = re.compile(r"(?<=\n\n)((?:    [^\n]*(?:\n|$))+)")
SPAN = re.compile(r"``(.+?)``|`([^`]+)`", re.S)
KANA = re.compile("[\u3040-\u30ff]")
HAN = re.compile("[\u4e00-\u9fff]")
LOCALE = "django.middleware.locale.LocaleMiddleware"
# How a docstring paragraph opens: a bold lead-in, a list, a literal block; else prose.
PARAGRAPH_KINDS = (("**", "lead"), ("* ", "list"), ("    ", "literal"))
LIST_ITEM = re.compile(r"^\* ", re.M)


def _spans(text: str) -> set[str]:
    return {" ".join((a or b).split()) for a, b in SPAN.findall(text)}


def _translation(module, lang: str) -> str:
    """The translation's Markdown, without the front matter that names its English."""
    text = (DOCS / f"{module.ID}.{lang}.md").read_text(encoding="utf-8")
    return check_docs.split_front_matter(text)[1]


def test_it_has_no_translation_of_an_unknown_check() -> None:
    ids = {module.ID for module in CHECKS}
    for path in DOCS.glob("*.md"):
        check_id, lang, suffix = path.name.rsplit(".", 2)
        assert check_id in ids and lang in LANGS and suffix == "md", path.name


@pytest.mark.parametrize("module", CHECKS, ids=lambda module: module.ID)
def test_it_has_a_japanese_and_a_chinese_page_for_every_check(module) -> None:
    for lang in LANGS:
        assert (DOCS / f"{module.ID}.{lang}.md").is_file(), (
            f"missing checks/docs/{module.ID}.{lang}.md"
        )


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


@pytest.mark.parametrize("module", CHECKS, ids=lambda module: module.ID)
@pytest.mark.parametrize("lang", LANGS)
def test_it_has_each_translation_written_from_the_current_docstring(module, lang) -> None:
    """Fails when a docstring changes and its translations are not brought up to date."""
    translation = check_docs.load_translation(module, lang)
    assert translation is not None and not translation.stale, (
        f"checks/docs/{module.ID}.{lang}.md is behind the docstring of {module.__name__}: update "
        f"the text, then its front matter to translated_from: {check_docs.english_sha256(module)}"
    )


def _shape(markdown: str) -> list[str]:
    """Per paragraph: how it opens (bold lead-in, list, literal block, prose) and its items."""
    shape = []
    for paragraph in re.split(r"\n\s*\n", markdown.strip()):
        opening = next(
            (kind for prefix, kind in PARAGRAPH_KINDS if paragraph.startswith(prefix)), "prose"
        )
        shape.append(f"{opening}:{len(LIST_ITEM.findall(paragraph))}")
    return shape


@pytest.mark.parametrize("module", CHECKS, ids=lambda module: module.ID)
@pytest.mark.parametrize("lang", LANGS)
def test_it_keeps_the_paragraphs_and_list_items_of_the_docstring(module, lang) -> None:
    assert _shape(_translation(module, lang)) == _shape(check_docs.docstring(module))


def test_it_tells_a_shape_with_one_more_paragraph_or_item() -> None:
    english = "Title.\n\n**What.** Text\nwrapped.\n\n* one\n  more\n* two\n\n    code::\n"
    assert _shape(english) == ["prose:0", "lead:0", "list:2", "literal:0"]
    assert _shape(english + "\n**Reads.** Pods.\n") != _shape(english)
    assert _shape(english.replace("* two", "* two\n* three")) != _shape(english)


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
    for lang in LANGS:
        page = client.get(url, {"lang": lang}).content.decode()
        # Up to date, so no notice; the digest in the front matter is never shown.
        assert "stale-translation" not in page and "translated_from" not in page
        assert f'class="check-doc article-body" lang="{lang}"' in page
        assert check_docs.english_sha256(module) not in page
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
        assert html.startswith('class="check-doc article-body" lang="en"')
    html = _doc_html(client.get(url, {"lang": "../../etc/passwd"}))
    assert not KANA.search(html) and not HAN.search(html)


def test_it_reads_the_digest_a_translation_was_written_from() -> None:
    digest = "ab" * 32
    assert check_docs.split_front_matter(f"---\ntranslated_from: {digest}\n---\nText.\n") == (
        digest,
        "Text.\n",
    )
    # No front matter, or one that names no proper digest: nothing says which English it
    # translates, so it can never match a docstring and counts as stale.
    assert check_docs.split_front_matter("Text.\n") == ("", "Text.\n")
    assert check_docs.split_front_matter("---\ntranslated_from: abc\n---\nText.\n")[0] == ""
    assert (
        check_docs.split_front_matter(f"---\ntranslated_from: {digest.upper()}\n---\nT\n")[0] == ""
    )


@pytest.fixture
def changed_docstring(monkeypatch):
    """A check whose docstring gained a paragraph after its translations were written."""
    module = CHECKS[0]
    monkeypatch.setattr(module, "__doc__", module.__doc__ + "\n**New.** One more paragraph.\n")
    return module


def test_it_marks_a_check_page_stale_when_its_docstring_changed(
    client, locale_middleware, changed_docstring
) -> None:
    url = f"/checks/{changed_docstring.ID}/"
    for lang in LANGS:
        page = client.get(url, {"lang": lang}).content.decode()
        assert 'class="notice stale-translation"' in page and "One more paragraph." not in page
        assert 'href="?lang=en"' in page
        assert "translated_from" not in page
    english = client.get(url, {"lang": "en"}).content.decode()
    assert "stale-translation" not in english and "One more paragraph." in english


@pytest.mark.django_db
def test_it_lists_a_check_page_behind_its_docstring_with_the_digest_to_update_to(
    changed_docstring,
) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("translation_status", "--stale", stdout=out)
    lines = out.getvalue().splitlines()
    current = check_docs.english_sha256(changed_docstring)
    assert f"stale  checks/{changed_docstring.ID}.ja  {current}" in lines
    assert f"stale  checks/{changed_docstring.ID}.zh  {current}" in lines
    summary = f"{2 * len(CHECKS)} check page translation(s), "
    assert sum(line.startswith(summary) for line in lines) == 1


def test_it_loads_a_translation_only_for_a_known_language_and_an_existing_file(tmp_path) -> None:
    module = CHECKS[0]
    assert check_docs.load_translation(module, "ja", docs_dir=tmp_path) is None
    (tmp_path / f"{module.ID}.ja.md").write_text("Kein Kopf.\n", encoding="utf-8")
    (tmp_path / f"{module.ID}.fr.md").write_text("Pas de tête.\n", encoding="utf-8")
    assert check_docs.load_translation(module, "fr", docs_dir=tmp_path) is None
    headless = check_docs.load_translation(module, "ja", docs_dir=tmp_path)
    assert headless.markdown == "Kein Kopf.\n" and headless.stale
    assert [t.lang for t in check_docs.all_translations([module], docs_dir=tmp_path)] == ["ja"]
