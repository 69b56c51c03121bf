"""The fast import and index paths give exactly what the one-at-a-time paths give.

Large imports render in worker processes and save in batches (one INSERT per batch of new
rows); large rebuilds analyse articles in worker processes. These tests run both ways on the
same files, in the real test database, and compare every column and every posting. Speed is
measured in bench/, never asserted here.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings

from kb.importer import PARALLEL_MIN_DOCUMENTS, import_paths
from kb.models import Article
from kb.search.index import PARALLEL_MIN_ARTICLES, rebuild_index, storage

COLUMNS = (
    "slug", "lang", "title", "markdown", "html", "toc", "summary", "tags", "keywords",
    "symptoms", "sources", "published", "source_path", "content_hash", "body_sha256",
    "imported_fingerprint", "translated_from", "original_reports", "front_matter",
    "translation_of__slug",
)  # fmt: skip


def write_corpus(folder: Path, count: int) -> None:
    """Varied documents: code blocks, tables, plain text, a translation, a draft, a broken
    file and a duplicate slug, so that every branch of the import runs in both modes."""
    folder.mkdir()
    for n in range(count):
        if n % 3 == 0:
            text = (
                f"# Pod {n} restarts\n\nThe kubelet says `Back-off restarting failed container "
                f"c{n}`.\n\n```yaml\nspec:\n  containers:\n    - name: c{n}\n```\n\n"
                f"| field | value |\n|---|---|\n| n | {n} |\n"
            )
            (folder / f"doc-{n:03}.md").write_text(text)
        elif n % 3 == 1:
            (folder / f"note-{n:03}.txt").write_text(
                f"Scraped note {n}\n\nThe node reported DiskPressure {n} times.\n"
            )
        else:
            (folder / f"ja-{n:03}.md").write_text(
                f"# ボリューム {n} がマウントできない\n\n"
                f"エラー: `MountVolume.SetUp failed` ({n})。\n"
            )
    (folder / "original.md").write_text(
        "---\ntitle: Original\nslug: original-one\nlang: en\n---\n\n## Cause {#cause}\n\nText.\n"
    )
    (folder / "original.ja.md").write_text(
        "---\ntitle: 原文\ntranslation_of: original-one\nlang: ja\n---\n\n"
        "## 原因 {#cause}\n\n本文。\n"
    )
    (folder / "draft.md").write_text("---\ntitle: Draft\npublished: false\n---\n\nNot yet.\n")
    (folder / "broken.md").write_bytes(b"\x80\x81 not UTF-8")
    (folder / "twin.md").write_text("---\ntitle: Twin\nslug: doc-000\n---\n\nSame slug.\n")


def rows() -> list[tuple]:
    return sorted(Article.objects.values_list(*COLUMNS))


def outcome(report) -> dict:  # noqa: ANN001
    return {
        "created": sorted(map(str, report.created)),
        "failed": sorted(str(p) for p in report.failed),
        "skipped": sorted(str(p) for p in report.skipped),
    }


@pytest.mark.django_db
def test_parallel_batched_import_saves_the_same_rows_as_one_at_a_time(tmp_path, caplog):
    folder = tmp_path / "docs"
    write_corpus(folder, PARALLEL_MIN_DOCUMENTS + 6)
    serial = import_paths([folder], workers=1)
    expected = rows()
    assert len(expected) == PARALLEL_MIN_DOCUMENTS + 6 + 2  # the twin, draft, broken fail
    Article.objects.all().delete()
    parallel = import_paths([folder], workers=2)
    assert "worker died" not in caplog.text  # the workers did render
    assert rows() == expected
    assert outcome(parallel) == outcome(serial)
    # Ids follow file order in both modes (one INSERT per batch keeps the order).
    ordered = list(Article.objects.order_by("pk").values_list("source_path", flat=True))
    assert ordered == sorted(ordered, key=lambda p: (p.endswith(".ja.md"), p))
    # A second run finds everything unchanged.
    again = import_paths([folder], workers=2)
    assert len(again.unchanged) == len(expected) and not again.created and not again.updated


@pytest.mark.django_db
def test_a_row_the_database_refuses_fails_alone_in_a_batch(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(5):
        (folder / f"doc-{n}.md").write_text(f"# Document {n}\n\nBody {n}.\n")
    # A row the importer does not see as the original of doc-2 but that holds its
    # (slug, lang): the batch's INSERT is refused, and only doc-2 may fail.
    other = Article.objects.create(slug="other", title="Other", markdown="x", html="")
    Article.objects.create(slug="doc-2", lang="en", title="X", translation_of=other, html="")
    report = import_paths([folder], workers=1)
    assert [p.name for p in report.created] == ["doc-0.md", "doc-1.md", "doc-3.md", "doc-4.md"]
    assert [p.path.name for p in report.failed] == ["doc-2.md"]
    assert "refused" in report.failed[0].reason
    assert Article.objects.filter(translation_of__isnull=True).count() == 5  # 4 + "other"


def index_digest(folder: Path) -> str:
    """Every stored field, term, posting weight and field length of an index."""
    ix = storage(folder).open_index()
    digest = hashlib.sha256()
    with ix.reader() as reader:
        for docnum, stored in reader.iter_docs():
            digest.update(repr((docnum, sorted(stored.items()))).encode())
        for name in sorted(ix.schema.names()):
            if not ix.schema[name].indexed:
                continue
            for term in reader.lexicon(name):
                postings = reader.postings(name, term)
                weights = list(postings.items_as("weight"))
                info = reader.term_info(name, term)
                stats = (
                    info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                    info.max_weight(), info.min_id(), info.max_id(),
                )  # fmt: skip
                postings = reader.postings(name, term)
                values = list(postings.all_items())
                digest.update(repr((name, term, weights, stats, values)).encode())
            lengths = [reader.doc_field_length(d, name) for d in range(reader.doc_count_all())]
            digest.update(repr((name, lengths)).encode())
    return digest.hexdigest()


@pytest.mark.django_db
@pytest.mark.parametrize("page", [4096, 7])
def test_parallel_analysis_builds_the_same_index(tmp_path, monkeypatch, page):
    # Pages of 7 postings: the key space is cut into many ranges, encoded by several
    # workers, some ranges starting in the middle of a field.
    from kb.search import bulk

    monkeypatch.setattr(bulk, "PAGE_POSTINGS", page)
    folder = tmp_path / "docs"
    write_corpus(folder, PARALLEL_MIN_ARTICLES + 3)
    import_paths([folder], workers=1)
    assert Article.objects.count() >= PARALLEL_MIN_ARTICLES
    digests = []
    for workers in (1, 2):
        with override_settings(KB_INDEX_DIR=tmp_path / f"index-{workers}"):
            count = rebuild_index(force=True, workers=workers)
            assert count == Article.objects.count()
            from kb.search.index import index_dir

            digests.append(index_digest(index_dir().resolve()))
    assert digests[0] == digests[1]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_rendering_workers_exit_when_the_import_is_killed(tmp_path):
    folder = tmp_path / "docs"
    write_corpus(folder, 3000)
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("KB_DATABASE_URL", "DATABASE_URL")}
    env.update(KB_VAR_DIR=str(var), KB_SQLITE_PATH=str(var / "kb.sqlite3"))
    env.update(KB_INDEX_DIR=str(var / "index"), DJANGO_SETTINGS_MODULE="kb.settings")
    repo = Path(__file__).resolve().parent.parent.parent
    manage = [sys.executable, str(repo / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=repo, check=True, timeout=120)
    process = subprocess.Popen(
        [*manage, "import_articles", "--quiet", "--workers", "2", str(folder)],
        env=env,
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(children(process.pid)) < 2:
            assert process.poll() is None, "the import ended before its workers were seen"
            assert time.monotonic() < deadline, "no rendering workers"
            time.sleep(0.1)
        workers = children(process.pid)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "orphaned rendering workers still running"
        time.sleep(0.2)
