"""Troubleshooter pages and API through Django's test client, as full pages and htmx fragments."""

import json

import pytest
from django.urls import reverse

from troubleshooter.diagnosis import get_tree

pytestmark = pytest.mark.django_db

TROUBLESHOOT = reverse("troubleshooter:troubleshoot")
API = reverse("troubleshooter:api_diagnose")
ENVSUBST = "/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long"


def node_url(node_id: str) -> str:
    return reverse("troubleshooter:node", args=[node_id])


def test_it_shows_the_paste_box(client):
    response = client.get(TROUBLESHOOT)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<textarea id="paste-text" name="text"' in html
    assert f'hx-post="{TROUBLESHOOT}"' in html
    assert "<html" in html


def test_it_diagnoses_a_post_as_a_full_page(client, search_index):
    response = client.post(TROUBLESHOOT, {"text": ENVSUBST})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert node_url("service-links-env-too-long") in html
    assert "/articles/nginx-envsubst-argument-list-too-long/#cause" in html


def test_it_diagnoses_a_get_without_javascript(client, search_index):
    response = client.get(TROUBLESHOOT, {"text": "0/3 nodes are available: 3 Too many pods."})
    assert node_url("node-pod-limit") in response.content.decode()


def test_it_returns_only_the_diagnosis_fragment_to_htmx(client, search_index):
    response = client.post(TROUBLESHOOT, {"text": ENVSUBST}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<textarea" not in html
    assert node_url("service-links-env-too-long") in html


def test_it_asks_the_question_as_a_form_that_keeps_the_paste(client, search_index):
    html = client.post(TROUBLESHOOT, {"text": "Bus error (core dumped)"}).content.decode()
    for node_id in ("hugepages-not-requested", "network-docroot-mmap-sendfile", "bus-error-other"):
        assert f'name="answer" value="{node_id}"' in html
    assert '<input type="hidden" name="text" value="Bus error (core dumped)">' in html
    assert "SIGBUS means" in html  # the question's help text
    assert "Not a known cause" not in html


def test_it_says_not_a_known_cause_and_shows_search_results(client, search_index):
    text = "OOMKilled Warning FailedMount MountVolume.SetUp failed: hostPath nas configmap subPath"
    response = client.post(TROUBLESHOOT, {"text": text}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Not a known cause" in html
    assert 'class="results"' in html


def test_it_refuses_a_shell_glob_honestly(client, search_index):
    html = client.post(TROUBLESHOOT, {"text": "/bin/rm: Argument list too long"}).content.decode()
    assert "Not a known cause" in html
    assert node_url("shell-glob-too-many-files") in html
    assert node_url("service-links-env-too-long") not in html


@pytest.mark.parametrize("hx", [False, True])
def test_it_prompts_for_empty_text(client, hx):
    headers = {"HTTP_HX_REQUEST": "true"} if hx else {}
    response = client.post(TROUBLESHOOT, {"text": "   "}, **headers)
    assert response.status_code == 200
    assert "Nothing to diagnose yet" in response.content.decode()


def test_it_refuses_text_above_two_megabytes(client):
    response = client.post(TROUBLESHOOT, {"text": "x" * (2 * 1024 * 1024 + 1)})
    assert response.status_code == 413
    assert "limit" in response.content.decode()


def test_it_serves_every_node_as_a_page(client):
    for node_id in get_tree().nodes:
        response = client.get(node_url(node_id))
        assert response.status_code == 200, node_id


def test_it_shows_a_cause_with_fix_copy_button_article_and_analyzer(client, articles):
    html = client.get(node_url("hugepages-not-requested")).content.decode()
    assert '<pre id="fix-hugepages-not-requested">' in html
    assert 'data-copy="fix-hugepages-not-requested"' in html
    assert 'href="/articles/php-opcache-hugepages/#fix"' in html
    assert f'href="{reverse("troubleshooter:analyze")}"' in html


def test_it_shows_a_question_with_answer_links(client):
    html = client.get(node_url("bus-error")).content.decode()
    assert f'href="{node_url("network-docroot-mmap-sendfile")}"' in html
    assert "<html" in html


def test_it_returns_the_node_fragment_to_htmx(client):
    response = client.get(node_url("bus-error"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'href="{node_url("hugepages-not-requested")}"' in html


def test_it_shows_not_covered_nodes_honestly(client):
    html = client.get(node_url("shell-glob-too-many-files")).content.decode()
    assert "Not a known cause" in html


@pytest.mark.parametrize(
    "bad", ["no-such-node", "Bus-Error", "bus_error", "-bus", "a" * 81, "..", "%2e%2e"]
)
def test_it_answers_404_for_unknown_or_malformed_nodes(client, bad):
    assert client.get(f"/troubleshoot/{bad}/").status_code == 404


def test_it_answers_the_api_with_a_raw_text_body(client, search_index):
    response = client.post(API, data=ENVSUBST, content_type="text/plain")
    assert response.status_code == 200
    body = response.json()
    assert body["question"] is None
    assert body["matches"][0]["article"] == "nginx-envsubst-argument-list-too-long"
    assert body["matches"][0]["node"] == "service-links-env-too-long"
    assert body["matches"][0]["url"] == "/articles/nginx-envsubst-argument-list-too-long/#cause"
    assert 0 < body["matches"][0]["confidence"] <= 1
    assert body["search"] == []
    assert body["not_covered"] == []


def test_it_answers_the_api_with_a_form_field(client, search_index):
    body = client.post(API, {"text": "Bus error (core dumped)"}).json()
    assert body["matches"] == []
    assert body["question"]["node"] == "bus-error"
    assert node_url("hugepages-not-requested") in [o["url"] for o in body["question"]["options"]]


def test_it_returns_search_hits_from_the_api_when_nothing_is_known(client, search_index):
    text = "Readiness probe failed: opcache status page returns 503 behind kube-proxy"
    body = client.post(API, data=text, content_type="text/plain").json()
    assert body["matches"] == [] and body["question"] is None
    assert body["search"] and {"slug", "title", "url"} <= set(body["search"][0])


def test_it_says_not_covered_in_the_api_for_a_shell_glob(client, search_index):
    text = "/bin/rm: Argument list too long"
    body = client.post(API, data=text, content_type="text/plain").json()
    assert body["matches"] == [] and body["question"] is None
    assert [n["node"] for n in body["not_covered"]] == ["shell-glob-too-many-files"]
    assert body["not_covered"][0]["url"] == node_url("shell-glob-too-many-files")
    assert body["search"], "unknown causes still get search results"


def test_it_accepts_utf8_cjk_in_the_api(client, search_index):
    data = "envsubst: 引数リストが長すぎます".encode()
    body = client.post(API, data=data, content_type="text/plain; charset=utf-8").json()
    assert body["matches"][0]["node"] == "service-links-env-too-long"


def test_it_rejects_get_on_the_api_with_json_405(client):
    response = client.get(API)
    assert response.status_code == 405
    assert "error" in response.json()


def test_it_rejects_bad_encodings_with_json_400(client):
    response = client.post(API, data=b"\xff\xfe\xfa bad", content_type="text/plain; charset=utf-8")
    assert response.status_code == 400
    assert "error" in json.loads(response.content)


def test_it_rejects_an_unknown_charset_with_json_400(client):
    response = client.generic("POST", API, b"x", content_type="text/plain; charset=klingon")
    assert response.status_code == 400


def test_it_rejects_empty_api_text_with_json_400(client):
    assert client.post(API, data=b"", content_type="text/plain").status_code == 400


def test_it_refuses_oversized_api_text_with_json_413(client):
    response = client.post(API, data=b"x" * (2 * 1024 * 1024 + 1), content_type="text/plain")
    assert response.status_code == 413
    assert "error" in response.json()
