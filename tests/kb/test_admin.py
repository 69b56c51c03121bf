"""The Article admin: list, change form, re-render on save, slug fixed after creation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from kb.importer import import_paths
from kb.models import Article

FIXTURES = Path(__file__).parent / "fixtures" / "docs"

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-unused-1")
    client.force_login(user)
    return client


@pytest.fixture
def imported(tmp_path) -> Path:
    root = tmp_path / "docs"
    shutil.copytree(FIXTURES / "good", root)
    import_paths([root])
    return root


def test_it_lists_articles_with_the_edited_flag_and_filters_by_language(admin_client, imported):
    url = reverse("admin:kb_article_changelist")
    page = admin_client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "ConfigMap を subPath でマウントすると更新が反映されない" in body
    assert "edited locally" in body.lower()
    zh = admin_client.get(url, {"lang__exact": "zh"}).content.decode()
    assert "上传文件时提示临时目录不存在" in zh and "ConfigMap を subPath" not in zh
    found = admin_client.get(url, {"q": "NodePort"}).content.decode()
    assert "Client IP lost behind a NodePort" in found


def test_it_shows_the_change_form_with_a_read_only_slug_and_the_index_note(admin_client, imported):
    article = Article.objects.get(slug="ja-configmap")
    page = admin_client.get(reverse("admin:kb_article_change", args=[article.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="slug"' not in body  # shown, not editable
    assert "ja-configmap" in body
    assert "manage.py rebuild_index" in body


def test_it_re_renders_on_save_and_then_the_import_reports_a_conflict(admin_client, imported):
    article = Article.objects.get(slug="ja-configmap")
    url = reverse("admin:kb_article_change", args=[article.pk])
    data = {
        "title": "subPath の ConfigMap が更新されない",
        "lang": "ja",
        "summary": article.summary,
        "markdown": "# 新しい見出し\n\n## 追加した節\n\n本文を書き換えました。\n",
        "tags": "[]",
        "keywords": "[]",
        "symptoms": "[]",
        "sources": "[]",
        "published": "",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    article.refresh_from_db()
    assert article.slug == "ja-configmap"
    assert [e["id"] for e in article.toc] == ["新しい見出し", "追加した節"]
    assert '<h2 id="追加した節">' in article.html
    assert article.edited_locally

    path = imported / "ja-configmap.md"
    path.write_text(path.read_text() + "\nファイル側も更新。\n")
    report = import_paths([imported])
    assert [p.path.name for p in report.conflicts] == ["ja-configmap.md"]
    article.refresh_from_db()
    assert article.title == "subPath の ConfigMap が更新されない"


def test_it_lets_a_new_article_choose_its_slug(admin_client):
    response = admin_client.post(
        reverse("admin:kb_article_add"),
        {
            "title": "Written in the admin",
            "slug": "written-in-the-admin",
            "lang": "en",
            "summary": "",
            "markdown": "## Steps\n\nDo the thing.\n",
            "tags": "[]",
            "keywords": "[]",
            "symptoms": "[]",
            "sources": "[]",
            "published": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="written-in-the-admin")
    assert article.toc == [{"id": "steps", "title": "Steps", "level": 2}]
