"""kb/heap.py: a worker's warm objects frozen, and given back when its index reader goes."""

from __future__ import annotations

import gc
import weakref

import pytest

from kb import heap
from kb.search import caches, rebuild_index


class _Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def _thawed_after():
    yield
    gc.unfreeze()  # never leave the test process frozen


@pytest.mark.usefixtures("_thawed_after")
def test_frozen_cycle_is_collected_once_a_new_index_replaces_the_reader(search_index) -> None:
    assert caches.searchers.get() is not None
    cycle = _Node()
    alive = weakref.ref(cycle)

    assert heap.freeze_warm_objects() > 0
    assert gc.get_freeze_count() > 0
    del cycle
    gc.collect()
    assert alive() is not None, "a frozen cycle is not collected: the cost heap.thaw() pays"

    rebuild_index(force=True)  # another import published a new index folder
    assert caches.searchers.get() is not None  # the stale reader is dropped, a new one opened
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None


@pytest.mark.usefixtures("_thawed_after")
def test_a_current_reader_keeps_the_heap_frozen(search_index) -> None:
    searcher = caches.searchers.get()
    heap.freeze_warm_objects()
    frozen = gc.get_freeze_count()
    assert caches.searchers.get() is searcher
    assert gc.get_freeze_count() == frozen


def test_thaw_without_a_freeze_does_nothing() -> None:
    assert gc.get_freeze_count() == 0
    heap.thaw()
    assert gc.get_freeze_count() == 0
