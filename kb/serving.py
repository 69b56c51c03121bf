"""The gunicorn worker `make serve` runs: threads, and a deadline on reading each request.

Why this setup (issue 11, measured on a copy of main): with gunicorn's default `sync` workers,
two clients sending one byte per second held both workers for as long as they liked, and twenty
concurrent 2 MB analyses made a search wait 40 s. Three pieces answer that, without a proxy:

- **Threads** (gunicorn's `gthread`): a slow client holds one thread, not a whole worker; a
  search finds a free thread beside it. The worker's heartbeat comes from its main loop, so a
  long request never gets the worker killed.
- **A read deadline** (this module): gunicorn 27's `gthread` waits 5 s for a connection's first
  byte, then reads headers and body with no time limit at all, so a client trickling one byte
  a second keeps its thread forever. Here every `recv` of one request shares one deadline
  (`KB_CLIENT_READ_SECONDS`, 20 s by default, for the request line, headers and body
  together); past it the connection is dropped as if the client had reset it. Sending is
  bounded per call (`KB_CLIENT_SEND_SECONDS`), so a client that never reads its answer does
  not hold a thread either.
- **Heavy requests in child processes** (kb/isolation.py): analyses and diagnoses run in a
  spawned process per worker, one at a time with a short queue; more are answered 429 with
  `Retry-After` at once, before their body is read. The worker's own threads, and the
  interpreter lock they share, stay free for searches and pages.

- **Connections spread over the workers** (`DeadlineThreadWorker.accept`): the workers share
  one listening socket and each accepts whatever arrives while its main loop runs. A client
  that opens its keep-alive connections in one burst (wrk, a proxy's upstream pool) could land
  every one of them on the worker that happened to be scheduled, which then did all the work
  while the other idled (`LOPSIDED` in bench/serving_bench.py: 11 of 50 short wrk runs on a
  busy machine on 2026-12-02, each halving its requests/s). A worker that already holds a
  connection and accepts another within `KB_ACCEPT_HOLD_MS` (10 ms by default) of its last
  accept now stops accepting for that long, so the rest of the burst goes to a worker that is
  free to take it (0 of 50 runs lopsided, the same machine taking turns). Connections that
  arrive spread out are accepted at once, and with one worker nothing is held.

What this does not do: hold thousands of idle connections cheaply the way an event-driven
buffering proxy (nginx) does. An instance exposed to the internet at large should still sit
behind such a proxy; `tests/hardening/test_slow_and_heavy_clients.py` proves the setup alone
against the cases above.
"""

from __future__ import annotations

import errno
import os
import socket
import time

from gunicorn.workers.gthread import ThreadWorker


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number of seconds") from None
    return max(value, 0.5)


def _milliseconds(name: str, default: float) -> float:
    """A duration in seconds from an environment variable in milliseconds (0 turns it off,
    at most one second)."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number of milliseconds") from None
    return min(max(value, 0.0), 1000.0) / 1000


class SlowClient(ConnectionResetError):
    """The client did not send its request within the deadline; treated as a reset.

    gunicorn drops a reset connection quietly; Django turns a reset while reading the body
    into UnreadablePostError, which kb.middleware answers with 408.
    """

    def __init__(self) -> None:
        super().__init__(errno.ECONNRESET, "the request was not received within the deadline")


class DeadlineSocket:
    """A client socket whose reads share one deadline per request and whose sends time out.

    Everything else is passed through to the real socket (gunicorn registers this object
    with its selector, which only needs `fileno()`).
    """

    def __init__(self, sock: socket.socket, *, send_seconds: float) -> None:
        self._sock = sock
        self._send_seconds = send_seconds
        self._deadline: float | None = None
        self._blocking = False

    def start_request(self, read_seconds: float) -> None:
        """Give the next request `read_seconds` to arrive in full."""
        self._deadline = time.monotonic() + read_seconds

    def __getattr__(self, name: str):  # noqa: ANN204 - a transparent proxy
        return getattr(self._sock, name)

    def setblocking(self, flag: bool) -> None:  # noqa: FBT001 - socket's signature
        self._blocking = flag
        self._sock.setblocking(flag)

    def _read_timeout(self) -> None:
        if not self._blocking or self._deadline is None:
            return
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise SlowClient
        self._sock.settimeout(remaining)

    def recv(self, size: int, *flags: int) -> bytes:
        self._read_timeout()
        try:
            return self._sock.recv(size, *flags)
        except TimeoutError:
            raise SlowClient from None

    def recv_into(self, buffer, size: int = 0, *flags: int) -> int:  # noqa: ANN001
        self._read_timeout()
        try:
            return self._sock.recv_into(buffer, size, *flags)
        except TimeoutError:
            raise SlowClient from None

    def _send_timeout(self) -> None:
        if self._blocking:
            self._sock.settimeout(self._send_seconds)

    def send(self, data: bytes, *flags: int) -> int:
        self._send_timeout()
        return self._sock.send(data, *flags)

    def sendall(self, data: bytes, *flags: int) -> None:
        self._send_timeout()
        self._sock.sendall(data, *flags)

    def sendfile(self, file, offset: int = 0, count: int | None = None) -> int:  # noqa: ANN001
        self._send_timeout()
        return self._sock.sendfile(file, offset, count)


class _CapturedWrites:
    """Passes everything to the socket but keeps what gunicorn writes, to rewrite it."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.written = b""

    def __getattr__(self, name: str):  # noqa: ANN204 - a transparent proxy
        return getattr(self._sock, name)

    def sendall(self, data: bytes, *flags: int) -> None:
        self.written += bytes(data)

    def send(self, data: bytes, *flags: int) -> int:
        self.written += bytes(data)
        return len(data)


# gunicorn's own error page (a malformed request line or header never reaches Django) quotes
# the offending input and carries no security header; ours says only the status.
_ERROR_HEADERS = (
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: same-origin\r\n"
    "Connection: close\r\n"
)


class DeadlineThreadWorker(ThreadWorker):
    """gunicorn's threaded worker with a deadline on reading every request (module docstring),
    and error pages for malformed requests that carry the security headers and echo nothing."""

    read_seconds = _seconds("KB_CLIENT_READ_SECONDS", 20.0)
    send_seconds = _seconds("KB_CLIENT_SEND_SECONDS", 30.0)
    accept_hold = _milliseconds("KB_ACCEPT_HOLD_MS", 10.0)
    _last_accept = float("-inf")
    _hold_until = float("-inf")

    def accept(self, listener):  # noqa: ANN001, ANN201 - gunicorn's signature
        # A second connection so soon after the first is part of a burst: leave the rest of
        # it to the other workers for a moment (module docstring).
        before = self.nr_conns
        super().accept(listener)
        if self.nr_conns == before or self.cfg.workers < 2 or self.accept_hold <= 0:
            return
        now = time.monotonic()
        if self.nr_conns > 1 and now - self._last_accept < self.accept_hold:
            self._hold_until = now + self.accept_hold
            self.set_accept_enabled(False)
        self._last_accept = now

    def set_accept_enabled(self, enabled):  # noqa: ANN001, ANN201 - gunicorn's signature
        # gunicorn's loop re-enables accepting on every turn; a hold keeps it off until it ends.
        if enabled and time.monotonic() < self._hold_until:
            return
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):  # noqa: ANN001, ANN201 - gunicorn's
        # Wake when the hold ends, not a second later, so accepting resumes on time.
        left = self._hold_until - time.monotonic()
        if left > 0:
            timeout = min(timeout, left)
        return super().wait_for_and_dispatch_events(timeout)

    def handle(self, conn):  # noqa: ANN001, ANN201 - gunicorn's signature
        # TLS is terminated in front of us (README); ssl would need the real socket.
        if not self.cfg.is_ssl and not isinstance(conn.sock, DeadlineSocket):
            conn.sock = DeadlineSocket(conn.sock, send_seconds=self.send_seconds)
        # Each call serves one request (a kept-alive connection comes back here for the next).
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.start_request(self.read_seconds)
        return super().handle(conn)

    def handle_error(self, req, client, addr, exc):  # noqa: ANN001, ANN201 - gunicorn's
        captured = _CapturedWrites(client)
        super().handle_error(req, captured, addr, exc)
        status_line = captured.written.split(b"\r\n", 1)[0].decode("latin-1")
        if not status_line.startswith("HTTP/1.1 "):
            return
        status = status_line[len("HTTP/1.1 ") :]
        body = f"{status}\n".encode()
        head = f"HTTP/1.1 {status}\r\n{_ERROR_HEADERS}Content-Length: {len(body)}\r\n\r\n"
        try:
            client.sendall(head.encode("latin-1") + body)
        except OSError:
            self.log.debug("Failed to send error message.")
