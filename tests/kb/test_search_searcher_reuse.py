"""A thread's searcher is kept while the index link names the folder it was opened on
(kb/search/caches.py `ThreadSearcher.get`), and replaced as soon as it names another one or
that folder is gone."""

from __future__ import annotations

import os
import shutil

import pytest
from whoosh.searching import Searcher

from kb.search import caches, rebuild_index, search_articles
from kb.search.index import current_folder, index_dir


@pytest.fixture
def fresh_searcher(search_index):  # noqa: ANN001, ANN201
    # The fixture's copy holds a plain folder where a rebuild leaves a link (the slow path,
    # kept for indexes from before links): this rebuild publishes a linked folder.
    rebuild_index(force=True)
    assert os.path.islink(index_dir())
    caches.searchers.forget()
    caches.results.clear()
    yield search_index
    caches.searchers.forget()
    caches.results.clear()


def test_it_keeps_the_searcher_without_asking_whoosh_again(fresh_searcher, monkeypatch) -> None:
    first = caches.searchers.get()
    assert first is not None

    def refuse(self) -> bool:  # noqa: ANN001
        raise AssertionError("up_to_date() asked while the link names the same folder")

    monkeypatch.setattr(Searcher, "up_to_date", refuse)
    assert caches.searchers.get() is first
    assert caches.searchers.folder == current_folder()


def test_it_opens_the_new_folder_after_a_rebuild(fresh_searcher) -> None:
    first = caches.searchers.get()
    before = os.readlink(index_dir())
    rebuild_index(force=True)
    assert os.readlink(index_dir()) != before
    second = caches.searchers.get()
    assert second is not first
    assert caches.searchers.folder == current_folder()
    assert caches.searchers.get() is second


def test_it_answers_from_the_database_when_the_linked_folder_is_gone(fresh_searcher) -> None:
    assert search_articles("envsubst")[0].source == "index"
    shutil.rmtree(current_folder())
    caches.results.clear()
    assert caches.searchers.get() is None
    hits = search_articles("envsubst")
    assert hits
    assert {hit.source for hit in hits} == {"database"}
