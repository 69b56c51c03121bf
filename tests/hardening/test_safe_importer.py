"""The importer reads only what lies in the folder it was given, sizes files before reading
them, waits for SQLite's lock, and prints file names escaped."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import PYTHON, REPO

from kb.importer import import_paths
from kb.models import Article

pytestmark = pytest.mark.django_db


# The command runs in its own process on its own SQLite file, even when the suite itself runs
# against PostgreSQL (CI): these tests are about files and SQLite's lock.
SQLITE = {"KB_DATABASE_URL": "", "DATABASE_URL": ""}


def doc(title: str) -> str:
    return f"# {title}\n\nA document about envsubst and service links, for the importer.\n"


def test_it_never_follows_a_link_out_of_its_folder(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(doc("Secret outside the folder"))
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    (folder / "real.md").write_text(doc("Real document"))
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "secret.md").symlink_to(outside / "secret.md")
    (folder / "sub" / "up.md").symlink_to("../../outside/secret.md")
    (folder / "linked-folder").symlink_to(outside, target_is_directory=True)
    (folder / "alias.md").symlink_to("real.md")  # inside the folder: the same document

    report = import_paths([folder])

    assert sorted(Article.objects.values_list("slug", flat=True)) == ["real"]
    refused = {problem.path.name: problem.reason for problem in report.failed}
    assert set(refused) == {"passwd.txt", "secret.md", "up.md"}
    assert all("outside the folder" in reason for reason in refused.values())
    assert not Article.objects.filter(markdown__contains="root:").exists()


def test_it_sizes_a_sparse_4_gb_file_before_reading_it(tmp_path: Path, run_manage):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "ok.md").write_text(doc("Fine"))
    with (folder / "huge.md").open("wb") as handle:
        handle.truncate(4 * 1024**3)  # sparse: no disk used, 4 GB to whoever reads it
    run_manage("migrate", "--noinput", env=SQLITE)
    # The import runs under a small wrapper process whose only child it is, so the peak
    # resident size read there is the import's own (this test process has had other,
    # larger children).
    wrapper = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(done.stdout)\n"
        "sys.stderr.write(done.stderr)\n"
        "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(done.returncode)\n"
    )
    done = subprocess.run(
        [
            str(PYTHON),
            "-c",
            wrapper,
            str(PYTHON),
            str(REPO / "manage.py"),
            "import_articles",
            "--no-index",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "KB_VAR_DIR": str(tmp_path / "cli-var"), **SQLITE},
        check=False,
    )
    peak_kib = int(done.stdout.rsplit("PEAK_KIB", 1)[1])
    assert done.returncode == 1
    assert "huge.md: the file is 4,294,967,296 bytes; the limit is 1,000,000" in done.stderr
    assert "created 1" in done.stdout
    # The import stayed far below the 4 GB a read would take.
    assert peak_kib < 600 * 1024, peak_kib


def test_it_refuses_a_fifo_without_waiting_for_a_writer(tmp_path: Path, run_manage):
    folder = tmp_path / "articles"
    folder.mkdir()
    os.mkfifo(folder / "pipe.md")
    (folder / "ok.md").write_text(doc("Fine"))
    run_manage("migrate", "--noinput", env=SQLITE)
    done = run_manage("import_articles", "--no-index", str(folder), timeout=60, env=SQLITE)
    assert "pipe.md: not a regular file" in done.stderr
    assert "created 1" in done.stdout


def test_two_imports_at_once_on_sqlite_lose_nothing(tmp_path: Path, run_manage):
    folders = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        for n in range(250):
            (folder / f"{name}-{n:03}.md").write_text(doc(f"{name} document {n}"))
        folders.append(folder)
    run_manage("migrate", "--noinput", env=SQLITE)
    env = {**os.environ, "KB_VAR_DIR": str(tmp_path / "cli-var"), **SQLITE}
    imports = [
        subprocess.Popen(
            [str(PYTHON), str(REPO / "manage.py"), "import_articles", "--quiet", str(folder)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for folder in folders
    ]
    outputs = [process.communicate(timeout=600) for process in imports]
    for process, (out, err) in zip(imports, outputs, strict=True):
        assert process.returncode == 0, err.decode()[-2000:]
        assert b"created 250" in out
    database = tmp_path / "cli-var" / "kb.sqlite3"
    with sqlite3.connect(database) as connection:
        count = connection.execute("select count(*) from kb_article").fetchone()[0]
    assert count == 500


def test_it_prints_file_names_with_control_characters_escaped(tmp_path: Path, run_manage):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "evil\x1b[2J\x07name.md").write_text(doc("Evil name"))
    (folder / "forged\r0 errors.md").write_bytes(b"# bad \xc3\x28 not utf-8\n")
    run_manage("migrate", "--noinput", env=SQLITE)
    done = run_manage("import_articles", "--no-index", str(folder), env=SQLITE)
    output = done.stdout + done.stderr
    assert "\x1b" not in output and "\x07" not in output and "\r" not in output
    assert "evil\\x1b[2J\\x07name.md" in done.stdout
    assert "forged\\r0 errors.md: not valid UTF-8" in done.stderr
