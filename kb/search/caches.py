"""What a search process keeps between requests: each thread's searcher, recent answers.

- Searchers: Whoosh wants one searcher per thread, so each thread opens its own (after a
  fork too), and a fresh one when the index folder changed or `searcher.up_to_date()` is
  false. `Searcher.refresh()` is never called: in whoosh-reloaded 2.7.5 it builds the new
  reader by reusing the old reader's segments (`self._ix.reader(reuse=self.ixreader)` in
  `whoosh/searching.py`), and measured after a merge or an `update_document` it returned
  duplicated or deleted documents (60 hits over an index of 30).
- Answers: the same error string is searched again and again. Results are cached per
  question and bound to the index (folder and generation) that produced them: when the
  index changes, the cache starts empty, so an answer never outlives its index. The search
  page's diagnosis is cached the same way, bound to the articles' generation.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Hashable
from pathlib import Path

from kb.search.index import current_folder, storage


class ThreadSearcher(threading.local):
    """This thread's searcher (whoosh: one searcher per thread), reopened when stale."""

    pid: int | None = None
    folder: Path | None = None
    searcher = None

    def get(self):  # noqa: ANN201
        """The searcher of the current index for this thread, or None when there is none."""
        folder = current_folder()
        if folder is None:
            self.forget()
            return None
        searcher = self.searcher
        if (
            searcher is None
            or self.pid != os.getpid()
            or self.folder != folder
            or not searcher.up_to_date()
        ):
            self.forget()
            store = storage(folder)
            if not store.index_exists():
                return None
            self.searcher = store.open_index().searcher()
            self.pid, self.folder = os.getpid(), folder
        return self.searcher

    def forget(self) -> None:
        """Close and drop this thread's searcher (nobody else uses it)."""
        searcher, self.searcher = self.searcher, None
        if searcher is not None and self.pid == os.getpid():
            with contextlib.suppress(Exception):
                searcher.close()


class BoundedCache:
    """Recent answers of one owner (an index generation), least recently used dropped first.

    When the owner changes, the cache starts empty: an answer never outlives what produced
    it. Values are shared read-only between callers (frozen hits, tuples).
    """

    def __init__(self, maxsize: int = 512) -> None:
        self._lock = threading.Lock()
        self._maxsize = maxsize
        self._owner: Hashable = None
        self._entries: dict[Hashable, object] = {}

    def get(self, owner: Hashable, key: Hashable) -> object | None:
        """The cached value for `key` under `owner`, or None."""
        with self._lock:
            if self._owner != owner:
                return None
            value = self._entries.pop(key, None)
            if value is not None:
                self._entries[key] = value  # most recently used last
            return value

    def put(self, owner: Hashable, key: Hashable, value: object) -> None:
        """Remember `value` for `key` under `owner` (forgetting another owner's entries)."""
        with self._lock:
            if self._owner != owner:
                self._owner = owner
                self._entries = {}
            self._entries[key] = value
            while len(self._entries) > self._maxsize:
                del self._entries[next(iter(self._entries))]

    def clear(self) -> None:
        """Forget every answer (the benchmarks measure uncached searches with this)."""
        with self._lock:
            self._owner = None
            self._entries = {}


searchers = ThreadSearcher()
# (prepared query, limit) -> tuple[SearchHit, ...], owned by (index folder, generation).
results = BoundedCache(maxsize=512)
# The search page's diagnosis (kb/views.py): (text digest, language) -> (cause card or None,),
# owned by the articles' generation in the database.
diagnoses = BoundedCache(maxsize=512)
