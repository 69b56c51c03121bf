"""manage.py import_articles: progress, summary line, index rebuild and exit code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kb.models import Article
from kb.search import index_exists

FIXTURES = Path(__file__).parent / "fixtures" / "docs"
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_articles", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_prints_the_summary_and_rebuilds_the_index(tmp_path):
    root = tmp_path / "docs"
    shutil.copytree(FIXTURES / "good", root)
    out, err = _run(str(root))
    assert "created  " in out and "ja-configmap.md" in out
    assert "created 7, updated 0, unchanged 0, failed 0, conflicts 0, pruned 0" in out
    assert "search index rebuilt: 7 articles" in out
    assert index_exists()
    assert err == ""
    again, _ = _run(str(root), "--quiet", "--no-index")
    assert again.strip() == "created 0, updated 0, unchanged 7, failed 0, conflicts 0, pruned 0"


def test_it_lists_failures_and_exits_with_status_1(tmp_path):
    root = tmp_path / "docs"
    shutil.copytree(FIXTURES / "good", root)
    shutil.copy(FIXTURES / "bad" / "broken-frontmatter.md", root)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_articles", str(root), "--no-index", stdout=out, stderr=err)
    assert caught.value.returncode == 1
    assert "failed    " in err.getvalue() and "broken-frontmatter.md: front matter: line 4" in (
        err.getvalue()
    )
    assert "created 7, updated 0, unchanged 0, failed 1, conflicts 0, pruned 0" in out.getvalue()
    assert Article.objects.count() == 7


def test_it_lists_conflicts_and_overwrites_with_force(tmp_path):
    root = tmp_path / "docs"
    shutil.copytree(FIXTURES / "good", root)
    _run(str(root), "--no-index")
    Article.objects.filter(slug="php-upload-tmp").update(title="后台改过的标题")
    (root / "php-upload-tmp.md").write_text(
        (root / "php-upload-tmp.md").read_text() + "\n补充说明。\n"
    )
    out, err = _run(str(root), "--no-index")
    assert "conflict  " in err and "php-upload-tmp.md: edited in the admin" in err
    assert "conflicts 1" in out
    out, _ = _run(str(root), "--no-index", "--force")
    assert "updated 7" in out
    assert Article.objects.get(slug="php-upload-tmp").title == "上传文件时提示临时目录不存在"


def test_it_prunes_with_the_flag(tmp_path):
    root = tmp_path / "docs"
    shutil.copytree(FIXTURES / "good", root)
    _run(str(root), "--no-index")
    (root / "zenn-efs-options.md").unlink()
    out, _ = _run(str(root), "--no-index", "--prune")
    assert "pruned 1" in out and "pruned  " in out
    assert not Article.objects.filter(slug="zenn-efs-options").exists()


def test_it_defaults_to_the_articles_dir(settings, tmp_path):
    settings.KB_ARTICLES_DIR = tmp_path / "articles"
    settings.KB_ARTICLES_DIR.mkdir()
    (settings.KB_ARTICLES_DIR / "one.md").write_text("# One\n\nThe only article.\n")
    out, _ = _run("--no-index")
    assert "created 1," in out
    assert Article.objects.get().slug == "one"


def test_it_takes_slugs_from_titles_when_asked(tmp_path, db):
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "2019-07-19-post.md").write_text("# Nginx exits at start\n\nText.\n")
    out = StringIO()
    call_command("import_articles", str(folder), "--slug-from", "title", "--no-index", stdout=out)
    assert Article.objects.get().slug == "nginx-exits-at-start"
    with pytest.raises(CommandError):
        call_command("import_articles", str(folder), "--slug-from", "nonsense", stdout=out)


def test_it_explains_a_database_without_tables(tmp_path):
    # As a new user meets it: a fresh KB_VAR_DIR, the import run before `migrate`.
    env = {"KB_VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    (tmp_path / "var").mkdir()
    result = subprocess.run(
        [sys.executable, "manage.py", "import_articles", str(FIXTURES / "good"), "--no-index"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "unapplied migration(s); run `manage.py migrate` first" in result.stderr
    assert "Traceback" not in result.stderr
