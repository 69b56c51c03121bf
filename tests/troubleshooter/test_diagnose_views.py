# ruff: noqa: E501  (real log lines and pastes are kept whole)
"""Troubleshooter pages and API through Django's test client, as full pages and htmx fragments."""

import json

import pytest
from django.urls import reverse

from troubleshooter.diagnosis import get_tree

pytestmark = pytest.mark.django_db

TROUBLESHOOT = reverse("troubleshooter:troubleshoot")
API = reverse("troubleshooter:api_diagnose")
# A description of truncated files with none of the error strings: below the threshold, but
# the network-share article came closest.
CUT_OFF = "files from the share come back cut off"
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
    response = client.post(TROUBLESHOOT, {"text": CUT_OFF}, HTTP_HX_REQUEST="true")
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
    # The neighbour explains it and none of our causes came close: no article is offered.
    assert body["search"] == []


def test_it_accepts_utf8_cjk_in_the_api(client, search_index):
    data = "envsubst: 引数リストが長すぎます".encode()
    body = client.post(API, data=data, content_type="text/plain; charset=utf-8").json()
    assert body["matches"][0]["node"] == "service-links-env-too-long"


def test_it_answers_the_api_with_a_json_body(client, search_index):
    response = client.post(API, data={"text": ENVSUBST}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["matches"][0]["article"] == "nginx-envsubst-argument-list-too-long"
    cjk = json.dumps({"text": "envsubst: 引数リストが長すぎます"}, ensure_ascii=True)
    body = client.post(API, data=cjk, content_type="application/json; charset=utf-8").json()
    assert body["matches"][0]["node"] == "service-links-env-too-long"


@pytest.mark.parametrize(
    "data",
    [
        b'{"text": "envsubst',  # cut short
        b"[1, 2]",
        b'{"text": 42}',
        b'{"message": "Bus error (core dumped)"}',
        b"[" * 200_000,  # deeper than the decoder recurses
        b'{"text": ' + b"9" * 10_000 + b"}",  # more digits than Python converts
    ],
)
def test_it_rejects_a_json_body_without_a_text_string_with_json_400(client, data):
    response = client.post(API, data=data, content_type="application/json")
    assert response.status_code == 400
    assert '{"text": "..."}' in response.json()["error"]


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


# --- One answer on every page, with its evidence ----------------------------------------------

LOG = "\n".join(
    [f"2024-05-01T10:00:{i % 60:02d}Z INFO GET /healthz 200 in {i}ms" for i in range(400)]
    + [
        "  Warning  FailedScheduling  2m  default-scheduler  0/4 nodes are available: 4 Too many pods."
    ]
    + [f"2024-05-01T10:01:{i % 60:02d}Z INFO GET /healthz 200 in {i}ms" for i in range(20)]
)


def test_the_api_gives_matches_with_article_section_confidence_and_evidence(client, articles):
    body = client.post(API, data=LOG, content_type="text/plain").json()
    match = body["matches"][0]
    assert {"article", "section", "confidence", "evidence", "url", "title"} <= set(match)
    assert match["article"] == "kubelet-max-pods" and match["section"] == "cause"
    evidence = match["evidence"][0]
    # The user's own line, as pasted (case and spacing kept), with its line number.
    assert evidence["line_number"] == 401
    assert evidence["line"].startswith("Warning  FailedScheduling  2m  default-scheduler")
    assert body["question"] is None and body["not_covered"] == []


def test_question_options_carry_the_article_they_lead_to(client, articles):
    body = client.post(API, data="Bus error (core dumped)", content_type="text/plain").json()
    assert body["matches"] == [] and body["not_covered"] == []
    options = {o["node"]: o["article"] for o in body["question"]["options"]}
    assert options["hugepages-not-requested"] == "php-opcache-hugepages"
    assert options["network-docroot-mmap-sendfile"] == "httpd-network-docroot-sendfile-mmap"
    assert options["bus-error-other"] is None


@pytest.mark.parametrize(
    "text", ["Bus error (core dumped)", "Stale file handle", "Cannot allocate memory"]
)
def test_a_question_never_shows_with_not_a_known_cause(client, articles, text):
    html = client.post(TROUBLESHOOT, {"text": text}).content.decode()
    assert 'name="answer"' in html
    assert "Not a known cause" not in html


def test_the_page_shows_the_users_line_its_number_and_the_fix_inline(client, articles):
    html = client.post(TROUBLESHOOT, {"text": LOG}).content.decode()
    assert "line 401 of your text" in html
    assert "Warning  FailedScheduling  2m  default-scheduler" in html
    assert '<pre id="fix-kubelet-max-pods">' in html  # the article's fix, no extra click
    assert 'href="/articles/kubelet-max-pods/#cause"' in html


def test_answering_the_question_in_place_keeps_the_paste(client, articles):
    text = "Bus error (core dumped)"
    response = client.post(TROUBLESHOOT, {"text": text, "answer": "hugepages-not-requested"})
    html = response.content.decode()
    assert (
        '<textarea id="paste-text" name="text" rows="12" spellcheck="false">Bus error (core dumped)</textarea>'
        in html
    )
    assert 'data-article="php-opcache-hugepages"' in html  # the cause card, fix inline
    assert '<pre id="fix-php-opcache-hugepages">' in html
    # The person's answer named the cause, not a score: no confidence badge, no empty "%".
    card = html.split('class="cause-card"', 1)[1].split("</article>", 1)[0]
    assert 'class="confidence"' not in card and "Known cause" in card
    # "Start over" posts the same paste again (no answer): back to the question.
    assert 'class="start-over"' in html and 'value="Bus error (core dumped)"' in html
    back = client.post(TROUBLESHOOT, {"text": text}).content.decode()
    assert 'name="answer" value="hugepages-not-requested"' in back


def test_answering_in_place_works_as_an_htmx_fragment(client, articles):
    response = client.post(
        TROUBLESHOOT,
        {"text": "Bus error (core dumped)", "answer": "bus-error-other"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<html" not in html and "Not a known cause" in html
    assert 'class="start-over"' in html


def test_an_unknown_answer_falls_back_to_the_diagnosis(client, articles):
    html = client.post(
        TROUBLESHOOT, {"text": "Bus error (core dumped)", "answer": "../etc"}
    ).content.decode()
    assert 'name="answer" value="hugepages-not-requested"' in html


def test_the_search_page_shows_the_cause_card_and_ranks_that_article_first(client, search_index):
    response = client.post(reverse("kb:search"), {"q": LOG})
    html = response.content.decode()
    assert 'class="cause-card" data-article="kubelet-max-pods"' in html
    results = html[html.index('<ol class="results">') :]
    assert results.index('href="/articles/kubelet-max-pods/') < results.index("</li>")
    hits = response.context["hits"]
    assert hits[0].slug == "kubelet-max-pods"
    troubleshooter = client.post(API, data=LOG, content_type="text/plain").json()
    assert troubleshooter["matches"][0]["article"] == hits[0].slug


# `docker compose up` in a terminal: every service's lines coloured; the error is Japanese.
COLOURED_LOG = "\n".join(
    [f'\x1b[36mweb-1  |\x1b[0m 10.0.0.{i} - - "GET /healthz HTTP/1.1" 200 2' for i in range(40)]
    + [
        "\x1b[36mweb-1  |\x1b[0m \x1b[31m/docker-entrypoint.d/20-envsubst-on-templates.sh: 26:"
        " envsubst: 引数リストが長すぎます\x1b[0m",
        "\x1b[36mweb-1 exited with code 1\x1b[0m",
    ]
)


def test_a_coloured_log_is_read_without_its_colours_on_every_page(client, search_index):
    response = client.post(reverse("kb:search"), {"q": COLOURED_LOG})
    html = response.content.decode()
    assert 'class="cause-card" data-article="nginx-envsubst-argument-list-too-long"' in html
    assert response.context["hits"][0].slug == "nginx-envsubst-argument-list-too-long"
    # The paste box keeps the paste as it was; the answer shows the line as a person reads it.
    card = html[html.index('class="cause-card"') : html.index('<ol class="results">')]
    assert "envsubst: 引数リストが長すぎます" in card
    assert "\x1b" not in card and "[31m" not in card
    answer = client.post(API, data=COLOURED_LOG, content_type="text/plain").json()
    evidence = answer["matches"][0]["evidence"][0]
    assert evidence["line_number"] == 41
    assert evidence["line"].startswith("web-1  | /docker-entrypoint.d/20-envsubst-on-templates.sh")


def test_a_long_coloured_log_is_cut_to_its_error_lines_without_their_colours(
    client, search_index, settings
):
    # Longer than a query may be: its error lines are picked from the text as read.
    noise = "\n".join(f"\x1b[32mINFO\x1b[0m request {i} served" for i in range(3000))
    text = noise + "\n\x1b[31mError: container has runAsNonRoot and image will run as root\x1b[0m"
    assert len(text) > settings.KB_MAX_QUERY_CHARS
    response = client.post(reverse("kb:search"), {"q": text})
    assert response.context["query_cut"] is True
    query = response.context["query"]
    assert "Error: container has runAsNonRoot and image will run as root" in query
    assert "\x1b" not in query
    assert response.context["hits"][0].slug == "run-as-non-root"


# A report as people file it: the template's environment block, a description, the
# `kubectl get` output they looked at, the manifest of the workload. Before the diagnosis
# read the setup and the structure as such, it refused this text.
FILED_REPORT = """**Environment**:
- Kubernetes version: v1.29.4
- OS: Ubuntu 22.04.4 LTS
- Container runtime: containerd 1.7.13

The app logs the node IP instead of the real client address.

$ kubectl get pods -n shop
NAME                   READY   STATUS    RESTARTS   AGE
web-6d8f7c9b5d-x2k4q   1/1     Running   0          2d

apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    spec:
      containers:
        - name: web
          image: registry.example.com/team/web:1.4.2
          ports:
            - containerPort: 8080
          resources:
            limits:
              cpu: 500m
"""


def test_a_report_filed_with_its_environment_manifest_and_kubectl_output_gets_its_answer(
    client, search_index
):
    slug = "client-source-ip-external-traffic-policy"
    response = client.post(reverse("kb:search"), {"q": FILED_REPORT})
    html = response.content.decode()
    assert f'class="cause-card" data-article="{slug}"' in html
    assert response.context["hits"][0].slug == slug
    answer = client.post(API, data=FILED_REPORT, content_type="text/plain").json()
    assert answer["matches"][0]["article"] == slug
    # The evidence is the report's own line, numbered as pasted.
    evidence = answer["matches"][0]["evidence"][0]
    assert (evidence["line_number"], evidence["line"]) == (
        6,
        "The app logs the node IP instead of the real client address.",
    )
    page = client.post(TROUBLESHOOT, {"text": FILED_REPORT}).content.decode()
    assert f"/articles/{slug}/#" in page


def test_a_json_log_record_with_escaped_characters_is_read_as_its_message(client, search_index):
    # Python's json.dumps writes every non-ASCII character as \uXXXX.
    record = json.dumps({"level": "error", "message": "envsubst: 参数列表过长"})
    assert "\\u53c2" in record
    answer = client.post(API, data=record, content_type="text/plain").json()
    assert answer["matches"][0]["article"] == "nginx-envsubst-argument-list-too-long"
    assert "参数列表过长" in answer["matches"][0]["evidence"][0]["line"]


def test_the_search_page_reduces_a_long_log_to_its_error_lines_before_cutting(
    client, search_index, settings
):
    noise = "\n".join(f"INFO request {i} served fine" for i in range(3000))  # ~80 KB
    text = noise + "\nError: container has runAsNonRoot and image will run as root"
    response = client.post(reverse("kb:search"), {"q": text})
    assert response.context["query_cut"] is True
    assert "runAsNonRoot" in response.context["query"]
    assert response.context["hits"][0].slug == "run-as-non-root"
    assert len(response.context["query"]) <= settings.KB_MAX_QUERY_CHARS


def test_the_search_api_carries_the_same_diagnosis(client, search_index):
    body = client.get(
        reverse("kb:api_search"), {"q": "0/3 nodes are available: 3 Too many pods."}
    ).json()
    assert body["diagnosis"]["matches"][0]["article"] == "kubelet-max-pods"
    assert body["results"][0]["slug"] == "kubelet-max-pods"
    assert body["query_cut"] is False


def test_lookup_follows_the_diagnosis(client, search_index):
    named = client.get("/lookup/", {"error": "0/3 nodes are available: 3 Too many pods."})
    assert named["Location"] == "/articles/kubelet-max-pods/#cause"
    asked = client.get("/lookup/", {"error": "Bus error (core dumped)"})
    assert asked["Location"].startswith(TROUBLESHOOT + "?text=")
    refused = client.get("/lookup/", {"error": "0/3 nodes are available: 3 Insufficient cpu."})
    assert refused["Location"].startswith(reverse("kb:search"))


# A kernel setting shares "max" and "memory" with our articles and nothing else: it used to
# offer the max-pods article as "similar words".
MAP_COUNT = (
    "max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]"
)


def test_a_refusal_offers_no_article_when_none_of_ours_came_close(client, search_index):
    body = client.post(API, data=MAP_COUNT, content_type="text/plain").json()
    assert body["matches"] == [] and body["question"] is None
    assert [n["node"] for n in body["not_covered"]] == ["vm-max-map-count-too-low"]
    assert body["search"] == []
    html = client.post(TROUBLESHOOT, {"text": MAP_COUNT}).content.decode()
    assert "Articles that may be related" not in html
    assert "vm-max-map-count-too-low" in html


def test_a_refusal_offers_the_article_that_came_closest_first(client, search_index):
    body = client.post(API, data=CUT_OFF, content_type="text/plain").json()
    assert body["matches"] == [] and body["question"] is None
    assert body["search"][0]["slug"] == "httpd-network-docroot-sendfile-mmap"
    assert body["search"][0]["url"].startswith("/articles/httpd-network-docroot-sendfile-mmap/")
    assert len({hit["slug"] for hit in body["search"]}) == len(body["search"])
    html = client.post(TROUBLESHOOT, {"text": CUT_OFF}).content.decode()
    assert "Articles that may be related" in html
    assert 'href="/articles/httpd-network-docroot-sendfile-mmap/' in html
    for lang, heading in (("ja", "関係がありそうな記事"), ("zh-hans", "可能相关的文章")):
        page = client.post(TROUBLESHOOT, {"text": CUT_OFF}, HTTP_ACCEPT_LANGUAGE=lang)
        assert heading in page.content.decode()


def test_a_close_cause_the_search_missed_is_still_offered_in_the_page_language(search_index):
    from troubleshooter.diagnosis.source import current_knowledge
    from troubleshooter.views.diagnose import _search_fallback

    knowledge = current_knowledge()
    slug = "httpd-network-docroot-sendfile-mmap"
    ranking = (
        (slug, 0.3),
        ("not-covered/shell-glob-too-many-files", 0.9),
        ("run-as-non-root", 0.0),
    )
    # No word of the text is in any article: the result comes from the diagnosis alone.
    for lang, title_of in (("en", "httpd"), ("ja", "httpd")):
        hits = _search_fallback("qqzzv xxwyq", ranking, knowledge, lang)
        assert [hit.slug for hit in hits] == [slug]
        assert hits[0].lang == lang and title_of in hits[0].title
        assert hits[0].url == f"/articles/{slug}/"
    assert _search_fallback("qqzzv xxwyq", ranking[1:], knowledge, "en") == []


def test_the_related_floor_is_read_from_the_model_file():
    from troubleshooter.diagnosis import model

    assert 0 < model.parameters().related_floor < model.parameters().threshold


def test_similar_words_are_not_offered_for_generic_words_only(client, search_index):
    text = 'Failed to pull image "registry.example.com/app:latest": not found'
    body = client.post(API, data=text, content_type="text/plain").json()
    assert body["matches"] == [] and body["search"] == []


def test_the_tree_texts_follow_the_page_language(client, articles):
    from django.utils import translation

    with translation.override("ja"):
        html = client.post(
            TROUBLESHOOT, {"text": "Bus error (core dumped)"}, HTTP_ACCEPT_LANGUAGE="ja"
        ).content.decode()
    assert "で落ちるのはどのプロセスですか" in html
    with translation.override("zh-hans"):
        body = client.post(
            API,
            data="Bus error (core dumped)",
            content_type="text/plain",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        ).json()
    assert "崩溃" in body["question"]["text"]


# --- A team's own article, imported with the real importer, is a new cause -------------------

OWN = """\
---
title: "Redis refuses writes: MISCONF when the snapshot volume is read-only"
slug: redis-misconf-readonly-volume
lang: en
summary: "Redis stops accepting writes when its RDB snapshot cannot be written to the volume."
symptoms:
  - "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk"
reports:
  en: ["redis stops accepting writes once its data volume turned read-only"]
  ja: ["データボリュームが読み取り専用になり Redis が書き込みを拒否する"]
  zh: ["数据卷变成只读后 Redis 拒绝写入"]
near_misses:
  - "Redis is starting"
mechanism:
  component: [redis]
  storage: [read-only, rdb]
  effect: [misconf]
---
# Redis MISCONF

## Fix

```yaml
volumeMounts: [{name: data, mountPath: /data}]
```
"""


def test_a_teams_own_imported_article_teaches_a_new_cause(client, articles, tmp_path):
    from kb.importer import import_paths

    text = "(error) MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."
    before = client.post(API, data=text, content_type="text/plain").json()
    assert before["matches"] == []
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "redis-misconf-readonly-volume.md").write_text(OWN, encoding="utf-8")
    report = import_paths([folder])
    assert not report.failed, report.failed
    after = client.post(API, data=text, content_type="text/plain").json()
    assert after["matches"][0]["article"] == "redis-misconf-readonly-volume"
    assert after["matches"][0]["url"] == "/articles/redis-misconf-readonly-volume/#cause"
    html = client.post(TROUBLESHOOT, {"text": text}).content.decode()
    assert "volumeMounts: [{name: data, mountPath: /data}]" in html


def test_an_imported_translation_lends_its_words_to_the_diagnosis(articles):
    from kb.models import Article
    from troubleshooter.diagnosis.source import current_knowledge

    japanese = Article.objects.get(slug="kubelet-max-pods", lang="ja")
    cause = current_knowledge().cause("kubelet-max-pods")
    assert any(japanese.title in text and japanese.markdown in text for text in cause.prose)


def test_an_instance_without_the_imported_file_knows_the_whole_cause(client, articles, tmp_path):
    """Another host shares the database but not the importing host's disk: the reports, near
    misses and mechanism come from what the import stored, not from the file."""
    from kb.importer import import_paths

    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "redis-misconf-readonly-volume.md").write_text(OWN, encoding="utf-8")
    assert not import_paths([folder]).failed
    (folder / "redis-misconf-readonly-volume.md").unlink()
    # A report in the article's own words (not its symptom): only `reports` can name it.
    text = "redis stops accepting writes once its data volume turned read-only"
    found = client.post(API, data=text, content_type="text/plain").json()
    assert found["matches"] and found["matches"][0]["article"] == "redis-misconf-readonly-volume"
    near_miss = client.post(API, data="Redis is starting", content_type="text/plain").json()
    assert near_miss["matches"] == []


def test_the_cause_card_uses_an_imported_translation_of_the_article(client, articles):
    from django.utils import translation

    from kb.models import Article

    japanese = Article.objects.get(slug="kubelet-max-pods", lang="ja")
    english = Article.objects.get(slug="kubelet-max-pods", lang="en")
    assert japanese.title != english.title
    with translation.override("ja"):
        body = client.post(
            API,
            data="0/3 nodes are available: 3 Too many pods.",
            content_type="text/plain",
            HTTP_ACCEPT_LANGUAGE="ja",
        ).json()
    assert body["matches"][0]["title"] == japanese.title
    assert body["matches"][0]["article"] == "kubelet-max-pods"


@pytest.mark.parametrize(
    ("node", "asks"),
    [
        ("argument-list-too-long", False),
        ("service-links-env-too-long", True),
        ("shell-glob-too-many-files", True),
    ],
)
def test_a_tree_node_unfurls_in_a_wiki_and_an_answer_asks_for_feedback(
    client, articles, node, asks
):
    html = client.get(reverse("troubleshooter:node", args=[node])).content.decode()
    title = html.split('<meta property="og:title" content="', 1)[1].split('"', 1)[0]
    description = html.split('<meta name="description" content="', 1)[1].split('"', 1)[0]
    assert title.strip() and "Container pitfalls" not in title
    assert description.strip() and "Paste an error or a log" not in description
    # A cause or a not-covered answer asks "Did this solve it?"; a question does not.
    assert (f'<input type="hidden" name="target" value="{node}">' in html) is asks
    assert ('id="feedback"' in html) is asks
    # The vote comes with the step when htmx swaps it in.
    fragment = client.get(
        reverse("troubleshooter:node", args=[node]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment
    assert (f'<input type="hidden" name="target" value="{node}">' in fragment) is asks
