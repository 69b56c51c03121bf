"""The JSON search takes the same turns as the search page: one search at a time per worker."""

from __future__ import annotations

from kb.search import caches

QUERY = "0/3 nodes are available: 3 Too many pods."
SLUG = "kubelet-max-pods"


def test_the_api_search_runs_in_a_turn_on_the_turns_searcher(client, search_index):
    caches.searchers.forget()  # this thread's own searcher, from an earlier test
    caches.results.clear()
    answer = client.get("/api/search/", {"q": QUERY})
    assert answer.status_code == 200
    assert answer.json()["results"][0]["slug"] == SLUG
    # The search ran in a turn: the turn's searcher is open, the thread's own never was.
    assert caches.searchers._slot().searcher is None
    with caches.page_turns.turn() as got:
        assert got
        slot = caches.searchers._slot()
    assert slot.searcher is not None
    assert slot.folder.parent == search_index.resolve()
    # The page and the API share that one searcher.
    caches.results.clear()
    page = client.get("/search/", {"q": "Too many pods"})
    assert page.context["hits"][0].slug == SLUG
    assert slot.searcher is not None
    assert caches.searchers._slot().searcher is None


def test_the_api_answer_is_the_same_within_a_turn_and_without_one(
    client, search_index, settings, monkeypatch
):
    settings.KB_INDEX_CHECK_SECONDS = 10**9
    caches.searchers.forget()
    caches.results.clear()
    turned = client.get("/api/search/", {"q": QUERY, "limit": 5})
    assert turned.status_code == 200
    assert turned.json()["diagnosis"] is not None
    caches.results.clear()
    # This thread holds the only turn: the API waits for one briefly, then runs anyway.
    monkeypatch.setattr(caches.page_turns, "_wait", 0.05)
    with caches.page_turns.turn() as got:
        assert got
        untimed = client.get("/api/search/", {"q": QUERY, "limit": 5})
    assert untimed.status_code == 200
    assert turned.content == untimed.content
