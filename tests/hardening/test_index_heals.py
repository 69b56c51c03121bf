"""A missing, damaged or stale search index never makes a search surface fail, and heals.

In-process tests use the test client on a real index in a temporary folder; the last ones run
gunicorn in production mode (like test_production_server.py) and damage its index on disk, or
kill an import with SIGKILL, while it serves. Only 127.0.0.1 is contacted; waits are bounded.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from test_production_server import BIN, REPO, Server, _free_port, _production_env, running

from kb.search import caches, heal_index, index_dir, index_exists, search_articles

QUERY = "envsubst: Argument list too long"
SLUG = "nginx-envsubst-argument-list-too-long"
NOTICE = "The search index is being rebuilt"


def empty_the_folder(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink()


def garbage_in_the_toc(folder: Path) -> None:
    for toc in folder.glob("_MAIN_*.toc"):
        toc.write_bytes(b"\x80garbage, not a pickle" * 10)


def truncated_segments(folder: Path) -> None:
    for segment in folder.glob("*.seg"):
        with segment.open("r+b") as handle:
            handle.truncate(segment.stat().st_size // 3)


DAMAGE = {
    "empty folder": empty_the_folder,
    "garbage in the toc": garbage_in_the_toc,
    "truncated segment": truncated_segments,
}


def assert_every_surface_answers_from_the_database(client) -> None:
    page = client.get(f"/search/?q={quote(QUERY)}")
    assert page.status_code == 200
    assert SLUG in page.content.decode() and NOTICE in page.content.decode()
    live = client.get(f"/search/?q={quote(QUERY)}", headers={"HX-Request": "true"})
    assert live.status_code == 200 and NOTICE in live.content.decode()
    assert client.post("/search/", {"q": QUERY}).status_code == 200
    api = client.get(f"/api/search/?q={quote(QUERY)}")
    assert api.status_code == 200
    assert [(hit["slug"], hit["source"]) for hit in api.json()["results"]] == [(SLUG, "database")]
    lookup = client.get(f"/lookup/?error={quote(QUERY)}")
    # /lookup/ answers from the diagnosis, which needs no index: still the right section.
    assert lookup.status_code == 302 and lookup["Location"].startswith(f"/articles/{SLUG}/#")
    assert client.get("/").status_code == 200
    diagnose = client.post("/api/diagnose/", "some unknown failure text", content_type="text/plain")
    assert diagnose.status_code == 200


@pytest.mark.parametrize("damage", DAMAGE)
def test_search_surfaces_answer_from_the_database_and_the_index_heals(client, search_index, damage):
    assert search_articles(QUERY)[0].source == "index"
    DAMAGE[damage](index_dir().resolve())
    # This thread's open searcher may still read what it loaded; a new worker opens the disk.
    caches.searchers.forget()
    caches.results.clear()
    assert_every_surface_answers_from_the_database(client)
    assert heal_index() is True
    hits = search_articles(QUERY)
    assert (hits[0].slug, hits[0].source) == (SLUG, "index")


def test_rebuild_index_starts_from_scratch_whatever_is_on_disk(articles, settings):
    call_command("rebuild_index")
    folder = index_dir().resolve()
    garbage_in_the_toc(folder)
    truncated_segments(folder)
    (folder / "stray.bin").write_bytes(b"\x00" * 100)
    call_command("rebuild_index")
    assert not folder.exists(), "the damaged folder was replaced, not patched"
    assert search_articles(QUERY)[0].source == "index"
    # A plain folder where the link belongs (an index from before links) is replaced too.
    current = index_dir().resolve()
    index_dir().unlink()
    shutil.copytree(current, index_dir())
    garbage_in_the_toc(index_dir())
    call_command("import_articles", "--quiet")
    assert index_dir().is_symlink() and index_exists()
    assert search_articles(QUERY)[0].source == "index"


def test_an_index_built_before_a_change_is_rebuilt(articles):
    from kb.models import Article

    call_command("rebuild_index")
    caches.searchers.forget()
    # What an import killed between saving its rows and rebuilding leaves behind.
    Article.objects.create(slug="late-arrival", title="Zyxwvut late arrival", markdown="x", html="")
    assert search_articles("zyxwvut") == []  # the stale index does not know it yet
    assert heal_index() is True
    assert search_articles("zyxwvut")[0].source == "index"


def test_one_searcher_and_one_tagger_per_thread_give_the_same_answers(search_index):
    """Eight threads search English and Japanese at once: no error, no wrong answer."""
    queries = {
        QUERY: SLUG,
        "Too many pods": "kubelet-max-pods",
        "引数リストが長すぎます": SLUG,
    }
    expected = {query: search_articles(query, limit=5) for query in queries}
    failures: list[str] = []

    def run(offset: int) -> None:
        for n in range(60):
            query = list(queries)[(n + offset) % len(queries)]
            caches.results.clear()  # every search reaches the index, not the answer cache
            try:
                got = search_articles(query, limit=5)
            except Exception as error:  # noqa: BLE001 - every failure is a finding here
                failures.append(repr(error))
                continue
            if [h.slug for h in got] != [h.slug for h in expected[query]]:
                failures.append(f"{query}: {[h.slug for h in got]}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert all(expected[q][0].slug == slug for q, slug in queries.items())


# --- the real server --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def healing_server(tmp_path_factory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("healing")
    port = _free_port()
    log = folder / "gunicorn.log"
    env = _production_env(folder)
    env["KB_INDEX_CHECK_SECONDS"] = "1"
    srv = Server("127.0.0.1", port, env, log)
    srv.manage("migrate", "--noinput")
    srv.manage("import_articles")
    srv.manage("collectstatic", "--noinput")
    forbidden = ("Internal Server Error", "WORKER TIMEOUT", "Worker failed", "SIGBUS", "signal 7")
    argv = [str(BIN / "gunicorn"), "kb.wsgi", "--config", "gunicorn.conf.py"]
    argv += ["--bind", f"127.0.0.1:{port}", "--no-control-socket"]
    with running(srv, argv, forbidden=forbidden, stop_seconds=25):
        yield srv


def sources(server: Server, query: str) -> list[tuple[str, str]]:
    status, _, body = server.request("GET", f"/api/search/?q={quote(query)}&limit=50")
    assert status == 200, body[:500]
    return [(hit["slug"], hit["source"]) for hit in json.loads(body)["results"]]


def wait_for(condition, seconds: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not healed in time"
        time.sleep(0.5)


def test_the_server_survives_a_truncated_segment_and_heals_it(healing_server):
    server = healing_server
    assert sources(server, QUERY)[0] == (SLUG, "index")
    link = Path(server.env["KB_INDEX_DIR"]) / index_dir().name
    damaged = link.resolve()
    truncated_segments(damaged)
    garbage_in_the_toc(damaged)
    # Every search is answered meanwhile (from the database where a thread's searcher fails),
    # until a worker has rebuilt the index into a new folder.
    answers = []
    deadline = time.monotonic() + 60
    while link.resolve() == damaged:
        assert time.monotonic() < deadline, f"not healed in 60 s: {answers[-5:]}"
        found = sources(server, QUERY)
        assert found and found[0][0] == SLUG
        answers.append(found[0][1])
        time.sleep(0.2)
    assert "database" in answers
    for _ in range(20):  # every thread of every worker now reads the new index
        assert sources(server, QUERY)[0] == (SLUG, "index")


def test_an_import_killed_mid_run_leaves_a_stale_index_that_heals(healing_server, tmp_path):
    server = healing_server
    folder = tmp_path / "many"
    folder.mkdir()
    # Enough documents, rendered in one process, that the kill lands mid-run: the importer
    # commits in batches (up to 500 documents or 1 s), not one document at a time.
    total = 2000
    for n in range(total):
        (folder / f"doc-{n:04}.md").write_text(
            f"# Kill test document {n}\n\nThe marker word is qqkill{n:04}x in this text.\n"
        )
    database = server.env["KB_SQLITE_PATH"]

    def imported() -> int:
        with sqlite3.connect(database, timeout=20) as connection:
            return connection.execute(
                "select count(*) from kb_article where slug like 'doc-%'"
            ).fetchone()[0]

    process = subprocess.Popen(
        [
            str(BIN / "python"),
            str(REPO / "manage.py"),
            "import_articles",
            "--quiet",
            "--workers",
            "1",
            str(folder),
        ],
        env=server.env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: imported() >= 20, seconds=120)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    count = imported()
    assert 20 <= count < total, "killed mid-run, before the index was rebuilt"
    last = f"qqkill{count - 1:04}x"
    # The running server notices the database moved on and rebuilds from it.
    wait_for(lambda: sources(server, last) == [(f"doc-{count - 1:04}", "index")], seconds=90)
