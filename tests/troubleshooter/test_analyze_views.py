"""The /analyze/ page and the /checks/ documentation, through Django's test client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from troubleshooter.analyzer import analyze_manifest, registry

FIXTURES = Path(__file__).parent / "fixtures" / "faces"
AKS_CHECK = "aks-virtual-node-azure-files-pvc"
URL = reverse("troubleshooter:analyze")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def around_line(html: str, number: int) -> str:
    """The HTML from line `number`'s element up to the next line's element."""
    start = html.index(f'id="L{number}"')
    end = html.find(f'id="L{number + 1}"', start)
    return html[start : end if end != -1 else len(html)]


def post(client, data: dict, *, htmx: bool = False):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(URL, data, **headers)


# --- The page -----------------------------------------------------------------------------------


def test_it_shows_the_form_and_the_documented_limit(client):
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert 'name="manifest"' in html
    assert 'type="file"' in html and 'name="file"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'hx-encoding="multipart/form-data"' in html
    assert 'hx-target="#results"' in html
    assert "up to 2 MB / 5\u202f000 objects" in html


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "Paste one or more YAML"), ("ja", "YAML または JSON"), ("zh", "YAML 或 JSON")],
)
def test_the_paste_box_invites_in_the_readers_language(client, lang, words):
    html = client.get(URL, {"lang": lang}).content.decode()
    placeholder = re.search(r'<textarea name="manifest"[^>]*placeholder="([^"]*)"', html).group(1)
    assert words in placeholder


def test_it_pins_a_finding_under_its_line_on_a_full_page(client):
    response = post(client, {"manifest": fixture("aks-pvc.yaml")})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    # The claim is on line 30 of the fixture; the finding sits right under it.
    pinned = around_line(html, 30)
    assert 'class="pinned finding sev-error"' in pinned
    assert f'href="/checks/{AKS_CHECK}/"' in pinned
    assert "Deployment/report-burst in reports" in pinned
    assert "cannot mount PersistentVolumeClaims" in pinned
    assert 'data-copy="fix-1"' in pinned and '<pre id="fix-1"' in pinned
    assert "driver: file.csi.azure.com" in pinned
    assert f'href="/articles/{AKS_CHECK}/#fix"' in pinned
    # ...and not under the line above it.
    assert "pinned" not in around_line(html, 29)


def test_it_answers_htmx_with_the_results_fragment_only(client):
    response = post(client, {"manifest": fixture("aks-pvc.yaml")}, htmx=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert 'class="pinned finding sev-error"' in around_line(html, 30)
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_it_lists_findings_above_the_listing_with_links_to_lines(client):
    html = post(client, {"manifest": fixture("aks-pvc.yaml")}).content.decode()
    listing_start = html.index('class="listing')
    summary = html[:listing_start]
    assert '<a href="#L30">line 30</a>' in summary
    assert re.search(r'class="count sev-error">1 error<', summary)
    assert re.search(r'class="count suppressed">0 suppressed<', summary)


def test_it_highlights_the_manifest_with_pygments_classes(client):
    html = post(client, {"manifest": fixture("aks-pvc.yaml")}).content.decode()
    line_two = around_line(html, 2)
    # "apiVersion" is a YAML key: Pygments' Name.Tag class is "nt".
    assert '<span class="nt">apiVersion</span>' in line_two
    line_one = around_line(html, 1)
    assert 'class="c1"' in line_one  # the leading comment
    assert 'class="listing codehilite"' in html


def test_it_numbers_every_line(client):
    text = fixture("aks-pvc.yaml")
    html = post(client, {"manifest": text}).content.decode()
    count = len(text.rstrip("\n").split("\n"))
    assert html.count('class="line" id="L') == count
    assert f'id="L{count + 1}"' not in html


def test_it_says_no_findings_for_a_clean_manifest(client):
    for htmx in (False, True):
        response = post(client, {"manifest": fixture("clean.yaml")}, htmx=htmx)
        html = response.content.decode()
        assert response.status_code == 200
        assert "No findings" in html
        assert 'class="pinned' not in html
        assert ("<html" in html) is not htmx


def test_it_analyzes_an_uploaded_file(client):
    upload = SimpleUploadedFile("burst.yaml", fixture("aks-pvc.yaml").encode(), "text/yaml")
    response = client.post(URL, {"file": upload, "manifest": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<code>burst.yaml</code>" in html
    assert "cannot mount PersistentVolumeClaims" in around_line(html, 30)


def test_it_analyzes_an_uploaded_file_through_htmx(client):
    upload = SimpleUploadedFile("burst.yaml", fixture("aks-pvc.yaml").encode(), "text/yaml")
    response = client.post(URL, {"file": upload}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "cannot mount PersistentVolumeClaims" in around_line(html, 30)


def test_it_prefers_the_uploaded_file_over_the_text_box(client):
    upload = SimpleUploadedFile("clean.yaml", fixture("clean.yaml").encode())
    response = client.post(URL, {"file": upload, "manifest": fixture("aks-pvc.yaml")})
    html = response.content.decode()
    assert "No findings" in html
    assert "report-burst" not in html.split('id="results"', 1)[1]


def test_it_refuses_an_oversized_paste_with_413_and_a_message(client, settings):
    settings.KB_MAX_MANIFEST_BYTES = 1_024
    text = fixture("aks-pvc.yaml") + "#" * 2_000 + "\n"
    response = post(client, {"manifest": text})
    html = response.content.decode()
    assert response.status_code == 413
    assert "<html" in html
    assert "the limit is 1,024 bytes" in html
    assert 'role="alert"' in html


def test_it_refuses_an_oversized_upload_with_413_in_the_fragment(client, settings):
    settings.KB_MAX_MANIFEST_BYTES = 1_024
    upload = SimpleUploadedFile("big.yaml", b"# padding\n" * 200)
    response = client.post(URL, {"file": upload}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 413
    assert "<html" not in html
    assert "the limit is 1,024 bytes" in html


def test_it_asks_for_input_when_nothing_was_sent(client):
    for htmx in (False, True):
        response = post(client, {"manifest": "  \n"}, htmx=htmx)
        assert response.status_code == 400
        assert "Paste a manifest or choose a file" in response.content.decode()


def test_it_refuses_a_binary_upload_with_a_message(client):
    upload = SimpleUploadedFile("binary.yaml", (FIXTURES / "binary.yaml").read_bytes())
    response = client.post(URL, {"file": upload})
    assert response.status_code == 400
    assert "NUL bytes" in response.content.decode()


def test_it_shows_a_parse_error_with_its_line_and_column(client):
    for htmx in (False, True):
        response = post(client, {"manifest": fixture("malformed.yaml")}, htmx=htmx)
        html = response.content.decode()
        assert response.status_code == 200
        pinned = around_line(html, 7)
        assert "parse error" in pinned
        assert "line 7, column 8" in pinned
        assert "did not find expected" in pinned
        assert "No findings" not in html


def test_it_escapes_html_and_javascript_from_the_manifest(client):
    html = post(client, {"manifest": fixture("hostile.yaml")}).content.decode()
    for raw in (
        "<script>alert('name')</script>",
        "<img src=x onerror",
        "<svg onload",
        "<iframe src=javascript",
        "</code><b>bold</b>",
    ):
        assert raw not in html
    assert "&lt;script&gt;" in html
    assert "&lt;svg onload=alert(2)&gt;" in html  # in the message and the fix
    assert "&lt;/code&gt;&lt;b&gt;bold&lt;/b&gt;" in html  # in the listing
    assert html.count("<script") == html.count("<script src=")


def test_it_greys_suppressed_findings_with_their_reason(client):
    html = post(client, {"manifest": fixture("suppressed.yaml")}).content.decode()
    pinned = around_line(html, 23)
    assert 'class="pinned finding sev-error suppressed"' in pinned
    assert "Suppressed: claim is replaced by an init job before rollout" in pinned
    assert re.search(r'class="count suppressed">1 suppressed<', html)
    assert re.search(r'class="count sev-error">0 errors<', html)


def test_it_keeps_the_pasted_text_in_the_form_after_a_plain_post(client):
    html = post(client, {"manifest": fixture("aks-pvc.yaml")}).content.decode()
    assert re.search(r"claimName: report-output\s*</textarea>", html)


def test_it_does_not_let_the_page_be_cached(client):
    response = post(client, {"manifest": fixture("aks-pvc.yaml")})
    assert "no-store" in response["Cache-Control"]


def test_it_refuses_other_methods(client):
    assert client.put(URL).status_code == 405


# --- The check documentation ---------------------------------------------------------------------


def test_it_lists_every_registered_check(client):
    response = client.get(reverse("troubleshooter:check_list"))
    html = response.content.decode()
    assert response.status_code == 200
    for module in registry.all_checks():
        assert f'href="/checks/{module.ID}/"' in html
        assert module.TITLE.replace("'", "&#x27;") in html


@pytest.mark.parametrize("module", registry.all_checks(), ids=lambda module: module.ID)
def test_it_documents_each_check(client, module):
    response = client.get(reverse("troubleshooter:check_detail", args=[module.ID]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<code>{module.ID}</code>" in html
    assert f"sev-{module.SEVERITY}" in html
    # The docstring, rendered: its first sentence appears as text.
    first_words = " ".join(module.__doc__.split()[:3]).replace("`", "").replace("*", "")
    assert first_words in re.sub(r"<[^>]+>", "", html)
    # Both examples, highlighted as YAML.
    assert html.count('class="codehilite"') >= 2
    assert '<span class="nt">apiVersion</span>' in html
    # The findings the failing example produces, with their lines.
    expected = [
        finding
        for finding in analyze_manifest(text=module.FAILING_EXAMPLE).findings
        if finding.check == module.ID
    ]
    assert expected, "a failing example must fail"
    for finding in expected:
        assert f"line {finding.line}, column {finding.column}" in html
    assert f'href="/articles/{module.ARTICLE}/"' in html
    assert f"kb-ignore: {module.ID} &lt;reason&gt;" in html
    assert f'kb.troubleshooter/ignore: "{module.ID}: &lt;reason&gt;"' in html


@pytest.mark.parametrize(
    "check_id", ["no-such-check", "Bad_Id", "a" * 101, "..%2F..%2Fsettings", "-leading"]
)
def test_it_answers_404_for_unknown_or_malformed_check_ids(client, check_id):
    response = client.get(f"/checks/{check_id}/")
    assert response.status_code == 404


def many_deployments(count: int) -> str:
    """`count` copies of the AKS fixture as separate documents, each with its own name."""
    document = fixture("aks-pvc.yaml")
    return "---\n".join(document.replace("report-burst", f"burst-{n}") for n in range(count))


def test_it_shows_only_the_lines_around_findings_for_a_long_manifest(client):
    text = many_deployments(110)  # 31 lines a document: over 3 000 lines
    total = text.count("\n")
    assert total > 3_000
    html = post(client, {"manifest": text}).content.decode()
    assert f"too large to show whole ({total} lines)" in html
    assert html.count('class="line" id="L') < total // 2
    assert "lines not shown" in html
    # Every finding is still pinned under its own line, and linked from the list.
    claim_lines = [
        n for n, line in enumerate(text.split("\n"), 1) if "persistentVolumeClaim" in line
    ]
    assert len(claim_lines) == 110
    for number in (claim_lines[0], claim_lines[-1]):
        assert "pinned finding" in around_line(html, number)
        assert f'<a href="#L{number}">line {number}</a>' in html
    # Lines far from any finding are left out.
    assert 'id="L10"' not in html


def test_it_caps_the_listing_and_lists_the_rest_without_links(client, monkeypatch):
    from troubleshooter import listing

    monkeypatch.setattr(listing, "MAX_LISTING_LINES", 10)
    text = many_deployments(2)
    first, second = [n for n, line in enumerate(text.split("\n"), 1) if "persistentVolume" in line]
    html = post(client, {"manifest": text}).content.decode()
    assert html.count('class="line" id="L') == 7  # three lines either side of the first claim
    assert "pinned finding" in around_line(html, first)
    assert f'id="L{second}"' not in html
    assert f"line {second}" in html and f'href="#L{second}"' not in html


def test_it_cuts_very_long_lines_on_screen_but_analyzes_them_whole(client):
    value = "x" * 4_000 + "END-OF-VALUE"
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: long\ndata:\n  big: {value}\n"
    response = post(client, {"manifest": text}, htmx=True)
    html = response.content.decode()
    assert response.status_code == 200
    line_six = around_line(html, 6)
    assert "END-OF-VALUE" not in line_six
    cut = len(f"  big: {value}") - 1_000
    assert f"{cut} more characters not shown" in line_six
    assert "1 object" in html


# --- Reading the report: order, grouping, messages, parse errors, downloads -------------------


def test_it_never_points_a_parse_error_past_the_last_line(client):
    # The YAML parser reports the end of a two-line file as line 3.
    for htmx in (False, True):
        html = post(client, {"manifest": "a: b\nc: [1, 2"}, htmx=htmx).content.decode()
        assert 'href="#L3"' not in html and 'id="L3"' not in html
        assert 'href="#L2"' in html
        assert "end of file (line 2)" in html
        assert "parse error" in around_line(html, 2)


def test_it_groups_findings_by_object_worst_first_and_shows_a_fix_once(client):
    text = registry.get("nfs-efs-mount-options").FAILING_EXAMPLE
    report = analyze_manifest(text=text)
    shared = [f for f in report.findings if f.object.name == "shared-data"]
    assert len(shared) >= 2 and any(f.severity == "error" for f in shared)
    html = post(client, {"manifest": text}).content.decode()
    groups = html[html.index('class="finding-groups"') : html.index('class="listing')]
    group = groups[groups.index("PersistentVolume/shared-data") :]
    group = group[: group.find("</section>")]
    # Inside the object's group the error comes before the warnings, whatever the lines.
    severities = re.findall(r'<li class="sev-(\w+)', group)
    assert severities[0] == "error" and severities == sorted(
        severities, key={"error": 0, "warning": 1, "info": 2}.get
    )
    # Two findings about the same object with the same fix: one block, then a link to it.
    fixes = [f.fix.strip() for f in shared]
    repeated = len(fixes) - len(set(fixes))
    assert repeated >= 1
    assert html.count("Fix: the same as for") == repeated


def test_it_renders_backticks_as_code_and_does_not_repeat_the_object_name(client):
    text = registry.get("nfs-efs-mount-options").FAILING_EXAMPLE
    html = post(client, {"manifest": text}).content.decode()
    messages = re.findall(r'<span class="message" lang="en">(.*?)</span>', html, re.S)
    assert messages
    assert not any("`" in message for message in messages)
    assert any("<code>soft</code>" in message for message in messages)
    assert not any(message.startswith("PersistentVolume shared-data") for message in messages)


def test_it_never_echoes_a_refused_manifest(client, settings):
    settings.KB_MAX_MANIFEST_BYTES = 1_024
    text = "# refused-marker\n" * 200
    response = post(client, {"manifest": text})
    html = response.content.decode()
    assert response.status_code == 413
    assert "the limit is 1,024 bytes" in html
    assert "refused-marker" not in html


def test_it_loads_an_example_with_findings(client):
    html = client.get(URL, {"example": "1"}).content.decode()
    text = re.search(r"<textarea name=\"manifest\"[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert "kind:" in text
    from html import unescape

    report = analyze_manifest(text=unescape(text))
    severities = {finding.severity for finding in report.findings}
    assert {"error", "warning", "info"} <= severities
    assert not report.errors


def test_it_offers_the_report_as_json_and_sarif_downloads(client):
    html = post(client, {"manifest": fixture("aks-pvc.yaml")}).content.decode()
    assert 'formaction="/api/analyze/?format=sarif&amp;download=1"' in html
    assert 'formaction="/api/analyze/?format=json&amp;download=1"' in html
    # What those buttons post: the same form fields, answered as an attachment.
    response = client.post(
        "/api/analyze/?format=sarif&download=1", {"manifest": fixture("aks-pvc.yaml")}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="manifest.sarif"'
    assert response.json()["version"] == "2.1.0"
    upload = SimpleUploadedFile("deploy.yaml", fixture("aks-pvc.yaml").encode())
    response = client.post("/api/analyze/?download=1", {"file": upload})
    assert response["Content-Disposition"] == 'attachment; filename="deploy.json"'
    assert "Content-Disposition" not in client.post(
        "/api/analyze/", {"manifest": fixture("aks-pvc.yaml")}
    )
