"""The importer on real files: front matter styles, titles, languages, bad files, idempotency."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kb.importer import import_paths, slug_from_stem
from kb.models import Article

FIXTURES = Path(__file__).parent / "fixtures" / "docs"
# Beside the repository, or where KB_SEEDS_DIR says (as in tests/conftest.py).
SEEDS = Path(
    os.environ.get("KB_SEEDS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "seeds"
).resolve()

pytestmark = pytest.mark.django_db


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A writable copy of the good fixture documents."""
    root = tmp_path / "docs"
    shutil.copytree(FIXTURES / "good", root)
    return root


def test_it_imports_every_style_with_titles_languages_and_front_matter(docs):
    report = import_paths([docs])
    assert not report.failed
    assert len(report.created) == 7  # nested/README.md is skipped in a folder walk
    got = {a.slug: (a.title, a.lang) for a in Article.objects.all()}
    assert got == {
        "pod-pending-hugepages": ("Pod stays Pending after asking for hugepages", "en"),
        "ja-configmap": ("ConfigMap を subPath でマウントすると更新が反映されない", "ja"),
        "php-upload-tmp": ("上传文件时提示临时目录不存在", "zh"),
        "zenn-efs-options": ("EFS をマウントしたときのオプションを確かめる", "ja"),
        "2023-05-01-jekyll-source-ip": ("Client IP lost behind a NodePort", "en"),
        "service-links-scraped": ("サービスが増えるとサイドカーの起動に失敗する話", "ja"),
        "zh-hugepages-scraped": ("开启大页之后 PHP 报内存不足", "zh"),
    }


def test_it_validates_and_keeps_front_matter_fields(docs):
    import_paths([docs])
    hugepages = Article.objects.get(slug="pod-pending-hugepages")
    assert hugepages.tags == ["kubernetes", "hugepages"]
    assert hugepages.keywords == ["ヒュージページ", "スケジュールされない", "巨页", "调度失败"]
    assert hugepages.symptoms == ["0/3 nodes are available: 3 Insufficient hugepages-2Mi."]
    assert hugepages.sources == [
        "https://kubernetes.io/docs/tasks/manage-hugepages/scheduling-hugepages/"
    ]
    assert hugepages.summary.startswith("A pod that requests more 2Mi hugepages")
    assert [e["id"] for e in hugepages.toc][1:] == ["symptoms", "symptoms-2", "fix"]
    assert not hugepages.markdown.startswith("---")  # the body, without front matter
    hexo = Article.objects.get(slug="php-upload-tmp")
    assert hexo.tags == [] and str(hexo.published) == "2021-03-02"
    assert Article.objects.get(slug="zenn-efs-options").tags == ["aws", "efs", "nfs"]
    jekyll = Article.objects.get(slug="2023-05-01-jekyll-source-ip")
    assert jekyll.tags == ["kubernetes", "service", "networking"]
    assert jekyll.summary.startswith("The Service rewrites")
    scraped = Article.objects.get(slug="service-links-scraped")
    assert (
        scraped.summary == "こんにちは。今回は検証環境で出会った不思議な起動失敗について書きます。"
    )
    assert '<pre class="plain-code"><code>apiVersion: apps/v1' in scraped.html


def test_it_skips_readme_in_a_walk_but_imports_one_given_by_name(docs):
    import_paths([docs])
    assert not Article.objects.filter(slug="readme").exists()
    report = import_paths([docs / "nested" / "README.md"])
    assert [p.name for p in report.created] == ["README.md"]


def test_it_reports_bad_files_with_reasons_and_imports_the_rest(tmp_path, docs):
    shutil.copy(FIXTURES / "bad" / "broken-frontmatter.md", docs / "broken-frontmatter.md")
    (docs / "binary.md").write_bytes(b"PNG\x00\x01\x02 not text")
    (docs / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (docs / "bad-sources.md").write_text("---\nsources: [ftp://example.com/x]\n---\nBody.\n")
    (docs / "bad-title.md").write_text("---\ntitle: [a, b]\n---\nBody.\n")
    (docs / "bad-slug.md").write_text("---\nslug: Not A Slug\n---\nBody.\n")
    report = import_paths([docs])
    reasons = {p.path.name: p.reason for p in report.failed}
    assert reasons["broken-frontmatter.md"].startswith("front matter: line 4: invalid YAML")
    assert "binary file" in reasons["binary.md"]
    assert "not valid UTF-8" in reasons["latin1.txt"]
    assert "'sources'" in reasons["bad-sources.md"]
    assert "'title' must be a string" in reasons["bad-title.md"]
    assert "'slug'" in reasons["bad-slug.md"]
    assert len(report.created) == 7


def test_it_reads_utf16_with_a_bom_and_utf8_with_a_bom(tmp_path):
    root = tmp_path / "enc"
    root.mkdir()
    (root / "utf16.md").write_bytes("# 虚拟节点不支持持久卷\n\n挂载时报错。\n".encode("utf-16"))
    (root / "utf8sig.md").write_bytes("# BOM first\n\nPlain English body.\n".encode("utf-8-sig"))
    report = import_paths([root])
    assert not report.failed
    assert Article.objects.get(slug="utf16").title == "虚拟节点不支持持久卷"
    assert Article.objects.get(slug="utf16").lang == "zh"
    assert Article.objects.get(slug="utf8sig").title == "BOM first"


def test_it_fails_the_second_file_with_a_duplicate_slug(tmp_path):
    root = tmp_path / "dup"
    root.mkdir()
    (root / "a.md").write_text("---\nslug: same-slug\n---\n# First\n")
    (root / "b.md").write_text("---\nslug: same-slug\n---\n# Second\n")
    report = import_paths([root])
    assert [p.name for p in report.created] == ["a.md"]
    assert report.failed[0].path.name == "b.md"
    assert "duplicate slug 'same-slug'" in report.failed[0].reason
    assert Article.objects.get(slug="same-slug").title == "First"


def test_it_skips_a_category_word_above_the_real_title(tmp_path):
    root = tmp_path / "cat"
    root.mkdir()
    (root / "post.txt").write_text(
        "networking\n\nノードを越えると送信元アドレスが変わる\n\nnetworking\n\n"
        "本文です。ここでは NodePort の挙動を説明します。\n"
    )
    import_paths([root])
    article = Article.objects.get(slug="post")
    assert article.title == "ノードを越えると送信元アドレスが変わる"
    assert article.lang == "ja"


def test_it_never_derives_the_slug_from_the_title(docs):
    import_paths([docs])
    path = docs / "ja-configmap.md"
    path.write_text(path.read_text().replace("反映されない", "反映されないときの対処"))
    report = import_paths([docs])
    assert [p.name for p in report.updated] == ["ja-configmap.md"]
    assert Article.objects.get(slug="ja-configmap").title.endswith("反映されないときの対処")


def test_it_makes_slugs_from_file_names_or_a_hash():
    assert slug_from_stem("My Post_2024 (draft)") == "my-post-2024-draft"
    assert slug_from_stem("Café") == "cafe"
    fallback = slug_from_stem("大页")
    assert fallback.startswith("doc-") and len(fallback) == 14
    assert fallback == slug_from_stem("大页")


def test_it_is_idempotent_and_updates_only_what_changed(docs):
    first = import_paths([docs])
    assert len(first.created) == 7
    second = import_paths([docs])
    assert (len(second.created), len(second.updated), len(second.unchanged)) == (0, 0, 7)
    target = docs / "zh-hugepages-scraped.txt"
    target.write_text(target.read_text() + "\n补充：重启之后再检查一次。\n")
    third = import_paths([docs])
    assert [p.name for p in third.updated] == ["zh-hugepages-scraped.txt"]
    assert len(third.unchanged) == 6
    assert "补充" in Article.objects.get(slug="zh-hugepages-scraped").markdown


def test_it_prunes_only_within_the_given_root(tmp_path, docs):
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep-me.md").write_text("# Elsewhere\n\nAnother folder.\n")
    import_paths([docs, other])
    (docs / "ja-configmap.md").unlink()
    (other / "keep-me.md").unlink()
    without_prune = import_paths([docs])
    assert without_prune.pruned == []
    assert Article.objects.filter(slug="ja-configmap").exists()
    report = import_paths([docs], prune=True)
    assert report.pruned == ["ja-configmap"]
    assert not Article.objects.filter(slug="ja-configmap").exists()
    assert Article.objects.filter(slug="keep-me").exists()  # its root was not pruned


def test_it_reports_an_admin_edit_as_a_conflict_until_forced(docs):
    import_paths([docs])
    article = Article.objects.get(slug="ja-configmap")
    article.title = "管理画面で直したタイトル"
    article.save()
    assert article.edited_locally
    path = docs / "ja-configmap.md"
    path.write_text(path.read_text() + "\n追記しました。\n")
    report = import_paths([docs])
    assert [p.path.name for p in report.conflicts] == ["ja-configmap.md"]
    assert Article.objects.get(slug="ja-configmap").title == "管理画面で直したタイトル"
    forced = import_paths([docs], force=True)
    assert "ja-configmap.md" in [p.name for p in forced.updated]
    article.refresh_from_db()
    assert article.title.startswith("ConfigMap を subPath")
    assert not article.edited_locally


def test_it_reports_a_missing_path(tmp_path):
    report = import_paths([tmp_path / "nowhere"])
    assert report.failed[0].reason == "no such file or directory"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seeds folder is not beside the repository")
def test_it_imports_the_real_seeds_with_their_titles_and_languages():
    report = import_paths([SEEDS])
    assert not report.failed
    got = {a.slug[:3]: (a.title, a.lang) for a in Article.objects.all()}
    assert got == {
        "000": (
            "AKS 上にデプロイした httpd で Azure Files をドキュメントルートに指定すると"
            "異常なレスポンスを返却することがある",
            "ja",
        ),
        "001": (
            "Kubernetesクラスタ内に大量のServiceリソースがあるとNginxコンテナが起動しなくなる",
            "ja",
        ),
        # The scrape lost 002's title (it opens with a numbered section heading and a
        # sentence fragment): the subject of its topic sentence stands in.
        "002": (
            "ACI 仮想ノード上の複数 Pod より、ReadWriteMany 可能な Azure Files の共有フォルダ"
            "( Azure ファイル共有)をマウントする際のハマリポイント",
            "ja",
        ),
        "003": ("LambdaのEFSマウントを調べてみた", "ja"),
        "004": ("PHP 容器化 K8S 迁移问题排查解决", "zh"),
    }
    hexo = Article.objects.get(slug="004-b607f83b3e5a9ed9")
    # Its Hexo front matter has an empty `tags:`: they are inferred from the text.
    assert {"php", "hugepages", "kubernetes"} <= set(hexo.tags)
    assert str(hexo.published) == "2019-07-19"


def test_it_skips_fragments_and_bullets_when_guessing_a_plain_title(tmp_path):
    doc = tmp_path / "scraped.txt"
    doc.write_text(
        "0. Introduction\nThe cluster autoscaler of\n- a bullet point line\n"
        "Pods on virtual nodes cannot mount a PVC.\nMore text follows here.\n",
        encoding="utf-8",
    )
    import_paths([tmp_path])
    assert Article.objects.get(slug="scraped").title == "Pods on virtual nodes cannot mount a PVC"
