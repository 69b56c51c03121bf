"""Shared analyzer results: stored only on Share, Secrets redacted, expiry, delete key."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from troubleshooter.models import SharedReport
from troubleshooter.share import CannotRedact, redact_secrets
from troubleshooter.views.share import SHARE_RATE_LIMIT

FIXTURES = Path(__file__).parent / "fixtures" / "faces"
SECRET_MANIFEST = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"data":{"password":"aHVudGVyMg=="},"kind":"Secret"}
data:
  password: aHVudGVyMg==   # keep this comment
  cert: |
    -----BEGIN CERTIFICATE-----
    MIIBszCCAVmgAwIBAgIU
stringData: {user: admin, token: "s3cr3t-token"}
---
kind: List
items:
  - kind: Secret
    data:
      nested: bmVzdGVkLXNlY3JldA==
  - kind: ConfigMap
    data:
      visible: plain-config-value
"""
SECRETS = ["aHVudGVyMg==", "MIIBszCCAVmgAwIBAgIU", "admin", "s3cr3t-token", "bmVzdGVkLXNlY3JldA=="]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()  # the share allowance is counted per address in the cache


def test_it_redacts_every_secret_value_and_keeps_the_rest() -> None:
    redacted = redact_secrets(SECRET_MANIFEST)
    for secret in SECRETS:
        assert secret not in redacted.text
    assert redacted.count == 6
    assert "plain-config-value" in redacted.text and "# keep this comment" in redacted.text
    assert 'password: "<redacted>"' in redacted.text
    # Still YAML, same documents.
    assert redact_secrets(redacted.text).text == redacted.text
    json_secret = '{"kind": "Secret", "data": {"a": "Zm9vYmFy"}}'
    assert "Zm9vYmFy" not in redact_secrets(json_secret).text
    with pytest.raises(CannotRedact):
        redact_secrets("kind: Secret\ndata: {a: [unclosed\n")


def share(client: Client, manifest: str):
    return client.post("/analyze/share/", {"manifest": manifest})


def test_nothing_is_stored_until_share_is_pressed(client, db) -> None:
    client.post("/analyze/", {"manifest": SECRET_MANIFEST})
    client.post("/analyze/", {"manifest": SECRET_MANIFEST}, HTTP_HX_REQUEST="true")
    assert not SharedReport.objects.exists()
    html = client.post("/analyze/", {"manifest": SECRET_MANIFEST}).content.decode()
    assert 'formaction="/analyze/share/"' in html


def test_share_stores_the_redacted_manifest_and_shows_it(client, db) -> None:
    response = share(client, SECRET_MANIFEST + (FIXTURES / "aks-pvc.yaml").read_text())
    assert response.status_code == 302
    shared = SharedReport.objects.get()
    assert response["Location"] == f"/analyze/shared/{shared.token}/"
    for secret in SECRETS:
        assert secret not in shared.manifest
    assert shared.expires_at - timezone.now() > timedelta(days=6)
    html = client.get(response["Location"]).content.decode()
    for secret in SECRETS:
        assert secret not in html
    assert "aks-virtual-node-azure-files-pvc" in html and 'class="listing' in html
    assert "noindex" in html
    # The creator sees the delete link; someone else does not.
    assert "/delete/?key=" in html
    other = Client().get(response["Location"]).content.decode()
    assert "/delete/?key=" not in other and "aks-virtual-node-azure-files-pvc" in other


def test_the_delete_key_removes_it_and_nothing_else_does(client, db) -> None:
    location = share(client, SECRET_MANIFEST)["Location"]
    token = location.rstrip("/").rsplit("/", 1)[1]
    html = client.get(location).content.decode()
    key = re.search(r"/delete/\?key=([A-Za-z0-9_-]+)", html).group(1)
    delete = f"/analyze/shared/{token}/delete/"
    assert Client().post(delete, {"key": "wrong"}).status_code == 404
    assert Client().get(delete).status_code == 404
    assert SharedReport.objects.count() == 1
    assert Client().get(f"{delete}?key={key}").status_code == 200  # confirmation page
    assert Client().post(delete, {"key": key}).status_code == 200
    assert not SharedReport.objects.exists()
    assert client.get(location).status_code == 404


def test_an_expired_share_is_gone(client, db) -> None:
    location = share(client, SECRET_MANIFEST)["Location"]
    SharedReport.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(location)
    assert response.status_code == 410
    assert "This shared link has expired" in response.content.decode()
    assert not SharedReport.objects.exists()
    assert client.get(location).status_code == 404  # deleted: nothing is left of it


@pytest.mark.parametrize("token", ["x", "../../etc", "a" * 41, "abc$defghijklmnopq"])
def test_unknown_or_malformed_tokens_are_404(client, db, token) -> None:
    assert client.get(f"/analyze/shared/{token}/").status_code == 404


def test_an_unparsable_or_empty_manifest_is_not_shared(client, db) -> None:
    response = share(client, "kind: Secret\ndata: {a: [unclosed\n")
    assert response.status_code == 400
    assert "cannot be shared" in response.content.decode()
    assert share(client, "   ").status_code == 400
    assert not SharedReport.objects.exists()


def test_share_needs_the_csrf_token(db) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/analyze/share/", {"manifest": SECRET_MANIFEST}
    )
    assert response.status_code == 403
    assert not SharedReport.objects.exists()


def test_sharing_is_rate_limited_per_address(client, db) -> None:
    for _ in range(SHARE_RATE_LIMIT):
        assert share(client, SECRET_MANIFEST).status_code == 302
    response = share(client, SECRET_MANIFEST)
    assert response.status_code == 429
    assert "try again later" in response.content.decode()
    assert SharedReport.objects.count() == SHARE_RATE_LIMIT
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert share(other, SECRET_MANIFEST).status_code == 302
