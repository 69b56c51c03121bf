"""The production stack for real: gunicorn with KB_DEBUG=0, whitenoise static files, and
search that keeps answering while the index is rebuilt and the articles are re-imported.

This module runs its own SQLite file and index in a temporary folder, set up with the same
`manage.py` commands an operator runs (migrate, import_articles, collectstatic), because
gunicorn's workers are separate processes that cannot see the test database. Only
127.0.0.1 is contacted; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"

# Known queries and the article each must find, before, during and after a rebuild.
QUERIES = {
    "envsubst: Argument list too long": "nginx-envsubst-argument-list-too-long",
    "Too many pods": "kubelet-max-pods",
    "requires volume which is of an unsupported type": "aks-virtual-node-azure-files-pvc",
}


@dataclass
class Server:
    host: str
    port: int
    env: dict[str, str]
    log: Path

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=15)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(BIN / "python"), str(REPO / "manage.py"), *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _production_env(folder: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # Always our own SQLite file: the test database (SQLite or PostgreSQL) is not shared.
        if key not in ("KB_DATABASE_URL", "DATABASE_URL") and not key.startswith("PYTEST")
    }
    env.update(
        {
            "KB_DEBUG": "0",
            "KB_SECRET_KEY": "hardening-test-secret-key-" + "x" * 40,
            "KB_ALLOWED_HOSTS": "127.0.0.1",
            "KB_SECURE_SSL_REDIRECT": "0",
            "KB_VAR_DIR": str(folder),
            "KB_SQLITE_PATH": str(folder / "kb.sqlite3"),
            "KB_INDEX_DIR": str(folder / "index"),
            "KB_STATIC_ROOT": str(folder / "static"),
            "KB_LOG_LEVEL": "WARNING",
        }
    )
    return env


@contextlib.contextmanager
def running(
    srv: Server, argv: list[str], *, forbidden: tuple[str, ...], stop_seconds: float = 25
) -> Iterator[subprocess.Popen]:
    """Run gunicorn (`argv`) with the server's environment until the block ends.

    Waits up to 30 s for it to answer `/`, stops it with SIGTERM (SIGKILL after
    `stop_seconds`), then fails if its log holds any of the `forbidden` signs.
    """
    with srv.log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own gunicorn
            argv,
            env=srv.env,
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, srv.log.read_text()[-3000:]
            try:
                if srv.request("GET", "/")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
            time.sleep(0.2)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=stop_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    text = srv.log.read_text(errors="replace")
    for sign in forbidden:
        assert sign not in text, text[-3000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """gunicorn with two workers in production mode, on a free port, stopped at the end."""
    folder = tmp_path_factory.mktemp("production")
    port = _free_port()
    log = folder / "gunicorn.log"
    srv = Server("127.0.0.1", port, _production_env(folder), log)
    srv.manage("migrate", "--noinput")
    srv.manage("import_articles")
    srv.manage("collectstatic", "--noinput")
    # No 500 (django.request logs those) and no worker crash or timeout. django.security
    # logs refused Host headers with their traceback; that is Django's design, not a failure.
    forbidden = ("django.request", "Internal Server Error", "WORKER TIMEOUT", "Worker failed")
    argv = [
        str(BIN / "gunicorn"),
        "kb.wsgi",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "--graceful-timeout",
        "5",
    ]
    with running(srv, argv, forbidden=forbidden, stop_seconds=15):
        yield srv


def test_it_serves_pages_and_hashed_static_files_in_production(server):
    status, headers, body = server.request("GET", "/")
    assert status == 200
    stylesheet = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, "collectstatic's hashed names are used in production"
    status, headers, css = server.request("GET", stylesheet.group(1).decode())
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "max-age=315360000" in headers["Cache-Control"]
    assert css
    for page in ("/", "/articles/", "/analyze/", "/troubleshoot/", "/search/?q=envsubst"):
        status, headers, _ = server.request("GET", page)
        assert status == 200, page
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_it_answers_404_and_400_pages_without_debug_output(server):
    status, _, body = server.request("GET", "/articles/no-such-article/")
    assert status == 404
    assert b"Traceback" not in body and b"DEBUG" not in body
    status, _, body = server.request("GET", "/", headers={"Host": "evil.example"})
    assert status == 400
    assert b"evil.example" not in body


def test_it_refuses_a_40_mb_body_from_content_length_before_reading_it(server):
    """Only the headers and 64 kB are sent: the 413 must come without the rest of the body."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=15)
    try:
        connection.putrequest("POST", "/api/analyze/")
        connection.putheader("Content-Type", "application/yaml")
        connection.putheader("Content-Length", str(40 * 1024 * 1024))
        connection.endheaders()
        connection.send(b"kind: Pod\n" * 6_500)
        started = time.monotonic()
        response = connection.getresponse()
        body = response.read()
        elapsed = time.monotonic() - started
    finally:
        connection.close()
    assert response.status == 413
    assert json.loads(body)["limit"]
    assert elapsed < 5


def test_search_keeps_answering_while_the_index_is_rebuilt_and_reimported(server):
    """Three threads search for known errors while rebuild_index runs 3 times and
    import_articles --force once; every answer is a 200 that finds the expected article."""
    for query, slug in QUERIES.items():
        status, _, body = server.request("GET", f"/api/search/?q={quote(query)}&limit=5")
        assert status == 200
        assert slug in [hit["slug"] for hit in json.loads(body)["results"]], query

    stop = threading.Event()
    answers: list[tuple[str, int, list[str]]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def load(offset: int) -> None:
        queries = list(QUERIES.items())
        count = offset
        while not stop.is_set() and count < 2_000:
            query, _ = queries[count % len(queries)]
            count += 1
            try:
                status, _, body = server.request("GET", f"/api/search/?q={quote(query)}&limit=5")
                slugs = (
                    [hit["slug"] for hit in json.loads(body)["results"]] if status == 200 else []
                )
            except Exception as error:  # noqa: BLE001 (every failure is a finding here)
                with lock:
                    failures.append(f"{query}: {error!r}")
                continue
            with lock:
                answers.append((query, status, slugs))

    threads = [threading.Thread(target=load, args=(n,), daemon=True) for n in range(3)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    try:
        for _ in range(3):
            server.manage("rebuild_index")
        server.manage("import_articles", "--force")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
    elapsed = time.monotonic() - started
    print(f"{len(answers)} searches during {elapsed:.1f} s of rebuilds and a forced import")

    assert failures == []
    assert len(answers) >= 30, "the load ran alongside the rebuilds"
    wrong = [
        (query, status, slugs)
        for query, status, slugs in answers
        if status != 200 or QUERIES[query] not in slugs
    ]
    assert wrong == []
