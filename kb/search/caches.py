"""What a search process keeps between requests: searchers, turns, recent answers.

- Searchers: Whoosh wants one searcher per thread, so each thread opens its own (after a
  fork too), and a fresh one when the index folder changed or `searcher.up_to_date()` is
  false. `Searcher.refresh()` is never called: in whoosh-reloaded 2.7.5 it builds the new
  reader by reusing the old reader's segments (`self._ix.reader(reuse=self.ixreader)` in
  `whoosh/searching.py`), and measured after a merge or an `update_document` it returned
  duplicated or deleted documents (60 hits over an index of 30).
- Turns: a worker's search pages run one at a time (`Turns`), each turn with its own
  searcher, so a worker keeps one searcher however many threads it serves with.
- Answers: the same error string is searched again and again. Results are cached per
  question and bound to the index (folder and generation) that produced them: when the
  index changes, the cache starts empty, so an answer never outlives its index. The search
  page's diagnosis is cached the same way, bound to the articles' generation.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
from collections.abc import Hashable, Iterator
from pathlib import Path

from kb.search.index import current_folder, index_dir, storage


class SearcherSlot:
    """One searcher and what it was opened for; used by one thread at a time."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.folder: Path | None = None
        self.searcher = None
        # (the link's path, the folder name it held) when the searcher was opened through
        # the index link, else None (`ThreadSearcher.get`).
        self.link: tuple[Path, str] | None = None


class ThreadSearcher:
    """The searcher of the thread asking (whoosh: one searcher per thread), reopened when stale.

    A thread holding a turn (`Turns`, below) uses the searcher of its turn instead of its
    own: turns are held by one thread at a time, so a worker whose pages take turns keeps one
    searcher per turn rather than one per thread that ever served a search (each holds its
    own reader buffers: 16 threads kept 40 MB more than one, measured at 3 011 documents).
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def _slot(self) -> SearcherSlot:
        slot = getattr(self._local, "turn_slot", None)
        if slot is None:
            slot = getattr(self._local, "own", None)
            if slot is None:
                slot = self._local.own = SearcherSlot()
        return slot

    @contextlib.contextmanager
    def using(self, slot: SearcherSlot) -> Iterator[None]:
        """Let this thread use `slot`'s searcher while the block runs (a turn's searcher)."""
        self._local.turn_slot = slot
        try:
            yield
        finally:
            self._local.turn_slot = None

    @property
    def folder(self) -> Path | None:
        """The index folder of the searcher `get()` returned to this thread."""
        return self._slot().folder

    def get(self):  # noqa: ANN201
        """The searcher of the current index for this thread, or None when there is none.

        A rebuild writes a new folder, named for its start time and process, and swaps the
        index link to it (kb/search/index.py); nothing writes into a folder once it is
        linked. So while the link holds the name it held when this searcher was opened and
        that folder is still there, the searcher is current, and two system calls say so
        (`os.readlink`, `os.stat`). Resolving the path (a call per component) and Whoosh's
        `up_to_date()` (a listing of the folder) were 2.5 % of a search page's CPU
        (cProfile, 300 new queries at 10 011 documents), on every page.
        """
        slot = self._slot()
        link = index_dir()
        try:
            seen = (link, os.readlink(link))
            os.stat(link)  # the folder is still there
        except OSError:  # no link, a plain folder (an index from before links), or no folder
            seen = None
        if (
            seen is not None
            and seen == slot.link
            and slot.searcher is not None
            and slot.pid == os.getpid()
        ):
            return slot.searcher
        folder = current_folder()
        if folder is None:
            self.forget()
            return None
        searcher = slot.searcher
        if (
            searcher is None
            or slot.pid != os.getpid()
            or slot.folder != folder
            or not searcher.up_to_date()
        ):
            self.forget()
            store = storage(folder)
            if not store.index_exists():
                return None
            slot.searcher = store.open_index().searcher()
            slot.pid, slot.folder = os.getpid(), folder
        slot.link = seen
        return slot.searcher

    def forget(self) -> None:
        """Close and drop this thread's searcher (nobody else uses it now)."""
        slot = self._slot()
        searcher, slot.searcher = slot.searcher, None
        slot.link = None
        if searcher is not None and slot.pid == os.getpid():
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


class Turns:
    """At most `size` holders at a time in this process; the others wait their turn.

    A search page is Python work (Whoosh, the diagnosis, templates) that also reads files
    and the database hundreds of times. Each read lets go of the interpreter lock, and with
    several pages running in one worker's threads the reader then waits for a busy thread's
    switch interval (5 ms) to get the lock back. Measured under gunicorn (2 workers x 16
    threads, every query new, 3 011 documents), py-spy found 27 % of the samples waiting in
    Whoosh's file reads and 11 % in SQLite calls. Taking turns, the page that runs gets the
    lock back at once; the threads waiting here hold no lock at all, so the worker still
    accepts slow clients and serves other pages. Each turn has its own searcher
    (`ThreadSearcher.using`), so the worker keeps `size` searchers however many threads it has.

    A turn is waited for at most `wait` seconds; past that the page runs anyway, on its
    thread's own searcher, as it did without turns: a page is never refused, nor held much
    longer than its own work because another one is slow.

    Turns are handed out in the order they were asked for: a freed turn goes to the oldest
    waiter, never to a thread that asks just after the release. With a queue whose waiters
    race for it (`queue.SimpleQueue` before), a thread arriving between a release and the
    woken waiter's next step (that waiter still needs the interpreter lock) took the turn,
    again and again: under gunicorn at 10 000 documents (8 connections, every query new) a
    few pages waited seconds, up to the 5 s limit (wrk timeouts, p99 1.3-1.5 s) while the
    median page waited 50 ms. In order, a page waits for at most the pages ahead of it.
    """

    def __init__(self, size: int = 1, *, wait: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._free: list[SearcherSlot] = [SearcherSlot() for _ in range(size)]
        # Waiters, oldest first: each a held lock, released when a turn is handed to it.
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._wait = wait

    def _take(self) -> SearcherSlot | None:
        """A free slot, in the order of asking; None after waiting `wait` seconds."""
        with self._lock:
            if self._free and not self._waiters:
                return self._free.pop()
            waiter = _Waiter()
            self._waiters.append(waiter)
        if waiter.handed.acquire(timeout=self._wait):
            return waiter.slot
        with self._lock:
            if waiter.slot is not None:  # handed over just as the wait ran out
                return waiter.slot
            self._waiters.remove(waiter)
        return None

    def _give(self, slot: SearcherSlot) -> None:
        """Hand `slot` to the oldest waiter, or keep it free when nobody waits."""
        with self._lock:
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.slot = slot
                waiter.handed.release()
            else:
                self._free.append(slot)

    @contextlib.contextmanager
    def turn(self) -> Iterator[bool]:
        """Hold a turn while the block runs; yields False when it ran without one."""
        slot = self._take()
        if slot is None:
            yield False
            return
        try:
            with searchers.using(slot):
                yield True
        finally:
            self._give(slot)


class _Waiter:
    """A thread waiting for a turn: `handed` is released once `slot` is set for it."""

    __slots__ = ("handed", "slot")

    def __init__(self) -> None:
        self.handed = threading.Lock()
        self.handed.acquire()
        self.slot: SearcherSlot | None = None


# The search page takes turns per process (kb/views.py).
page_turns = Turns(1)
