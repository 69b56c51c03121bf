# ruff: noqa: E501  (real log lines and pastes are kept whole)
"""Shared troubleshooter results: stored only on Share, credentials masked, diagnosed again
when opened, with an expiry and a delete key; through Django's test client on the real views."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from hostile_corpus import XSS_TEXT, case, corpus, dangerous_markup

from kb.models import Article
from troubleshooter.models import SharedDiagnosis
from troubleshooter.share import SHARE_MAX_PASTE_BYTES, redact_paste
from troubleshooter.views.share import SHARE_RATE_LIMIT

REPO = Path(__file__).resolve().parents[2]
TROUBLESHOOT = "/troubleshoot/"
SHARE = "/troubleshoot/share/"
ENVSUBST_ARTICLE = "nginx-envsubst-argument-list-too-long"
# Made-up credentials of every shape the redaction knows, around a known error.
SECRETS = {
    "url password": "hunter2-db-pass",
    "password=": "s3cr3t-value",
    "AWS key id": "AKIAIOSFODNN7EXAMPLE",
    "AWS secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "bearer": "abcdefghijklmnopqrstuvwx123456",
    "basic": "YWRtaW46cGFzc3dvcmQx",
    "json token": "tok-3f9a7c1e",
    "cli flag": "flag-pass-77",
    "private key": "MIIEowIBAAKCAQEAv0DuMMY",
    "secret data": "c2VjcmV0LWRhdGEtdmFsdWU=",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vLXVzZXIifQ.c2lnbmF0dXJlLW5vdC1yZWFs",
    "github": "ghp_0123456789abcdefghijABCDEFGHIJ012345",
}
LOG = f"""2026-11-30T10:00:00Z connecting to postgres://app:{SECRETS["url password"]}@db:5432/app
2026-11-30T10:00:00Z env DB_PASSWORD={SECRETS["password="]} AWS_ACCESS_KEY_ID={SECRETS["AWS key id"]}
2026-11-30T10:00:00Z aws_secret_access_key = {SECRETS["AWS secret"]}
2026-11-30T10:00:01Z GET /healthz Authorization: Bearer {SECRETS["bearer"]}
2026-11-30T10:00:01Z proxy header Authorization: Basic {SECRETS["basic"]}
2026-11-30T10:00:01Z config {{"user": "app", "token": "{SECRETS["json token"]}"}}
2026-11-30T10:00:01Z mysql --password {SECRETS["cli flag"]} -h db
2026-11-30T10:00:01Z session {SECRETS["jwt"]} pushed with {SECRETS["github"]}
-----BEGIN RSA PRIVATE KEY-----
{SECRETS["private key"]}
-----END RSA PRIVATE KEY-----
volumes: [{{secretName: azure-files-credentials}}]
/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long
"""
SECRET_YAML = f"""apiVersion: v1
kind: Secret
metadata:
  name: db
data:
  password: {SECRETS["secret data"]}
"""
BUS_ERROR = "sh: line 1:    42 Bus error (core dumped) ./worker --serve"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()  # the share allowance is counted per address in the cache


class _Forms(HTMLParser):
    """The forms of a page with their action and fields, as a browser without JavaScript sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": attributes, "fields": {}, "buttons": []})
        elif self.forms and tag == "input" and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""
        elif self.forms and tag == "button":
            self.forms[-1]["buttons"].append(attributes)


def share_form(html: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    forms = [f for f in parser.forms if f["attrs"].get("action") == SHARE]
    assert len(forms) == 1, "one Share form"
    return forms[0]


def share(client: Client, text: str, answer: str = ""):
    data = {"text": text, **({"answer": answer} if answer else {})}
    return client.post(SHARE, data)


def token_of(location: str) -> str:
    match = re.fullmatch(r"/troubleshoot/shared/([A-Za-z0-9_-]+)/", location)
    assert match, location
    return match.group(1)


# --- Redaction --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", sorted(SECRETS))
def test_it_masks_every_credential_shape(shape: str) -> None:
    redacted = redact_paste(LOG + "---\n" + SECRET_YAML)
    assert SECRETS[shape] not in redacted.text


def test_it_keeps_what_is_not_a_credential() -> None:
    redacted = redact_paste(LOG)
    text = redacted.text
    assert text.endswith("26: envsubst: Argument list too long\n")
    assert "Authorization: Bearer <redacted>" in text and "Basic <redacted>" in text
    assert "postgres://app:<redacted>@db:5432/app" in text
    assert "DB_PASSWORD=<redacted>" in text and '"token": "<redacted>"' in text
    assert "secretName: azure-files-credentials" in text  # the name of a Secret, not its value
    assert "-----BEGIN RSA PRIVATE KEY-----\n<redacted>\n-----END" in text
    assert redacted.count == 11
    for harmless in (
        "password: ${DB_PASSWORD}",
        "automountServiceAccountToken: false",
        "Unexpected token: <",
    ):
        assert redact_paste(harmless).text == harmless


def test_it_masks_secret_data_in_yaml_and_in_a_log_that_quotes_it() -> None:
    whole = redact_paste(SECRET_YAML)
    assert SECRETS["secret data"] not in whole.text and 'password: "<redacted>"' in whole.text
    # Not YAML as a whole: found by indentation, the block scalar's lines included.
    quoted = "error: could not apply [\n" + SECRET_YAML + "  tls.crt: |\n    LS0tLS1CRUdJTiBDRVJU\n"
    redacted = redact_paste(quoted)
    assert (
        SECRETS["secret data"] not in redacted.text and "LS0tLS1CRUdJTiBDRVJU" not in redacted.text
    )
    assert "  name: db" in redacted.text
    as_json = (
        '{"kind": "Secret",\n "data": {\n  "password": "' + SECRETS["secret data"] + '"\n }\n} oops'
    )
    assert SECRETS["secret data"] not in redact_paste(as_json).text


def test_it_never_changes_a_known_error_message() -> None:
    """Every symptom of every curated article is left as it is, so a shared paste diagnoses alike."""
    symptoms = []
    for path in sorted((REPO / "articles").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\n"):
            front = yaml.safe_load(text.split("\n---", 1)[0][4:]) or {}
            symptoms.extend(front.get("symptoms") or [])
    assert len(symptoms) > 10
    for symptom in symptoms:
        assert redact_paste(symptom).text == symptom


def test_it_masks_adversarial_pastes_without_hanging() -> None:
    """Each pattern is bounded: the largest pastes of repeated near-matches finish quickly."""
    script = f"""
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
django.setup()
from troubleshooter.share import redact_paste
n = {SHARE_MAX_PASTE_BYTES}
for unit in ("a", "a:", "=:", "password=", "http://", "Bearer ", "Basic ", "-----BEGIN RSA PRIVATE KEY-----",
             "kind: Secret\\ndata:\\n  a: b\\n", "  a: |\\n", "x" * 60 + " ", "eyJ", "AKIA"):
    redact_paste(unit * (n // len(unit)))
"""
    # Generous: a few seconds on a loaded machine; a super-linear pattern would take minutes.
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=120)


# --- Pages ------------------------------------------------------------------------------------


def test_nothing_is_stored_until_share_is_pressed(client, articles) -> None:
    html = client.post(TROUBLESHOOT, {"text": LOG}).content.decode()
    fragment = client.post(TROUBLESHOOT, {"text": LOG}, HTTP_HX_REQUEST="true").content.decode()
    assert not SharedDiagnosis.objects.exists()
    for page in (html, fragment):
        form = share_form(page)
        assert form["attrs"]["method"] == "post"
        assert "hx-post" not in form["attrs"]  # a plain post: the browser follows the redirect
        assert form["fields"]["text"] == LOG
        assert "answer" not in form["fields"]
    assert "replaced by &lt;redacted&gt;" in html
    # No Share for an empty paste.
    assert f'action="{SHARE}"' not in client.get(TROUBLESHOOT).content.decode()


def test_share_stores_the_redacted_paste_and_shows_the_same_answer(client, articles) -> None:
    response = share(client, LOG)
    assert response.status_code == 302
    shared = SharedDiagnosis.objects.get()
    assert response["Location"] == f"/troubleshoot/shared/{shared.token}/"
    for secret in SECRETS.values():
        assert secret not in shared.text
    assert shared.redacted_values == 11 and shared.answer == ""
    assert timedelta(days=6) < shared.expires_at - timezone.now() <= timedelta(days=7)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    for secret in SECRETS.values():
        assert secret not in html
    assert f'class="cause-card" data-article="{ENVSUBST_ARTICLE}"' in html
    assert "26: envsubst: Argument list too long" in html  # the paste, read-only
    assert "<textarea" not in html.split("<main", 1)[-1] and 'tabindex="0"><code>' in html
    assert 'name="robots" content="noindex"' in html
    assert f'data-copy-url="http://testserver/troubleshoot/shared/{shared.token}/"' in html
    assert f"{shared.expires_at:%Y-%m-%d}" in html
    assert f'action="{SHARE}"' not in html  # not shared again from the shared page
    # The creator sees the delete link; someone else does not.
    assert "/delete/?key=" in html
    other = Client().get(response["Location"]).content.decode()
    assert "/delete/?key=" not in other and f'data-article="{ENVSUBST_ARTICLE}"' in other


def test_the_shared_page_follows_the_articles(client, articles) -> None:
    location = share(client, LOG)["Location"]
    Article.objects.filter(slug=ENVSUBST_ARTICLE, lang="en").update(
        title="Renamed: nginx templates and service links", updated_at=timezone.now()
    )
    assert "Renamed: nginx templates and service links" in client.get(location).content.decode()


def test_share_keeps_the_answer_to_the_question(client, articles) -> None:
    asked = client.post(TROUBLESHOOT, {"text": BUS_ERROR}).content.decode()
    assert 'name="answer" value="hugepages-not-requested"' in asked
    assert "answer" not in share_form(asked)["fields"]
    answered = client.post(TROUBLESHOOT, {"text": BUS_ERROR, "answer": "hugepages-not-requested"})
    fields = share_form(answered.content.decode())["fields"]
    assert fields == {
        "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"],
        "text": BUS_ERROR,
        "answer": "hugepages-not-requested",
    }
    location = share(client, BUS_ERROR, "hugepages-not-requested")["Location"]
    assert SharedDiagnosis.objects.get().answer == "hugepages-not-requested"
    html = client.get(location).content.decode()
    assert 'class="cause-card" data-article="php-opcache-hugepages"' in html
    # Unanswered, the shared page asks the same question, as a form that keeps the paste.
    location = share(client, BUS_ERROR)["Location"]
    html = client.get(location).content.decode()
    assert 'name="answer" value="hugepages-not-requested"' in html and "cause-card" not in html


def test_an_unknown_answer_is_not_stored(client, articles) -> None:
    for bad in ("no-such-node", "../../etc/passwd", "x" * 200):
        assert share(client, BUS_ERROR, bad).status_code == 302
    assert set(SharedDiagnosis.objects.values_list("answer", flat=True)) == {""}


def test_it_works_without_javascript(client, articles) -> None:
    """Paste, Diagnose, Share: the forms a browser without JavaScript would submit, as they are."""
    page = client.post(TROUBLESHOOT, {"text": LOG}).content.decode()
    form = share_form(page)
    assert [b.get("type") for b in form["buttons"]] == ["submit"]
    response = client.post(form["attrs"]["action"], form["fields"], follow=True)
    assert response.redirect_chain[0][1] == 302
    html = response.content.decode()
    assert response.status_code == 200 and f'data-article="{ENVSUBST_ARTICLE}"' in html
    assert SECRETS["password="] not in html


def test_the_delete_key_removes_it_and_nothing_else_does(client, articles) -> None:
    location = share(client, LOG)["Location"]
    token = token_of(location)
    key = re.search(r"/delete/\?key=([A-Za-z0-9_-]+)", client.get(location).content.decode()).group(
        1
    )
    delete = f"/troubleshoot/shared/{token}/delete/"
    assert Client().post(delete, {"key": "wrong"}).status_code == 404
    assert Client().get(delete).status_code == 404
    assert Client().post(f"/analyze/shared/{token}/delete/", {"key": key}).status_code == 404
    assert SharedDiagnosis.objects.count() == 1
    confirm = Client().get(f"{delete}?key={key}")
    assert confirm.status_code == 200 and "removes the stored paste" in confirm.content.decode()
    assert share_delete_form_action(confirm.content.decode()) == delete
    deleted = Client().post(delete, {"key": key})
    assert (
        deleted.status_code == 200
        and "The shared diagnosis and its paste are gone" in deleted.content.decode()
    )
    assert not SharedDiagnosis.objects.exists()
    assert client.get(location).status_code == 404


def share_delete_form_action(html: str) -> str:
    parser = _Forms()
    parser.feed(html)
    return next(f["attrs"]["action"] for f in parser.forms if "key" in f["fields"])


def test_an_expired_link_says_so_then_is_gone(client, articles) -> None:
    location = share(client, LOG)["Location"]
    SharedDiagnosis.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(location)
    assert response.status_code == 410
    html = response.content.decode()
    assert "This shared link has expired" in html and 'href="/troubleshoot/"' in html
    assert not SharedDiagnosis.objects.exists()
    assert client.get(location).status_code == 404


def test_sharing_deletes_expired_results(client, articles) -> None:
    share(client, LOG)
    SharedDiagnosis.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    share(client, BUS_ERROR)
    assert list(SharedDiagnosis.objects.values_list("text", flat=True)) == [BUS_ERROR]


@pytest.mark.parametrize(
    "token", ["x", "..", "a" * 41, "abc$defghijklmnopq", "%00" * 10, "aaaaaaaaaaaaaaaaaaaaaaaa"]
)
def test_unknown_or_malformed_tokens_are_404(client, db, token) -> None:
    assert client.get(f"/troubleshoot/shared/{token}/").status_code == 404
    assert client.get(f"/troubleshoot/shared/{token}/delete/?key=x").status_code == 404
    assert client.post(f"/troubleshoot/shared/{token}/delete/", {"key": "x"}).status_code == 404


def test_empty_or_too_long_pastes_are_not_shared_and_the_paste_stays(client, articles) -> None:
    response = share(client, "   \n")
    assert response.status_code == 400 and "nothing to share" in response.content.decode()
    long_log = "x" * SHARE_MAX_PASTE_BYTES + "\n" + LOG
    response = share(client, long_log)
    html = response.content.decode()
    assert response.status_code == 413 and "too long to share" in html
    assert 'role="alert"' in html and "26: envsubst: Argument list too long" in html
    assert share(client, "x" * (settings.KB_MAX_LOG_BYTES + 1)).status_code == 413
    assert not SharedDiagnosis.objects.exists()


def test_share_needs_the_csrf_token_and_a_post(articles) -> None:
    response = Client(enforce_csrf_checks=True).post(SHARE, {"text": LOG})
    assert response.status_code == 403
    assert Client().get(SHARE).status_code == 405
    assert not SharedDiagnosis.objects.exists()


def test_sharing_is_rate_limited_per_address(client, articles) -> None:
    for _ in range(SHARE_RATE_LIMIT):
        assert share(client, BUS_ERROR).status_code == 302
    response = share(client, BUS_ERROR)
    assert response.status_code == 429 and "try again later" in response.content.decode()
    assert SharedDiagnosis.objects.count() == SHARE_RATE_LIMIT
    assert share(Client(REMOTE_ADDR="192.0.2.7"), BUS_ERROR).status_code == 302


def test_the_shared_page_speaks_the_readers_language(client, articles) -> None:
    location = share(client, LOG)["Location"]
    ja = client.get(location, {"lang": "ja"}).content.decode()
    zh = client.get(location, {"lang": "zh"}).content.decode()
    assert "<h1>共有された診断結果</h1>" in ja and "<h1>共享的诊断结果</h1>" in zh
    assert "保存前にパスワード・トークン・鍵・Secret の値を置き換えています" in ja
    assert "保存前已替换其中的密码、令牌、密钥和 Secret 的值" in zh
    assert "A reader shared this troubleshooter result" not in ja + zh


@pytest.mark.parametrize("name", [found.name for found in corpus() if found.text_like])
def test_every_hostile_paste_is_shared_or_refused_clearly(client, search_index, name) -> None:
    """Shared or refused with a clear 4xx, never a 500; the shared page runs no pasted markup."""
    text = case(name).as_text()
    started = time.perf_counter()
    response = share(client, text)
    assert response.status_code in (302, 400, 413), response.status_code
    if response.status_code == 302:
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert dangerous_markup(page.content.decode()) == []
    assert time.perf_counter() - started < 30, "bounded, loosely (bench/ holds real figures)"


def test_a_shared_paste_with_markup_is_shown_as_text(client, articles) -> None:
    location = share(client, XSS_TEXT + "\n" + LOG)["Location"]
    html = client.get(location).content.decode()
    assert dangerous_markup(html) == []
    assert f'data-article="{ENVSUBST_ARTICLE}"' in html


def test_an_answer_the_tree_no_longer_has_falls_back_to_the_diagnosis(client, articles) -> None:
    location = share(client, BUS_ERROR, "hugepages-not-requested")["Location"]
    SharedDiagnosis.objects.update(answer="a-node-since-removed")
    html = client.get(location).content.decode()
    assert 'name="answer" value="hugepages-not-requested"' in html  # the question again


def test_no_share_surface_logs_the_paste(client, articles, caplog) -> None:
    for name in (None, "django", "django.request", "django.security", "kb", "troubleshooter"):
        caplog.set_level(logging.DEBUG, logger=name)
    marker = "PASTED-7d1e-NOT-A-CREDENTIAL"
    text = f"{LOG}note {marker}\n"
    location = share(client, text)["Location"]
    client.get(location)
    share(client, "x" * SHARE_MAX_PASTE_BYTES + marker)
    for _ in range(SHARE_RATE_LIMIT):
        share(client, text)
    SharedDiagnosis.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(location).status_code == 410
    assert client.get(location).status_code == 404
    logged = "".join(record.getMessage() + repr(record.args) for record in caplog.records)
    assert "Gone: /troubleshoot/shared/" in logged  # what is logged: the path, not the paste
    assert marker not in logged and SECRETS["password="] not in logged


def test_no_tree_node_is_hidden_by_the_share_urls() -> None:
    """/troubleshoot/share/ is routed before /troubleshoot/<node>/: no node may take that id."""
    from troubleshooter.diagnosis import get_tree

    assert {"share", "shared"}.isdisjoint(get_tree().nodes)
