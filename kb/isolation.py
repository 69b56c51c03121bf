"""Heavy requests (analyses, diagnoses, large bodies) run in a child process, a few at a time.

Why (measured on this project, 2 cores): one 2 MB manifest takes 6–12 s of CPU to analyse, and
while it runs the interpreter is held for stretches of 0.3–1.4 s (garbage collections of the
millions of objects a big parse creates, a 4 MB `json.dumps`). Threads of the same process wait
behind that lock whatever the OS does, so a search sharing a worker with an analysis waited
up to 4 s. In a child process the analysis holds only the child's lock: the gunicorn worker's
threads keep answering searches and pages.

How: `IsolatingApplication` wraps the WSGI application. For a heavy request it reads the body
(at most KB_MAX_REQUEST_BYTES, refused earlier otherwise), then

- takes a slot of its `Gate`: KB_HEAVY_CONCURRENCY run at once per gunicorn worker,
  KB_HEAVY_QUEUE more wait up to KB_HEAVY_WAIT_SECONDS; beyond that it answers 429 with
  Retry-After at once (429, not 503: nothing is broken, and monitoring that counts 5xx as
  faults stays quiet under a burst of analyses);
- sends the WSGI environ and the body to a pool of that many spawned processes, where the
  same Django application (every middleware, every view) serves it, and returns the child's
  status, headers and body as they are;
- answers 503 if the child runs past KB_HEAVY_TIMEOUT_SECONDS (it is killed, a fresh one
  started) or dies (memory, a signal): the worker itself never does.

Children are renewed in the background, never on a request's path. A pool that has served
KB_HEAVY_RENEW_AFTER_TASKS requests, or one of whose children holds more than
RENEW_ABOVE_MB of resident memory (a big parse fragments the heap, and CPython rarely gives
it back), is replaced: a thread starts a fresh pool, lets every new child run a small
analysis and a diagnosis (so imports, templates and the diagnosis's knowledge are loaded),
then new requests go to the fresh pool while the old one finishes what it holds and exits.
Why (measured on this project, 2 cores, `bench/serving_bench.py`'s `POST /api/analyze/`
row): with the executor's own `max_tasks_per_child=100`, the child that reached its count
was replaced when the next request came, and that request waited for a new interpreter to
start Django: p50 13-29 ms but p99 0.8-1.6 s.

Everything else is served in the worker's own threads, as before. Under the test client and
`runserver` nothing changes: they do not go through kb.wsgi.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable

from django.conf import settings

logger = logging.getLogger(__name__)

StartResponse = Callable[..., object]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]

# Requests that run an analysis or a diagnosis. Without input these pages are light.
HEAVY_PATHS = frozenset({"/analyze/", "/api/analyze/", "/api/diagnose/", "/troubleshoot/"})
# Any body this large is work (a long log posted to the search page, for instance).
HEAVY_BODY_BYTES = 64 * 1024
RETRY_AFTER_SECONDS = 5
# How long a new child may take to start Django before requests give up on it.
CHILD_START_SECONDS = 120
# A child holding more resident memory than this is renewed (the check runs every
# RSS_CHECK_EVERY requests of a pool: reading /proc costs about 0.1 ms a child).
RENEW_ABOVE_MB = 200
RSS_CHECK_EVERY = 10
# A small manifest each new child analyses before it serves (a Deployment with an NFS
# volume and huge pages: several checks have work on it).
WARM_MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: warm-up}
spec:
  template:
    spec:
      containers:
        - name: web
          image: php:8.3-apache
          resources: {limits: {memory: 256Mi, hugepages-2Mi: 64Mi}}
          volumeMounts: [{name: docroot, mountPath: /var/www/html}]
      volumes:
        - {name: docroot, nfs: {server: nfs.example.internal, path: /export}}
"""
WARM_TEXT = "envsubst: Argument list too long"


def content_length(environ: dict) -> int:
    """The declared body length, 0 when absent or malformed (Django then reads nothing)."""
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def is_heavy(environ: dict) -> bool:
    """Whether the request runs an analysis or a diagnosis, or carries a large body."""
    if content_length(environ) > HEAVY_BODY_BYTES:
        return True
    if environ.get("PATH_INFO") not in HEAVY_PATHS:
        return False
    query = "&" + environ.get("QUERY_STRING", "")
    return environ.get("REQUEST_METHOD") == "POST" or "&text=" in query


class Gate:
    """At most `running` holders at a time, and `queued` more waiting up to `wait` seconds."""

    def __init__(self, *, running: int, queued: int, wait: float) -> None:
        self._slots = threading.BoundedSemaphore(running)
        self._lock = threading.Lock()
        self._inside = 0
        self._capacity = running + queued
        self._wait = wait

    def enter(self) -> bool:
        """Take a slot, waiting in the queue if it has room; False when full or timed out."""
        with self._lock:
            if self._inside >= self._capacity:
                return False
            self._inside += 1
        if self._slots.acquire(timeout=self._wait):
            return True
        with self._lock:
            self._inside -= 1
        return False

    def leave(self) -> None:
        """Give the slot back."""
        self._slots.release()
        with self._lock:
            self._inside -= 1


# --- the child side -------------------------------------------------------------------------

_child_application: WSGIApp | None = None


def _exit_with_parent(parent: int) -> None:
    # The executor's queues keep a pipe open in both processes: a child whose worker was
    # killed would wait on it forever. It watches its parent instead.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _child_init() -> None:
    global _child_application
    threading.Thread(
        target=_exit_with_parent, args=(os.getppid(),), name="kb-parent-watch", daemon=True
    ).start()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
    from django.core.wsgi import get_wsgi_application

    _child_application = get_wsgi_application()
    try:
        _warm_child()
    except Exception:
        # A warm-up that fails costs the first request its speed, nothing else.
        logger.exception("warming an analysis child failed")


def _serve_in_child(environ: dict, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """Serve one request with the Django application of this child process."""
    environ = {**environ, "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr}
    started: dict[str, object] = {}

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        started["status"], started["headers"] = status, list(headers)

    result = _child_application(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return str(started["status"]), started["headers"], content


def _warm_child() -> None:
    """Run one analysis and one diagnosis, so the child's first request pays for no import."""
    from troubleshooter.analyzer import analyze_manifest
    from troubleshooter.diagnosis import diagnose

    analyze_manifest(text=WARM_MANIFEST)
    diagnose(WARM_TEXT)


def _warm() -> int:
    """Which child ran this (the parent waits until each child of a fresh pool has answered)."""
    time.sleep(0.05)  # long enough that one child does not take every warm-up task
    return os.getpid()


def _rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


# --- the worker side ------------------------------------------------------------------------


def _portable(environ: dict) -> dict:
    """The part of the environ a child can receive: strings, numbers, flags."""
    return {
        key: value
        for key, value in environ.items()
        if isinstance(value, str | bytes | int | float | bool | tuple)
        and key not in ("wsgi.input", "wsgi.errors")
    }


class _Pool:
    """One executor of spawned children, and how many requests it has served."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers,
            # spawn: a fresh interpreter, never a fork of this threaded process.
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_init,
        )
        self.served = 0
        # Started now; a request waits for it before its own time starts counting.
        self.ready = self.executor.submit(_warm)

    def pids(self) -> list[int]:
        # The executor keeps its processes by pid; there is no public accessor.
        return list(getattr(self.executor, "_processes", None) or {})

    def wait_warm(self, timeout: float) -> None:
        """Return once every child has started (run its warm-up); TimeoutError past `timeout`."""
        deadline = time.monotonic() + timeout
        self.ready.result(timeout=timeout)
        seen: set[int] = set()
        while len(seen) < self.workers:
            left = deadline - time.monotonic()
            if left <= 0:
                raise concurrent.futures.TimeoutError
            batch = [self.executor.submit(_warm) for _ in range(self.workers)]
            seen.update(future.result(timeout=left) for future in batch)

    def largest_rss_mb(self) -> float:
        return max((_rss_mb(pid) for pid in self.pids()), default=0.0)

    def kill(self) -> None:
        """Stop at once, tasks in flight included (a task past its time, a broken pool)."""
        # The executor has no public way to stop a running task: kill its processes.
        for process in list((getattr(self.executor, "_processes", None) or {}).values()):
            process.kill()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def retire(self) -> None:
        """Take no new work; the children finish what they hold, then exit."""
        self.executor.shutdown(wait=False)


class IsolatingApplication:
    """Serve heavy requests in a gated pool of child processes (module docstring)."""

    def __init__(self, application: WSGIApp) -> None:
        self.application = application
        self.gate = Gate(
            running=settings.KB_HEAVY_CONCURRENCY,
            queued=settings.KB_HEAVY_QUEUE,
            wait=settings.KB_HEAVY_WAIT_SECONDS,
        )
        self._pool: _Pool | None = None
        self._renewing: _Pool | None = None
        self._pool_lock = threading.Lock()
        self.renew_after = settings.KB_HEAVY_RENEW_AFTER_TASKS
        self._headers = [
            ("Content-Security-Policy", settings.KB_CONTENT_SECURITY_POLICY),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", settings.X_FRAME_OPTIONS),
            ("Referrer-Policy", settings.SECURE_REFERRER_POLICY),
            ("Cache-Control", "no-store"),
        ]

    def _get_pool(self) -> _Pool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = _Pool(settings.KB_HEAVY_CONCURRENCY)
            return self._pool

    def _discard_pool(self, pool: _Pool) -> None:
        with self._pool_lock:
            if self._pool is pool:
                self._pool = None
        pool.kill()

    def _served_one(self, pool: _Pool) -> None:
        """Count a request `pool` served; start its renewal when it is due (module docstring)."""
        with self._pool_lock:
            pool.served += 1
            if self._pool is not pool or self._renewing is not None:
                return
            due = pool.served >= self.renew_after
            check_memory = pool.served % RSS_CHECK_EVERY == 0
        if not due and check_memory:
            due = pool.largest_rss_mb() > RENEW_ABOVE_MB
        if not due:
            return
        with self._pool_lock:
            if self._pool is not pool or self._renewing is not None:
                return
            self._renewing = fresh = _Pool(settings.KB_HEAVY_CONCURRENCY)
        threading.Thread(
            target=self._renew, args=(pool, fresh), name="kb-renew-children", daemon=True
        ).start()

    def _renew(self, old: _Pool, fresh: _Pool) -> None:
        """Warm `fresh`, then send new requests to it and retire `old` (a thread of its own)."""
        try:
            fresh.wait_warm(CHILD_START_SECONDS)
        except Exception:
            logger.exception("a fresh pool of analysis children did not start; keeping the old")
            with self._pool_lock:
                self._renewing = None
            fresh.kill()
            return
        with self._pool_lock:
            self._renewing = None
            if self._pool is old:
                self._pool = fresh
                fresh = None
        if fresh is None:
            old.retire()
        else:
            fresh.kill()  # the old pool was discarded meanwhile; its replacement is already up

    def warm(self) -> None:
        """Start the children now (gunicorn's post_worker_init), not on the first analysis."""
        self._get_pool()

    def shutdown(self) -> None:
        """Stop the children (gunicorn's worker_exit)."""
        with self._pool_lock:
            pools = [self._pool, self._renewing]
            self._pool = self._renewing = None
        for pool in pools:
            if pool is not None:
                pool.executor.shutdown(wait=False, cancel_futures=True)

    def _answer(
        self, environ: dict, start_response: StartResponse, status: str, message: str
    ) -> list[bytes]:
        headers = list(self._headers)
        if environ.get("PATH_INFO", "").startswith("/api/"):
            body = json.dumps({"error": message}).encode()
            headers.append(("Content-Type", "application/json"))
        else:
            body = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>'
                f"{status[4:]} · KB</title></head><body><h1>{status[4:]}</h1><p>{message}</p>"
                "</body></html>"
            ).encode()
            headers.append(("Content-Type", "text/html; charset=utf-8"))
        if status.startswith(("429", "503")):
            headers.append(("Retry-After", str(RETRY_AFTER_SECONDS)))
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        length = content_length(environ)
        if (
            not is_heavy(environ)
            or "HTTP_TRANSFER_ENCODING" in environ  # refused by kb.middleware (411)
            or length > settings.KB_MAX_REQUEST_BYTES  # refused by kb.middleware (413)
        ):
            return self.application(environ, start_response)
        # Refused at once when full, before its body is read.
        if not self.gate.enter():
            return self._answer(
                environ,
                start_response,
                "429 Too Many Requests",
                "Too many analyses are running; try again in a few seconds.",
            )
        try:
            try:
                body = environ["wsgi.input"].read(length) if length else b""
            except OSError:
                return self._answer(
                    environ,
                    start_response,
                    "408 Request Timeout",
                    "The request body did not arrive in time.",
                )
            if len(body) != length:
                return self._answer(
                    environ, start_response, "400 Bad Request", "The request body was cut short."
                )
            return self._serve(environ, start_response, body)
        finally:
            self.gate.leave()

    def _serve(self, environ: dict, start_response: StartResponse, body: bytes) -> list[bytes]:
        pool = self._get_pool()
        try:
            pool.ready.result(timeout=CHILD_START_SECONDS)
            try:
                future = pool.executor.submit(_serve_in_child, _portable(environ), body)
            except RuntimeError:
                # Retired between our look and our submit: its successor is up and warm.
                pool = self._get_pool()
                pool.ready.result(timeout=CHILD_START_SECONDS)
                future = pool.executor.submit(_serve_in_child, _portable(environ), body)
            status, headers, content = future.result(timeout=settings.KB_HEAVY_TIMEOUT_SECONDS)
        except concurrent.futures.TimeoutError:
            self._discard_pool(pool)
            return self._answer(
                environ,
                start_response,
                "503 Service Unavailable",
                "The input took too long to process and was stopped.",
            )
        except concurrent.futures.process.BrokenProcessPool:
            self._discard_pool(pool)
            return self._answer(
                environ,
                start_response,
                "503 Service Unavailable",
                "The process working on this input stopped; try a smaller input.",
            )
        except Exception:
            # The child could not start Django, or could not send its answer back.
            logger.exception("a heavy request failed in its child process")
            self._discard_pool(pool)
            return self._answer(
                environ,
                start_response,
                "503 Service Unavailable",
                "The input could not be processed right now; try again later.",
            )
        self._served_one(pool)
        start_response(status, headers)
        return [content]
