"""Self-healing: an index that is missing, damaged or older than the database is rebuilt.

A search never fails because of the index: the database answers meanwhile
(kb/search/lookup.py) and a rebuild starts in the background. To keep that cheap, a search
compares the index's generation with the database's (one aggregate query) at most every
KB_INDEX_CHECK_SECONDS, and a process starts at most one rebuild per interval. Rebuilds of
several processes are serialised by the lock file of kb/search/index.py; a heal never waits
for another process's rebuild.

The background rebuild runs in a child process (`manage.py rebuild_index --if-changed
--no-wait`): rebuilding is seconds to minutes of pure Python, and in a thread of a serving
worker it held the interpreter lock that the worker's request threads need, so searches
stalled while it ran. The thread that starts the child only waits for it (waiting releases
the lock). The child writes a new folder and publishes it with one rename, as every rebuild
does, so searches answer from the old index until the new one is complete. A child that
fails is logged; one that runs past KB_INDEX_HEAL_SECONDS is killed, reaped and logged, and
the folder it was writing is removed: it was never published, so no search ever read it.

A database another process cannot open (SQLite in memory, as in the test suite) is rebuilt
in the thread, as before.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import dj_database_url
from django.conf import settings

from kb.search.index import (
    GENERATION_FILE,
    current_folder,
    database_generation,
    read_mark,
    rebuild_lock,
    rebuild_locked,
)

logger = logging.getLogger(__name__)

_heal_lock = threading.Lock()
# One rebuild child per process at a time: the freshness check fires every
# KB_INDEX_CHECK_SECONDS while a rebuild runs, and each child that starts only to find the lock
# taken costs an interpreter and Django (seconds of CPU) that the real rebuild then lacks.
_child_running = threading.Lock()
_heal_state = {"checked": 0.0, "started": 0.0, "pid": 0}

# How long a rebuild child may run before it is killed (seconds). Generous: 3 000 real
# documents take about two minutes on a loaded 2-core machine.
HEAL_SECONDS = 900.0
# `rebuild_index --no-wait` exits with this status when another rebuild holds the lock.
BUSY_STATUS = 3
_REPO = Path(__file__).resolve().parent.parent.parent


def heal_index() -> bool:
    """Rebuild the index, in this process, if it is missing, damaged or older than the
    database; True if done.

    Never waits for another process's rebuild (the lock file says one is running) and never
    builds an empty index from a database that holds no article.
    """
    from kb.models import Article

    try:
        if not Article.objects.exists():
            return False
        with rebuild_lock(wait=0.0) as locked:
            if not locked:
                return False
            rebuild_locked(articles=None, force=False)
        return True
    except Exception:  # noqa: BLE001 - a background repair reports, it never raises
        logger.exception("rebuilding the search index failed")
        return False


def _child_environment() -> dict[str, str] | None:
    """The environment that makes a fresh `manage.py` see this process's database and index
    folder, or None when the database cannot be shared with another process."""
    from django.db import connection

    env = {**os.environ, "KB_INDEX_DIR": str(settings.KB_INDEX_DIR)}
    env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE or "kb.settings")
    given = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            return None
        env["KB_SQLITE_PATH"] = str(given["NAME"])
    elif connection.vendor == "postgresql":
        named = os.environ.get("KB_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
        if not named or dj_database_url.parse(named).get("NAME") != given["NAME"]:
            # This process uses another database than the environment names (a test
            # database has its own name): name it, options (sslmode...) included.
            env["KB_DATABASE_URL"] = _postgres_url(given)
    else:
        return None
    return env


def _postgres_url(given: dict) -> str:
    credentials = quote(str(given.get("USER") or ""), safe="")
    if given.get("PASSWORD"):
        credentials += ":" + quote(str(given["PASSWORD"]), safe="")
    where = quote(str(given.get("HOST") or ""), safe="")
    if credentials:
        where = f"{credentials}@{where}"
    if given.get("PORT"):
        where += f":{given['PORT']}"
    options = {k: str(v) for k, v in (given.get("OPTIONS") or {}).items() if isinstance(v, str)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgresql://{where}/{quote(str(given['NAME']), safe='')}{query}"


def heal_in_child(*, timeout: float | None = None) -> bool:
    """`heal_index` in a child process, bounded by `timeout` seconds (KB_INDEX_HEAL_SECONDS);
    True when the child rebuilt or confirmed the index. Never raises."""
    from kb.models import Article

    try:
        if not Article.objects.exists():
            return False
        env = _child_environment()
    except Exception:  # noqa: BLE001 - the database answers the searches, or fails there
        logger.exception("cannot start rebuilding the search index")
        return False
    if env is None:
        return heal_index()
    if not _child_running.acquire(blocking=False):
        return False  # this process's child is still at it
    try:
        # Another process rebuilding holds the lock file: do not start a child just to see it.
        with rebuild_lock(wait=0.0) as free:
            if not free:
                return False
        return _run_child(env, timeout)
    finally:
        _child_running.release()


def _run_child(env: dict[str, str], timeout: float | None) -> bool:
    limit = timeout if timeout is not None else getattr(settings, "KB_INDEX_HEAL_SECONDS", None)
    limit = float(limit or HEAL_SECONDS)
    argv = [sys.executable, "-m", "django", "rebuild_index", "--if-changed", "--no-wait"]
    argv += ["--workers", "1"]  # one core: the others serve
    # The child bounds itself too, a little later than we would kill it: if this worker
    # exits meanwhile (a restart), nothing else would.
    argv += ["--max-seconds", str(int(limit) + 30)]
    try:
        child = subprocess.Popen(
            argv,
            cwd=_REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a signal meant for the worker is not the child's
        )
    except OSError:
        logger.exception("cannot start a process to rebuild the search index")
        return False
    started = time.monotonic()
    try:
        _, errors = child.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        child.kill()
        try:
            child.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignored
            logger.error("the index rebuild child %d did not die after SIGKILL", child.pid)
        _remove_unpublished(child.pid)
        logger.error(
            "rebuilding the search index: child %d ran past %.0f s and was killed; the old "
            "index keeps answering",
            child.pid,
            limit,
        )
        return False
    if child.returncode == BUSY_STATUS:
        return False  # another process is rebuilding
    if child.returncode != 0:
        _remove_unpublished(child.pid)
        tail = errors.decode("utf-8", "replace").strip().splitlines()[-5:]
        logger.error(
            "rebuilding the search index: child %d failed with status %d after %.1f s; the "
            "old index keeps answering: %s",
            child.pid,
            child.returncode,
            time.monotonic() - started,
            " | ".join(tail),
        )
        return False
    logger.info("search index rebuilt by child %d in %.1f s", child.pid, time.monotonic() - started)
    return True


def _remove_unpublished(pid: int) -> None:
    """Delete the folder a dead child was writing (named after its pid), unless it made it
    to the link before dying."""
    root = Path(settings.KB_INDEX_DIR)
    live = current_folder()
    try:
        folders = [f for f in root.iterdir() if f.name.endswith(f".{pid}") and f.is_dir()]
    except OSError:
        return
    for folder in folders:
        if folder.resolve() != live:
            shutil.rmtree(folder, ignore_errors=True)


def schedule_heal() -> None:
    """Start a heal in the background, once per interval per process."""
    from django.db import connection

    # Inside a transaction (a test, a management command) the rows this thread wrote are not
    # visible to the rebuild's own connection; whoever commits them rebuilds the index.
    if not settings.KB_INDEX_SELF_HEAL or connection.in_atomic_block:
        return
    now = time.monotonic()
    with _heal_lock:
        if _heal_state["pid"] == os.getpid() and now - _heal_state["started"] < (
            settings.KB_INDEX_CHECK_SECONDS
        ):
            return
        _heal_state.update(started=now, pid=os.getpid())
    thread = threading.Thread(target=_heal_in_thread, name="kb-index-heal", daemon=True)
    thread.start()


def _heal_in_thread() -> None:
    from django.db import connection

    try:
        heal_in_child()
    finally:
        connection.close()  # this thread's own connection


def check_freshness(folder: Path) -> None:
    """Now and then, compare the index's generation with the database's; heal when stale."""
    now = time.monotonic()
    with _heal_lock:
        if _heal_state["pid"] == os.getpid() and now - _heal_state["checked"] < (
            settings.KB_INDEX_CHECK_SECONDS
        ):
            return
        _heal_state.update(checked=now, pid=os.getpid())
    try:
        stale = read_mark(folder, GENERATION_FILE) != database_generation()
    except Exception:  # noqa: BLE001 - the database answers the search below, or fails there
        return
    if stale:
        logger.warning("search index is older than the database; rebuilding it")
        schedule_heal()
