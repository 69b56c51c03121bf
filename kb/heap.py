"""The worker's long-lived objects kept out of the garbage collector's full collections.

After a gunicorn worker has warmed up (gunicorn.conf.py: Django, the index's reader, the
troubleshooter's causes), about 95 000 objects live in it that every search page's work
leaves alone. CPython's cyclic collector still walks all of them on each full (generation 2)
collection, which a page's allocations trigger every few hundred pages: about 50 ms each at
10 011 documents, some 0.25 ms a page on average, 5 % of a page's CPU
(`bench/gc_pages.py`, 2026-12-03). `gc.freeze()` moves every object alive at that moment
into a permanent generation the collector never walks; they are still freed by reference
counting as usual.

What freezing costs: a reference cycle among frozen objects is never collected. The only
frozen objects that go away while a worker lives are an index reader and what hangs off it,
when another import or edit publishes a new index (kb/search/caches.py) — so dropping a
searcher calls `thaw()`, which puts every frozen object back into the oldest generation,
where the next full collection finds the old reader's cycles. After that the worker runs
as it would without freezing, until it is restarted.

Sources: the `gc.freeze` documentation (https://docs.python.org/3/library/gc.html#gc.freeze),
which recommends it after a pre-fork server's start-up; here it is done after the fork, for
the collector's work alone, not for copy-on-write.
"""

from __future__ import annotations

import gc


def freeze_warm_objects() -> int:
    """Collect what start-up left as garbage, then freeze the rest; returns how many froze."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def thaw() -> None:
    """Give the frozen objects back to the collector (an index reader was dropped)."""
    if gc.get_freeze_count():
        gc.unfreeze()
