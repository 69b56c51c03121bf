"""The serving bench's paced client (bench/paced.py) against a real local HTTP server.

What makes the paced row honest is that a late answer makes the requests behind it late too,
and their latency counts from when they were due, not from when they were sent. A server that
answers one path slowly shows it: with that accounting the requests queued behind the slow one
carry its delay; timed from their send they would look fast.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from paced import paced  # noqa: E402 - the bench folder is not a package

SLOW_SECONDS = 0.3


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn answers the bench

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/slow"):
            time.sleep(SLOW_SECONDS)
        if self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first part", b"second"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = b"missing" if self.path.startswith("/missing") else b"answer body"
        self.send_response(404 if self.path.startswith("/missing") else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_offers_the_rate_and_reads_every_kind_of_body(server):
    result = paced(
        "127.0.0.1",
        server,
        ["/fast", "/chunked", "/missing"],
        rate=60,
        seconds=1.0,
        connections=4,
    )
    assert result.errors == 0
    # 60 a second for one second, over keep-alive connections that each read whole answers
    # (a body left unread would make the next status line unreadable: an error).
    assert 50 <= len(result.latencies) <= 62
    assert result.statuses[200] >= 2 * result.statuses[404] - 2
    assert result.statuses[404] >= 15
    assert 30 <= result.achieved <= 62  # a loaded machine stretches the run, never the count


def test_a_slow_answer_makes_the_requests_behind_it_late(server):
    # One connection owes a request every 100 ms; the first answer takes 300 ms, so the
    # requests due at 100 and 200 ms go out at about 300 ms and are answered at once.
    result = paced(
        "127.0.0.1",
        server,
        ["/slow", "/fast", "/fast", "/fast", "/fast", "/fast", "/fast", "/fast"],
        rate=10,
        seconds=0.75,
        connections=1,
    )
    assert result.errors == 0
    first, second, third = result.latencies[:3]
    assert first >= SLOW_SECONDS * 1000 * 0.9
    # Timed from its send, the second request would take a millisecond or two; from its
    # due time it waited about 200 ms behind the slow answer.
    assert second >= 150
    assert third >= 50
    assert result.latest_send_ms >= 150
    assert result.percentile(0.99) >= SLOW_SECONDS * 1000 * 0.9


def test_a_refused_connection_is_reported_not_hidden():
    # A port nobody listens on: the run fails loudly rather than printing a latency.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError):
        paced("127.0.0.1", port, ["/"], rate=10, seconds=0.2, connections=1)


def test_runs_inside_a_thread_whose_event_loop_is_running(server):
    # The test suite's browser tests leave such a loop behind them; the bench may be driven
    # from one too.
    async def caller():
        return paced("127.0.0.1", server, ["/fast"], rate=20, seconds=0.3, connections=2)

    # The caller's loop runs in a thread of its own, so this test works whether or not the
    # suite's main thread already runs one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(lambda: asyncio.run(caller())).result()
    assert result.errors == 0
    assert result.statuses == {200: len(result.latencies)}
    assert len(result.latencies) >= 4
