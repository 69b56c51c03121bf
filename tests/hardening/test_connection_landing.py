"""A burst of connections is shared between the workers (kb/serving.py, the accept hold).

gunicorn runs as `make serve` runs it, two workers on one listening socket, with the hold set
to one second (`KB_ACCEPT_HOLD_MS=1000`) so that the test does not depend on how fast the
machine schedules a process. One worker is stopped (SIGSTOP) while three connections arrive:
the running worker must take the first two, then leave the third in the queue for the other
worker instead of taking it at once. Without the hold it takes all three, every time. Then
the stopped worker stays stopped and five more connections arrive: the one running worker
must still answer every one of them once its holds end.

Which worker answered is read from gunicorn's access log (the `%(p)s` field).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_production_server import Server
from test_slow_and_heavy_clients import children_of, make_serve

HOLD_MS = 1000


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("landing")
    access = folder / "access.log"
    args = f'--access-logfile {access} --access-logformat "%(p)s %(U)s?%(q)s" --workers 2'
    with make_serve(folder, KB_ACCEPT_HOLD_MS=str(HOLD_MS), GUNICORN_CMD_ARGS=args) as server:
        yield server, access


def _who_answered(access: Path, tag: str, seconds: float = 10) -> str:
    """The worker (pid as gunicorn logs it) that answered the request tagged `tag`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in access.read_text(errors="replace").splitlines():
            pid, _, path = line.partition(" ")
            if path.endswith(f"landing={tag}"):
                return pid.strip("<>")
        time.sleep(0.05)
    raise AssertionError(f"no access log line for landing={tag}")


def _ask(sock: socket.socket, tag: str) -> bytes:
    """One GET of the home page on an open connection; the status line of the answer."""
    sock.sendall(f"GET /?landing={tag} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    answer = b""
    while b"\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer.split(b"\r\n", 1)[0]


def _both_workers_serving(server: Server, access: Path) -> list[int]:
    """Wait until each of the two workers has answered a request; their pids."""
    deadline = time.monotonic() + 60
    round_ = 0
    while True:
        workers = children_of(server.arbiter_pid)
        threads = [
            threading.Thread(target=server.request, args=("GET", f"/?landing=warm{round_}-{i}"))
            for i in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        round_ += 1
        seen = {line.split(" ", 1)[0].strip("<>") for line in access.read_text().splitlines()}
        if len(workers) == 2 and {str(w) for w in workers} <= seen:
            return workers
        assert time.monotonic() < deadline, f"both workers never answered: {seen}, {workers}"


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_burst_leaves_its_third_connection_to_the_other_worker(landing):
    server, access = landing
    running, held = _both_workers_serving(server, access)
    # Let the warm-up's accepts age past the hold first.
    time.sleep(HOLD_MS / 1000 + 0.2)
    connections = []
    try:
        with stopped(held):
            for _ in range(3):
                connections.append(socket.create_connection((server.host, server.port), 10))
            for sock in connections:
                sock.settimeout(10)
            # The running worker answers the first two (the other one cannot)...
            assert _ask(connections[0], "first").endswith(b"200 OK")
            assert _ask(connections[1], "second").endswith(b"200 OK")
            assert _who_answered(access, "first") == str(running)
            assert _who_answered(access, "second") == str(running)
        # ...and, holding, it has left the third in the queue: the woken worker takes it.
        assert _ask(connections[2], "third").endswith(b"200 OK")
        assert _who_answered(access, "third") == str(held)
    finally:
        for sock in connections:
            sock.close()


def test_with_the_other_worker_stopped_every_connection_is_still_answered(landing):
    server, access = landing
    running, held = _both_workers_serving(server, access)
    connections = []
    started = time.monotonic()
    try:
        with stopped(held):
            for _ in range(5):
                connections.append(socket.create_connection((server.host, server.port), 10))
            for i, sock in enumerate(connections):
                sock.settimeout(15)
                assert _ask(sock, f"alone{i}").endswith(b"200 OK")
                assert _who_answered(access, f"alone{i}") == str(running)
    finally:
        for sock in connections:
            sock.close()
    # Five connections, at most two accepted per hold: about two holds of waiting.
    assert time.monotonic() - started < 15
