"""Search pages take turns per process, each turn with its own searcher; workers warm up first."""

from __future__ import annotations

import re
import threading
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kb.search import caches
from kb.search.caches import Turns
from kb.views import warm_search_page

# CSRF tokens are masked anew on every page.
TOKEN = re.compile(rb'(?<=csrfmiddlewaretoken" value=")[^"]+|(?<="x-csrftoken": ")[^"]+')
QUERY = "0/3 nodes are available: 3 Too many pods."
SLUG = "kubelet-max-pods"


def test_a_search_page_uses_its_turns_searcher_not_one_of_its_thread(client, search_index):
    caches.searchers.forget()  # this thread's own searcher, from an earlier test
    caches.results.clear()
    first = client.get("/search/", {"q": QUERY})
    assert first.status_code == 200
    assert first.context["hits"][0].slug == SLUG
    # The page ran in a turn: the turn's searcher is open, the thread's own never was.
    assert caches.searchers._slot().searcher is None
    slots = []
    with caches.page_turns.turn() as got:
        assert got
        slots.append(caches.searchers._slot())
    assert slots[0].searcher is not None
    assert slots[0].folder.parent == search_index.resolve()
    # The next page (another query, not cached) reuses that searcher.
    opened = slots[0].searcher
    caches.results.clear()
    second = client.get("/search/", {"q": "Too many pods"})
    assert second.context["hits"][0].slug == SLUG
    assert slots[0].searcher is opened
    assert caches.searchers._slot().searcher is None


def test_the_page_is_the_same_within_a_turn_and_without_one(
    client, search_index, settings, monkeypatch
):
    settings.KB_INDEX_CHECK_SECONDS = 10**9
    caches.searchers.forget()
    turned = client.get("/search/", {"q": QUERY}).content
    caches.results.clear()
    caches.diagnoses.clear()
    # This thread holds the only turn: the page waits for one briefly, then runs anyway.
    monkeypatch.setattr(caches.page_turns, "_wait", 0.05)
    with caches.page_turns.turn() as got:
        assert got
        untimed = client.get("/search/", {"q": QUERY}).content
    assert TOKEN.sub(b"", turned) == TOKEN.sub(b"", untimed)
    assert TOKEN.search(turned)


def test_turns_let_one_holder_in_at_a_time():
    turns = Turns(1, wait=30.0)
    inside = []
    most = []
    lock = threading.Lock()

    def hold() -> None:
        with turns.turn() as got:
            assert got
            with lock:
                inside.append(1)
                most.append(len(inside))
            time.sleep(0.01)
            with lock:
                inside.pop()

    threads = [threading.Thread(target=hold) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(most) == 8
    assert max(most) == 1


def test_a_turn_not_had_in_time_runs_without_one():
    turns = Turns(1, wait=0.1)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with turns.turn():
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        started = time.monotonic()
        with turns.turn() as got:
            waited = time.monotonic() - started
            assert got is False
            assert caches.searchers._slot() is not None
        assert 0.05 <= waited < 5
    finally:
        release.set()
        holder.join(timeout=30)
    with turns.turn() as got:  # released: the next caller has it at once
        assert got is True


def test_two_turns_have_two_searchers():
    turns = Turns(2, wait=1.0)
    seen = []
    with turns.turn():
        seen.append(caches.searchers._slot())
        done = threading.Event()

        def other() -> None:
            with turns.turn() as got:
                assert got
                seen.append(caches.searchers._slot())
            done.set()

        thread = threading.Thread(target=other)
        thread.start()
        assert done.wait(30)
        thread.join(timeout=30)
    assert len(seen) == 2
    assert seen[0] is not seen[1]


def test_a_warmed_worker_does_not_read_the_articles_on_its_first_page(client, search_index):
    # New articles: the causes known so far are of another generation.
    from kb.models import Article

    article = Article.objects.get(slug=SLUG, lang="en")
    article.save()
    warm_search_page()
    with CaptureQueriesContext(connection) as page:
        response = client.get("/search/", {"q": "an error no test asked before 4711"})
    assert response.status_code == 200
    statements = [q["sql"] for q in page.captured_queries]
    assert not any("front_matter" in sql for sql in statements), statements
    # Without warming, the first diagnosis after the change reads every article.
    article.save()
    with CaptureQueriesContext(connection) as cold:
        client.get("/search/", {"q": "another error no test asked before 4712"})
    assert any("front_matter" in q["sql"] for q in cold.captured_queries)


def test_warming_without_an_index_or_articles_does_not_fail(db):
    warm_search_page()


def _aggregate_generation() -> str:
    """The articles' generation as one ORM aggregate (its definition before it was SQL)."""
    from django.db.models import Count, Max

    from kb.models import Article

    state = Article.objects.aggregate(count=Count("pk"), last=Max("pk"), changed=Max("updated_at"))
    changed = state["changed"].isoformat() if state["changed"] else "-"
    return f"{state['count']}:{state['last']}:{changed}"


def test_the_generation_is_the_aggregate_of_the_articles_after_every_change(articles):
    from kb.models import Article
    from kb.search.index import database_generation

    seen = {database_generation()}
    assert database_generation() == _aggregate_generation()
    article = Article.objects.get(slug=SLUG, lang="en")
    article.summary = "Changed"
    article.save()
    assert database_generation() == _aggregate_generation()
    seen.add(database_generation())
    Article.objects.filter(pk=article.pk).delete()
    assert database_generation() == _aggregate_generation()
    seen.add(database_generation())
    Article.objects.all().delete()
    assert database_generation() == _aggregate_generation() == "0:None:-"
    seen.add(database_generation())
    assert len(seen) == 4


def test_sqlite_connections_are_kept_between_requests(settings):
    """Opening and closing one per request cost as much as the page's queries (4 ms).

    Asserted on the setting: the test database lives in memory, where Django never closes a
    connection whatever the setting says.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        assert database["CONN_MAX_AGE"] is None
    else:
        assert database["CONN_MAX_AGE"] > 0
