"""`manage.py rebuild_index` builds the index from the database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from kb.models import Article
from kb.search import index_dir, index_exists, search_articles

REPO = Path(__file__).resolve().parents[2]


def test_it_builds_the_index_from_the_database(articles, capsys) -> None:
    assert not index_exists()
    call_command("rebuild_index")
    assert f"Indexed {Article.objects.count()} articles" in capsys.readouterr().out
    assert search_articles("Too many pods")[0].slug == "kubelet-max-pods"


def test_it_explains_a_database_without_tables(tmp_path) -> None:
    env = {"KB_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "manage.py", "rebuild_index"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "run `manage.py migrate` first" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_it_indexes_an_empty_database(capsys) -> None:
    call_command("rebuild_index")
    assert "Indexed 0 articles" in capsys.readouterr().out
    assert index_exists()
    assert search_articles("nginx") == []


def test_it_rebuilds_a_damaged_index_even_when_nothing_changed(articles) -> None:
    call_command("rebuild_index")
    for segment in index_dir().glob("*.seg"):
        segment.write_bytes(b"garbage")
    call_command("rebuild_index")
    assert search_articles("Too many pods")[0].slug == "kubelet-max-pods"


def test_it_skips_an_up_to_date_index_with_if_changed(articles, capsys) -> None:
    call_command("rebuild_index")
    stamp = {p.name: p.stat().st_mtime_ns for p in index_dir().iterdir()}
    call_command("rebuild_index", "--if-changed")
    assert {p.name: p.stat().st_mtime_ns for p in index_dir().iterdir()} == stamp
    assert f"Indexed {Article.objects.count()} articles" in capsys.readouterr().out
