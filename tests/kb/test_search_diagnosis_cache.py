"""The search page's diagnosis is cached per text, language and articles generation."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kb.models import Article

QUERY = "0/3 nodes are available: 3 Too many pods."
SLUG = "kubelet-max-pods"


def test_a_repeated_query_reuses_the_diagnosis(client, search_index, settings) -> None:
    # The index's own freshness check (the same generation query, once per interval) must not
    # fall due between the two requests of a slow run.
    settings.KB_INDEX_CHECK_SECONDS = 10**9
    first = client.get("/search/", {"q": QUERY})
    assert first.context["cause"]["article"] == SLUG
    with CaptureQueriesContext(connection) as again:
        second = client.get("/search/", {"q": QUERY})
    assert second.context["cause"] == first.context["cause"]
    # Search and diagnosis both answered from their caches: only the generation was read.
    assert len(again.captured_queries) == 1, [q["sql"] for q in again.captured_queries]


def test_the_cause_card_follows_an_edit_of_its_article(client, search_index) -> None:
    assert client.get("/search/", {"q": QUERY}).context["cause"]["title"] != "Edited title"
    article = Article.objects.get(slug=SLUG, lang="en")
    article.title = "Edited title"
    article.save()
    assert client.get("/search/", {"q": QUERY}).context["cause"]["title"] == "Edited title"


def test_the_cause_card_is_cached_per_language(client, search_index) -> None:
    english = client.get("/search/", {"q": QUERY}).context["cause"]
    client.cookies["django_language"] = "ja"
    japanese = client.get("/search/", {"q": QUERY}).context["cause"]
    assert japanese["article"] == english["article"] == SLUG
    assert japanese != english


def test_a_new_query_reads_the_articles_generation_once(client, search_index, settings) -> None:
    # The diagnosis cache's key and the troubleshooter's causes are the same generation: a
    # page that diagnoses a new text asks the database for it once, not once per reader.
    settings.KB_INDEX_CHECK_SECONDS = 10**9
    client.get("/search/", {"q": QUERY})
    with CaptureQueriesContext(connection) as page:
        response = client.get("/search/", {"q": "Too many pods on the node, pods Pending"})
    assert response.status_code == 200
    # A named cause: its card is built too, the third reader the page had.
    assert response.context["cause"]["article"] == SLUG
    generation = [q["sql"] for q in page.captured_queries if "COUNT(*)" in q["sql"]]
    assert len(generation) == 1, [q["sql"] for q in page.captured_queries]
