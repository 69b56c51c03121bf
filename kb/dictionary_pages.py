"""Unmap the MeCab dictionary's pages from a worker every few Japanese queries.

Why (issue 14, measured on the 10 000-document corpus): MeCab (fugashi + unidic-lite) maps
its dictionary from disk, `sys.dic` (188 MB) and `matrix.bin` (72 MB), and every page a
look-up touches stays in the worker's resident set. A short Japanese query touches a few
hundred scattered pages (the connection costs of every pair of candidate words), and the
kernel maps each fault's neighbours with it (fault-around: 64 KB per fault here, whatever the
mapping's `madvise` advice: `MADV_RANDOM` changed nothing on Linux 6.18). So after 536
Japanese queries one process had 101 MB of the dictionary mapped (`sys.dic` 68, `matrix.bin`
33), and a gunicorn worker's peak RSS followed how much Japanese it had tagged (140-172 MB
against the 150 MB target, 50-70 MB of it the dictionary).

Every `KB_DICTIONARY_RELEASE_EVERY` queries holding kana (1 by default; 0 never), the worker
drops its page-table entries for the dictionary (`madvise(MADV_DONTNEED)` on each read-only
mapping of a file of the dictionary's folder). The pages stay in the kernel's page cache,
shared with the other workers; the next look-up maps back what it needs from there (a minor
fault, no disk read). The answer of a look-up cannot change: a read-only file mapping reads
the file's bytes again after `MADV_DONTNEED` (madvise(2)), and MeCab never writes to them.

What this costs (bench/memory_dictionary.py: one process tags the 654 Japanese serving queries
in turn, load 3-11): MeCab took 0.26-0.56 ms a query with no release; with a release every 4
queries 0.77-1.23 ms (the pages mapped back) plus 2.2-3.0 ms a release, about 1-1.4 ms more a
Japanese query in all, and the dictionary's mapped pages peaked at 30 MB instead of growing to
107 MB. On the machine of 2026-12-04 (load 1.7-2.9, two rounds): with a release after every
Japanese query MeCab took 0.70-0.80 ms plus 0.77-0.88 ms a release, about 0.7 ms a query more
than every 4 (0.52-0.56 ms plus 1.26-1.41 ms every fourth query), and the mapped pages peaked
at 19.7 MB against 30.3. In the serving benchmark that took a worker's peak RSS from 137-141
to 127-130 MB (two runs each), the target's tightest margin, so 1 is the default since.

What this does not do: free memory the machine needs. The pages were clean, shared and
reclaimable before too, and a container's memory cgroup counts the page cache either way; what
falls is each worker's resident set and its share (PSS), the figures per-process monitors
(ps, top) and the target read.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading

from kb import analysis

MADV_DONTNEED = 4  # <sys/mman.h> on Linux, every architecture


def dictionary_folder() -> str | None:
    """The folder of the MeCab dictionary fugashi opens (unidic-lite), as /proc spells it."""
    try:
        import unidic_lite
    except ImportError:
        return None
    return os.path.realpath(unidic_lite.DICDIR)


def dictionary_mappings(folder: str) -> list[tuple[int, int]]:
    """(start, end) of this process's read-only mappings of files in `folder`."""
    prefix = folder.rstrip("/") + "/"
    found = []
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if prefix not in line:
                continue
            fields = line.split(maxsplit=5)
            if len(fields) < 6 or "w" in fields[1] or not fields[5].startswith(prefix):
                continue
            start, end = fields[0].split("-")
            found.append((int(start, 16), int(end, 16)))
    return found


def resident_kilobytes(folder: str) -> int:
    """Kilobytes of this process's resident pages mapped from files in `folder` (smaps)."""
    prefix = folder.rstrip("/") + "/"
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = line.split()
            if fields and "-" in fields[0] and ":" not in fields[0]:
                inside = len(fields) > 5 and fields[5].startswith(prefix)
            elif inside and line.startswith("Rss:"):
                total += int(fields[1])
    return total


def _madvise():  # noqa: ANN202 - a ctypes function or None
    name = ctypes.util.find_library("c")
    if not name or not os.path.exists("/proc/self/maps"):
        return None
    try:
        function = ctypes.CDLL(name, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


class DictionaryPages:
    """Counts the Japanese queries a process tags and releases the dictionary's pages."""

    def __init__(self, every: int, folder: str | None) -> None:
        self.every = every
        self.folder = folder
        self.releases = 0
        self._since = 0
        self._lock = threading.Lock()
        self._madvise = _madvise() if every > 0 and folder else None

    def release(self) -> int:
        """Drop this process's mapped pages of the dictionary; the number of mappings seen."""
        if self._madvise is None or self.folder is None:
            return 0
        # A tagger unmaps its dictionary only when it is freed, and kb.analysis frees taggers
        # (a pool inherited across a fork) only under its pool lock: holding it, no range read
        # here can be unmapped and handed to other memory before the madvise reaches it.
        with analysis._pool_lock:
            mappings = dictionary_mappings(self.folder)
            for start, end in mappings:
                self._madvise(start, end - start, MADV_DONTNEED)
        self.releases += 1
        return len(mappings)

    def after_query(self, query: str) -> None:
        """Called after a search: every `every`-th query holding kana releases the pages.

        The count is of what was asked, not of what MeCab parsed: a cache hit counts, and a
        query whose kana appear only once normalised (half-width katakana) does not. Either
        only moves a release by a query or so; every release drops every page mapped so far.
        """
        if self._madvise is None or not analysis.has_kana(query):
            return
        with self._lock:
            self._since += 1
            if self._since < self.every:
                return
            self._since = 0
        self.release()


_pages: DictionaryPages | None = None
_pages_lock = threading.Lock()


def dictionary_pages() -> DictionaryPages:
    """This process's counter, configured from settings on first use."""
    global _pages  # noqa: PLW0603 - one per process
    if _pages is None:
        from django.conf import settings

        with _pages_lock:
            if _pages is None:
                _pages = DictionaryPages(settings.KB_DICTIONARY_RELEASE_EVERY, dictionary_folder())
    return _pages
