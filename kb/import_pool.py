"""Reading and rendering documents for an import in worker processes.

Rendering Markdown is almost all of an import's time and needs nothing but the file, so a
large import spreads it over the machine's cores while the parent process saves the results
in file order. The workers are spawned, not forked: the parent may hold database connections
and threads (a fork copies both, and a lock held by another thread at that instant stays
held forever in the child). This module imports nothing from Django at load time, so that a
fresh interpreter can unpickle a reference to it before Django is set up.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def setup(parent: int) -> None:
    """Worker initializer: the settings module comes from the environment, as in the parent.

    A worker whose parent is killed (an import stopped with SIGKILL) would otherwise wait on
    its task queue forever: it exits within a second of noticing it has a new parent.
    `parent` is the pid of the process that started the pool (it may be gone already).
    """

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch_parent, name="kb-parent-watch", daemon=True).start()
    import django

    django.setup()


def read_many(paths: list[str], slug_from: str) -> list[object]:
    """`read_document` for each path: a Document, or the DocumentError saying why not."""
    from kb.importer import DocumentError, read_document

    results: list[object] = []
    for path in paths:
        try:
            results.append(read_document(Path(path), slug_from=slug_from))
        except DocumentError as exc:
            results.append(exc)
    return results
