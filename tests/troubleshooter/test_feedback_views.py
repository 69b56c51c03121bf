"""'Did this solve it?' through Django's test client: stored, validated, CSRF, rate limit, admin."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from troubleshooter.models import Feedback

ARTICLE = "nginx-envsubst-argument-list-too-long"
URL = "/feedback/"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def test_the_article_page_asks_whether_it_solved_it(client, articles) -> None:
    html = client.get(f"/articles/{ARTICLE}/").content.decode()
    assert 'id="feedback"' in html and 'action="/feedback/"' in html
    assert f'name="target" value="{ARTICLE}"' in html and "csrfmiddlewaretoken" in html


def test_a_plain_post_stores_the_vote_and_returns_to_the_page(client, articles) -> None:
    response = client.post(
        URL, {"kind": "article", "target": ARTICLE, "helpful": "no", "comment": " too vague "}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/articles/{ARTICLE}/#feedback"
    stored = Feedback.objects.get()
    assert (stored.kind, stored.target, stored.helpful, stored.comment) == (
        "article",
        ARTICLE,
        False,
        "too vague",
    )
    assert "your feedback was recorded" in client.get(response["Location"]).content.decode()


def test_htmx_gets_the_thanks_fragment(client, articles) -> None:
    response = client.post(
        URL, {"kind": "article", "target": ARTICLE, "helpful": "yes"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "glad it helped" in html
    assert Feedback.objects.get().helpful is True


def test_it_takes_feedback_on_a_tree_node(client, db) -> None:
    node = "service-links-env-too-long"
    response = client.post(URL, {"kind": "node", "target": node, "helpful": "yes"})
    assert response.status_code == 302 and response["Location"] == f"/troubleshoot/{node}/#feedback"
    assert Feedback.objects.get().kind == "node"


@pytest.mark.parametrize(
    "fields",
    [
        {"target": "no-such-article"},
        {"target": "../etc/passwd"},
        {"kind": "node", "target": "no-such-node"},
        {"kind": "page"},
        {"helpful": "maybe"},
        {"comment": "x" * 1001},
    ],
)
def test_it_refuses_what_it_cannot_attach_to_a_page(client, articles, fields) -> None:
    data = {"kind": "article", "target": ARTICLE, "helpful": "no", **fields}
    assert client.post(URL, data).status_code == 400
    assert not Feedback.objects.exists()


def test_it_needs_the_csrf_token(articles) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, {"kind": "article", "target": ARTICLE, "helpful": "no"})
    assert response.status_code == 403
    assert not Feedback.objects.exists()


def test_it_rate_limits_one_address(client, articles) -> None:
    data = {"kind": "article", "target": ARTICLE, "helpful": "yes"}
    statuses = [client.post(URL, data).status_code for _ in range(12)]
    assert statuses[:10] == [302] * 10 and statuses[10:] == [429, 429]
    assert Feedback.objects.count() == 10
    other = client.post(URL, data, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302


def test_it_refuses_get(client, db) -> None:
    assert client.get(URL).status_code == 405


def test_editors_see_what_does_not_help_most_complaints_first(admin_client, articles) -> None:
    for target, helpful in [
        ("kubelet-max-pods", False),
        (ARTICLE, False),
        (ARTICLE, False),
        (ARTICLE, True),
        ("php-upload-tmp-dir", True),
    ]:
        Feedback.objects.create(kind="article", target=target, helpful=helpful, comment=target)
    html = admin_client.get("/admin/troubleshooter/nothelpful/").content.decode()
    assert html.index(ARTICLE) < html.index("kubelet-max-pods")
    assert "php-upload-tmp-dir" not in html
    assert admin_client.get("/admin/troubleshooter/feedback/").status_code == 200
