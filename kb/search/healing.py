"""Self-healing: an index that is missing, damaged or older than the database is rebuilt.

A search never fails because of the index: the database answers meanwhile
(kb/search/lookup.py) and a rebuild starts in a background thread of this process. To keep
that cheap, a search compares the index's generation with the database's (one aggregate
query) at most every KB_INDEX_CHECK_SECONDS, and a process starts at most one rebuild per
interval. Rebuilds of several processes are serialised by the lock file of
kb/search/index.py; a heal never waits for another process's rebuild.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from django.conf import settings

from kb.search.index import (
    GENERATION_FILE,
    database_generation,
    read_mark,
    rebuild_lock,
    rebuild_locked,
)

logger = logging.getLogger(__name__)

_heal_lock = threading.Lock()
_heal_state = {"checked": 0.0, "started": 0.0, "pid": 0}


def heal_index() -> bool:
    """Rebuild the index if it is missing, damaged or older than the database; True if done.

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


def schedule_heal() -> None:
    """Start `heal_index` in a background thread, once per interval per process."""
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
        heal_index()
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
