"""POST /api/analyze/: JSON and SARIF answers through Django's test client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from troubleshooter.analyzer import registry

FIXTURES = Path(__file__).parent / "fixtures" / "faces"
AKS_CHECK = "aks-virtual-node-azure-files-pvc"
URL = reverse("troubleshooter:api_analyze")
FINDING_KEYS = {
    "check",
    "severity",
    "article",
    "object",
    "line",
    "column",
    "message",
    "fix",
    "suppressed",
    "suppression_reason",
}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def post_raw(client, body: str | bytes, *, query: str = "", content_type="application/yaml"):
    return client.generic("POST", URL + query, body, content_type=content_type)


def assert_aks_finding(payload: dict) -> None:
    assert set(payload) == {"objects", "findings", "errors"}
    assert payload["objects"] == 1
    assert payload["errors"] == []
    [finding] = payload["findings"]
    assert set(finding) == FINDING_KEYS
    assert finding["check"] == AKS_CHECK
    assert finding["severity"] == "error"
    assert finding["article"] == AKS_CHECK
    assert finding["object"] == {
        "kind": "Deployment",
        "namespace": "reports",
        "name": "report-burst",
    }
    assert (finding["line"], finding["column"]) == (30, 11)
    assert finding["suppressed"] is False
    assert "file.csi.azure.com" in finding["fix"]


def test_it_analyzes_a_raw_body(client):
    response = post_raw(client, fixture("aks-pvc.yaml"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert_aks_finding(response.json())


def test_it_analyzes_a_raw_body_of_any_non_form_content_type(client):
    for content_type in ("text/plain", "application/json", "application/octet-stream"):
        response = post_raw(client, fixture("aks-pvc.yaml"), content_type=content_type)
        assert response.status_code == 200, content_type
        assert_aks_finding(response.json())


def test_it_analyzes_the_manifest_form_field(client):
    response = client.post(URL, {"manifest": fixture("aks-pvc.yaml")})
    assert response.status_code == 200
    assert_aks_finding(response.json())


def test_it_analyzes_an_uploaded_file(client):
    upload = SimpleUploadedFile("burst.yaml", fixture("aks-pvc.yaml").encode())
    response = client.post(URL, {"file": upload})
    assert response.status_code == 200
    assert_aks_finding(response.json())


def test_it_needs_no_csrf_token(client):
    strict = type(client)(enforce_csrf_checks=True)
    response = strict.generic("POST", URL, fixture("clean.yaml"), content_type="text/yaml")
    assert response.status_code == 200
    assert response.json() == {"objects": 1, "findings": [], "errors": []}


def test_it_reports_parse_errors_with_positions(client):
    response = post_raw(client, fixture("malformed.yaml"))
    assert response.status_code == 200
    payload = response.json()
    assert payload["findings"] == []
    [error] = payload["errors"]
    assert (error["line"], error["column"]) == (7, 8)
    assert "did not find expected" in error["message"]


def test_it_reports_suppressed_findings_with_their_reason(client):
    payload = post_raw(client, fixture("suppressed.yaml")).json()
    [finding] = payload["findings"]
    assert finding["suppressed"] is True
    assert finding["suppression_reason"] == "claim is replaced by an init job before rollout"


def test_it_answers_sarif(client):
    response = post_raw(client, fixture("aks-pvc.yaml"), query="?format=sarif")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/sarif+json"
    log = json.loads(response.content)
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert {rule["id"] for rule in rules} == {module.ID for module in registry.all_checks()}
    for rule in rules:
        assert rule["helpUri"] == f"http://testserver/checks/{rule['id']}/"
    [result] = run["results"]
    assert result["ruleId"] == AKS_CHECK
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["region"]["startLine"] == 30
    assert location["region"]["startColumn"] == 11
    assert location["artifactLocation"]["uri"] == "manifest.yaml"


def test_it_names_the_uploaded_file_in_sarif(client):
    upload = SimpleUploadedFile("deploy/burst.yaml", fixture("aks-pvc.yaml").encode())
    response = client.post(URL + "?format=sarif", {"file": upload})
    run = json.loads(response.content)["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "burst.yaml"


def test_it_marks_suppressed_results_in_sarif(client):
    response = post_raw(client, fixture("suppressed.yaml"), query="?format=sarif")
    [result] = json.loads(response.content)["runs"][0]["results"]
    assert result["suppressions"][0]["justification"].startswith("claim is replaced")


def test_it_turns_checks_off_with_disable(client):
    other = next(module.ID for module in registry.all_checks() if module.ID != AKS_CHECK)
    response = post_raw(client, fixture("aks-pvc.yaml"), query=f"?disable={other},{AKS_CHECK}")
    assert response.status_code == 200
    assert response.json() == {"objects": 1, "findings": [], "errors": []}
    # Disabling another check leaves this one running.
    response = post_raw(client, fixture("aks-pvc.yaml"), query=f"?disable={other}")
    assert [f["check"] for f in response.json()["findings"]] == [AKS_CHECK]


def test_it_refuses_an_unknown_check_id_in_disable(client):
    response = post_raw(client, fixture("aks-pvc.yaml"), query="?disable=no-such-check")
    assert response.status_code == 400
    assert "no-such-check" in response.json()["error"]


def test_it_refuses_an_unknown_format(client):
    response = post_raw(client, fixture("aks-pvc.yaml"), query="?format=xml")
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("body", ["", "   \n\n"])
def test_it_refuses_an_empty_body(client, body):
    response = post_raw(client, body)
    assert response.status_code == 400
    assert "empty" in response.json()["error"]


def test_it_refuses_an_empty_form(client):
    response = client.post(URL, {"manifest": ""})
    assert response.status_code == 400
    assert "error" in response.json()


def test_it_refuses_an_oversized_body_with_413(client, settings):
    settings.KB_MAX_MANIFEST_BYTES = 1_024
    response = post_raw(client, "# padding\n" * 200)
    assert response.status_code == 413
    payload = response.json()
    assert payload["limit"] == 1_024
    assert "the limit is 1,024 bytes" in payload["error"]


def test_it_refuses_an_oversized_upload_with_413(client, settings):
    settings.KB_MAX_MANIFEST_BYTES = 1_024
    upload = SimpleUploadedFile("big.yaml", b"# padding\n" * 200)
    response = client.post(URL, {"file": upload})
    assert response.status_code == 413
    assert "the limit is 1,024 bytes" in response.json()["error"]


def test_it_refuses_a_binary_body_with_400(client):
    response = post_raw(client, (FIXTURES / "binary.yaml").read_bytes())
    assert response.status_code == 400
    assert "NUL bytes" in response.json()["error"]


def test_it_answers_get_with_405_json(client):
    response = client.get(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "POST" in response.json()["error"]


def test_it_takes_raw_yaml_labelled_as_urlencoded_as_the_body(client):
    # What `curl --data-binary @burst.yaml URL` sends.
    response = post_raw(
        client, fixture("aks-pvc.yaml"), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert_aks_finding(response.json())
