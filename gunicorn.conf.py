"""gunicorn settings for `make serve` (gunicorn reads this file from the working directory).

Why threads, a read deadline, and heavy requests in child processes: see kb/serving.py.
Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import os

# gthread with a deadline on reading each request (kb/serving.py).
worker_class = "kb.serving.DeadlineThreadWorker"
workers = int(os.environ.get("KB_WORKERS", "2"))
# Per worker: room for searches beside the few threads a heavy request or a slow client holds
# (kb/isolation.py lets at most KB_HEAVY_CONCURRENCY + KB_HEAVY_QUEUE in).
threads = int(os.environ.get("KB_THREADS", "16"))
# A worker whose main loop is silent this long is restarted (threads keep it beating while a
# request runs; analyses stop at their own budget well before).
timeout = 60
graceful_timeout = 20
# Idle kept-alive connections are closed after this many seconds.
keepalive = 5
# gunicorn's defaults, written out: a request line of 4 094 bytes, 100 header fields of 8 190.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


def _limit_malloc_arenas() -> None:
    """At most KB_MALLOC_ARENAS (default 2) glibc malloc arenas per process; 0 leaves glibc's.

    glibc gives threads their own arenas (up to 8 per core) and keeps freed memory in each; a
    worker's 16 threads spread the pages' short-lived allocations over up to 16 of them.
    Pages take turns (kb/search/caches.py), so threads seldom allocate at the same moment and
    two arenas cost no waiting. Set here, in the master before it forks, like the
    MALLOC_ARENA_MAX environment variable would be; where glibc is absent, nothing happens.
    """
    arenas = int(os.environ.get("KB_MALLOC_ARENAS", "2"))
    if arenas <= 0:
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(-8, arenas)  # M_ARENA_MAX in glibc's malloc.h
    except (OSError, AttributeError):
        return


_limit_malloc_arenas()


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook
    """Start the worker's analysis process, open the index and read the causes, before the
    worker accepts its first connection (kb.views.warm_search_page says why)."""
    application = getattr(worker, "wsgi", None)
    if hasattr(application, "warm"):
        application.warm()
    try:
        from kb.views import warm_search_page

        warm_search_page()
    except Exception:  # noqa: BLE001 - the first request does it then, or reports the error
        worker.log.exception("warming the search page failed; the first search will do it")


def worker_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook
    """Stop the worker's analysis process with it."""
    application = getattr(worker, "wsgi", None)
    if hasattr(application, "shutdown"):
        application.shutdown()
