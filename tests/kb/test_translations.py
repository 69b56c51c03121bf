"""Translations as data: one URL, several languages, hreflang links, stale notices, search.

Two small translation files are written by each test (the real ones in articles/ are tested
too, when they exist), imported with the real importer and served by the real view.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.utils import translation

from kb.importer import import_paths
from kb.models import Article
from kb.search import rebuild_index, search_articles

ARTICLES_DIR = Path(__file__).resolve().parents[2] / "articles"

ORIGINAL_BODY = """\
# Widgets crash on start

Widgets need a frobnicator.

## Symptoms

```text
widget: frobnicator not found
```

## Cause

No frobnicator was configured.

## Fix

Configure one.
"""


def _original(folder: Path, body: str = ORIGINAL_BODY) -> None:
    (folder / "widget-crash.md").write_text(
        "---\ntitle: Widgets crash on start\nslug: widget-crash\nlang: en\n"
        "symptoms: ['widget: frobnicator not found']\n---\n" + body,
        encoding="utf-8",
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _translation(folder: Path, lang: str, *, translated_from: str) -> None:
    sections = {
        "ja": (
            "ウィジェットが起動しない",
            "症状",
            "原因",
            "対処",
            "フロブニケータの設定がありません。",
        ),
        "zh": ("小部件启动即崩溃", "症状", "原因", "解决方法", "没有配置弗罗布尼卡器。"),
    }[lang]
    title, symptoms, cause, fix, text = sections
    (folder / f"widget-crash.{lang}.md").write_text(
        f"---\ntitle: {title}\ntranslation_of: widget-crash\nlang: {lang}\n"
        f"summary: {text}\ntranslated_from: {translated_from}\n---\n"
        f"# {title}\n\n{text}\n\n## {symptoms} {{#symptoms}}\n\n"
        "```text\nwidget: frobnicator not found\n```\n\n"
        f"## {cause} {{#cause}}\n\n{text}\n\n## {fix} {{#fix}}\n\n{text}\n",
        encoding="utf-8",
    )


@pytest.fixture
def site(tmp_path: Path, db) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    _original(folder)
    # Written as the contract says: the hash of the text after the closing ---.
    for lang in ("ja", "zh"):
        _translation(folder, lang, translated_from=_sha(ORIGINAL_BODY))
    report = import_paths([folder])
    assert report.failed == [], report.failed
    rebuild_index()
    return folder


@pytest.fixture
def with_locale_middleware(settings):
    """Django's LocaleMiddleware as the interface i18n installs it (en, ja, zh-hans)."""
    middleware = list(settings.MIDDLEWARE)
    if "django.middleware.locale.LocaleMiddleware" not in middleware:
        at = middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
        middleware.insert(at, "django.middleware.locale.LocaleMiddleware")
    settings.MIDDLEWARE = middleware
    settings.LANGUAGES = [("en", "English"), ("ja", "日本語"), ("zh-hans", "简体中文")]
    settings.USE_I18N = True


def test_it_stores_translations_as_rows_linked_to_their_original(site) -> None:
    original = Article.objects.get(slug="widget-crash", lang="en")
    assert original.translation_of is None
    translations = {t.lang: t for t in original.translations.all()}
    assert set(translations) == {"ja", "zh"}
    assert translations["ja"].slug == "widget-crash"
    assert translations["ja"].symptoms == []  # symptoms live once, in the original
    assert not translations["ja"].stale


def test_it_serves_the_language_asked_for_at_the_same_url(client, site) -> None:
    english = client.get("/articles/widget-crash/").content.decode()
    assert "Widgets crash on start" in english and 'lang="en"' in english
    japanese = client.get("/articles/widget-crash/?lang=ja").content.decode()
    assert (
        "ウィジェットが起動しない" in japanese
        and '<article class="article-layout" lang="ja">' in japanese
    )
    chinese = client.get("/articles/widget-crash/?lang=zh").content.decode()
    assert "小部件启动即崩溃" in chinese
    # An unknown language falls back to the original instead of failing.
    assert client.get("/articles/widget-crash/?lang=fr").status_code == 200


def test_it_follows_accept_language_through_the_locale_middleware(
    client, site, with_locale_middleware
) -> None:
    japanese = client.get("/articles/widget-crash/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "ウィジェットが起動しない" in japanese
    chinese = client.get("/articles/widget-crash/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert "小部件启动即崩溃" in chinese.content.decode()
    assert "Accept-Language" in chinese["Vary"]
    english = client.get("/articles/widget-crash/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Widgets crash on start" in english


def test_it_links_every_translation_with_hreflang(client, site) -> None:
    for lang in ("en", "ja", "zh"):
        html = client.get(f"/articles/widget-crash/?lang={lang}").content.decode()
        links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)"', html))
        assert set(links) == {"en", "ja", "zh-Hans", "x-default"}, links
        assert links["ja"].endswith("/articles/widget-crash/?lang=ja")
        assert links["x-default"].endswith("/articles/widget-crash/")


def test_it_keeps_the_section_anchors_in_every_language(client, site) -> None:
    for lang in ("ja", "zh"):
        html = client.get(f"/articles/widget-crash/?lang={lang}").content.decode()
        for anchor in ("symptoms", "cause", "fix"):
            assert f'id="{anchor}"' in html, (lang, anchor)
        assert "{#" not in html


def test_it_shows_a_notice_once_the_original_changes(client, site) -> None:
    # The notice is in the interface language, which ?lang= sets too: look for its element.
    notice = 'class="notice stale-translation"'
    assert notice not in client.get("/articles/widget-crash/?lang=ja").content.decode()
    _original(site, body=ORIGINAL_BODY + "\n## Confirm\n\nRun the widget again.\n")
    report = import_paths([site])
    assert [p.name for p in report.updated] == ["widget-crash.md"]
    ja = Article.objects.get(slug="widget-crash", lang="ja")
    assert ja.stale
    html = client.get("/articles/widget-crash/?lang=ja").content.decode()
    assert notice in html and "内容が古い可能性があります" in html
    assert notice not in client.get("/articles/widget-crash/").content.decode()


def test_it_refuses_a_translation_of_an_unknown_article(tmp_path, db) -> None:
    (tmp_path / "ghost.ja.md").write_text(
        "---\ntitle: 幽霊\ntranslation_of: no-such-article\nlang: ja\n---\n本文。\n",
        encoding="utf-8",
    )
    report = import_paths([tmp_path])
    assert "no article with slug 'no-such-article'" in report.failed[0].reason
    assert not Article.objects.exists()


def test_it_prefers_the_searchers_language_in_results(client, site) -> None:
    # The error line is in all three versions: one result, in the reader's language.
    with translation.override("en"):
        english = search_articles("widget: frobnicator not found")
    assert [(h.slug, h.lang) for h in english] == [("widget-crash", "en")]
    with translation.override("ja"):
        for_japanese_reader = search_articles("widget: frobnicator not found")
    assert [(h.slug, h.lang) for h in for_japanese_reader] == [("widget-crash", "ja")]
    with translation.override("zh-hans"):
        for_chinese_reader = search_articles("widget: frobnicator not found")
    assert [(h.slug, h.lang) for h in for_chinese_reader] == [("widget-crash", "zh")]
    japanese = search_articles("フロブニケータがありません")
    assert [(h.slug, h.lang) for h in japanese] == [("widget-crash", "ja")]
    assert "?lang=ja" in japanese[0].url
    chinese = client.get("/api/search/", {"q": "弗罗布尼卡器"}).json()["results"]
    assert [(r["slug"], r["lang"]) for r in chinese] == [("widget-crash", "zh")]


def test_it_lists_each_article_once_in_the_article_list(client, site) -> None:
    html = client.get("/articles/").content.decode()
    assert html.count('href="/articles/widget-crash/') == 1


def test_it_deletes_translations_with_their_original_on_prune(site) -> None:
    (site / "widget-crash.md").unlink()
    (site / "widget-crash.ja.md").unlink()
    (site / "widget-crash.zh.md").unlink()
    (site / "other.md").write_text("---\nslug: other\n---\n# Other\n\nText here.\n")
    report = import_paths([site], prune=True)
    assert "widget-crash" in report.pruned
    assert list(Article.objects.values_list("slug", flat=True)) == ["other"]


REAL_TRANSLATIONS = sorted(ARTICLES_DIR.glob("*.ja.md")) + sorted(ARTICLES_DIR.glob("*.zh.md"))


@pytest.mark.skipif(not REAL_TRANSLATIONS, reason="no translations in articles/ yet")
def test_it_imports_and_serves_the_real_translations(client, articles) -> None:
    translations = Article.objects.filter(translation_of__isnull=False)
    assert translations.count() == len(REAL_TRANSLATIONS)
    for version in translations:
        html = client.get(version.get_absolute_url()).content.decode()
        assert version.title.split()[0] in html
        for anchor in ("symptoms", "cause", "fix"):
            assert f'id="{anchor}"' in html, (version.slug, version.lang, anchor)


def test_it_lists_stale_translations_with_the_hash_to_update_to(site) -> None:
    from io import StringIO

    from django.core.management import call_command

    _original(site, body=ORIGINAL_BODY + "\nOne more line.\n")
    import_paths([site])
    out = StringIO()
    call_command("translation_status", "--stale", stdout=out)
    lines = out.getvalue().splitlines()
    current = _sha(ORIGINAL_BODY + "\nOne more line.\n")
    assert lines[:2] == [f"stale  widget-crash.ja  {current}", f"stale  widget-crash.zh  {current}"]
    assert lines[2] == "2 translation(s), 2 stale"


def test_it_takes_translations_down_with_an_unpublished_original(client, site) -> None:
    text = (site / "widget-crash.md").read_text(encoding="utf-8")
    (site / "widget-crash.md").write_text(
        text.replace("lang: en\n", "lang: en\npublished: false\n"), encoding="utf-8"
    )
    report = import_paths([site])
    assert report.failed == []
    assert {p.path.name for p in report.skipped} == {"widget-crash.ja.md", "widget-crash.zh.md"}
    assert not Article.objects.exists()
    assert client.get("/articles/widget-crash/?lang=ja").status_code == 404
