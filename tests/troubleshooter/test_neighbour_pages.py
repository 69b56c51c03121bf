"""A neighbour's answer through the real pages: its node is a page in three languages with
its primary sources, and a paste of its own message is refused with its advice on the
troubleshooter page and in the JSON API."""

import html as html_lib

import pytest
from django.test import Client
from django.urls import reverse

from troubleshooter.diagnosis import get_tree
from troubleshooter.diagnosis.tree import NotCoveredNode

pytestmark = pytest.mark.django_db

NEIGHBOURS = [
    node
    for node in get_tree().nodes.values()
    if isinstance(node, NotCoveredNode) and node.looks_like
]


@pytest.mark.parametrize("node", NEIGHBOURS, ids=lambda n: n.id)
@pytest.mark.parametrize("lang", ["en", "ja", "zh"])
def test_a_neighbours_page_shows_its_advice_and_sources_in_the_readers_language(node, lang):
    url = reverse("troubleshooter:node", args=[node.id])
    response = Client().get(url, {"lang": lang})
    assert response.status_code == 200
    page = html_lib.unescape(response.content.decode())
    assert node.i18n["title"][lang] in page
    assert node.i18n["advice"][lang] in page
    heading = {"en": "Sources", "ja": "出典", "zh": "出处"}[lang]
    assert f"<h2>{heading}</h2>" in page
    for source in node.sources:
        assert f'href="{source}"' in page


def test_a_neighbours_message_is_refused_with_its_advice_on_the_page_and_in_the_api():
    text = (
        "2024/05/02 10:11:12 [error] 31#31: *9 client intended to send too large body: "
        '5242880 bytes, client: 10.0.0.7, server: _, request: "POST /upload.php HTTP/1.1"'
    )
    client = Client()
    page = client.post(reverse("troubleshooter:troubleshoot"), {"text": text}).content.decode()
    assert reverse("troubleshooter:node", args=["nginx-body-size-limit"]) in page
    assert "<h2>Not a known cause</h2>" in page
    answer = client.post(
        reverse("troubleshooter:api_diagnose"), text, content_type="text/plain"
    ).json()
    assert answer["matches"] == []
    assert [n["node"] for n in answer["not_covered"]][:1] == ["nginx-body-size-limit"]


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_the_neighbours_refusal_reads_in_the_page_language(lang):
    node = get_tree().node("php-memory-limit")
    text = (
        "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted"
        " (tried to allocate 20480 bytes)"
    )
    url = reverse("troubleshooter:troubleshoot") + f"?lang={lang}"
    page = html_lib.unescape(Client().post(url, {"text": text}).content.decode())
    assert node.i18n["title"][lang] in page
    assert node.i18n["advice"][lang] in page
    assert node.i18n["title"]["en"] not in page
