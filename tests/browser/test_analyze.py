"""The analyzer page in a real browser: paste, submit through htmx, read, copy the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "troubleshooter" / "fixtures" / "faces"
AKS_CHECK = "aks-virtual-node-azure-files-pvc"

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_it_shows_a_pasted_finding_under_its_line_and_copies_the_fix(live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/analyze/")
    page.evaluate("window.sameDocument = true")
    page.fill("textarea[name=manifest]", (FIXTURES / "aks-pvc.yaml").read_text())
    page.click("form.analyze-form button[type=submit]")

    finding = page.locator(f'#results .pinned.finding[data-check="{AKS_CHECK}"]')
    finding.wait_for()
    # The results came through htmx: the document was not replaced.
    assert page.evaluate("window.sameDocument") is True
    assert "claimName: report-output" in page.input_value("textarea[name=manifest]")
    # The finding is the element right after line 30, the claim.
    previous_id = finding.evaluate("element => element.previousElementSibling.id")
    assert previous_id == "L30"
    assert "persistentVolumeClaim" in page.locator("#L30").inner_text()
    assert "cannot mount PersistentVolumeClaims" in finding.inner_text()

    button = finding.locator("button.copy")
    button.click()
    page.wait_for_function("button => button.textContent === 'Copied'", arg=button.element_handle())
    assert page.errors == []


def test_it_follows_a_finding_link_to_its_line(live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/analyze/")
    page.fill("textarea[name=manifest]", (FIXTURES / "aks-pvc.yaml").read_text())
    page.click("form.analyze-form button[type=submit]")
    page.locator(".finding-list a[href='#L30']").click()
    page.wait_for_url("**#L30")
    assert page.locator("#L30:target").count() == 1
    assert page.errors == []


def test_it_shows_the_size_message_in_the_results_through_htmx(live_server, browser_page, settings):
    settings.KB_MAX_MANIFEST_BYTES = 1_024
    page = browser_page
    page.goto(f"{live_server.url}/analyze/")
    page.fill("textarea[name=manifest]", "# padding\n" * 200)
    page.click("form.analyze-form button[type=submit]")
    alert = page.locator("#results [role=alert]")
    alert.wait_for()
    assert "the limit is 1,024 bytes" in alert.inner_text()
    # htmx logs a failed (4xx) request to the console as an error; nothing else may appear.
    assert [error for error in page.errors if "413" not in error] == []


def test_it_reads_a_dropped_file_into_the_text_box(live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/analyze/")
    text = (FIXTURES / "clean.yaml").read_text()
    transfer = page.evaluate_handle(
        """text => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "clean.yaml", {type: "text/yaml"}));
            return transfer;
        }""",
        text,
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": transfer})
    page.wait_for_function(
        "() => document.querySelector('textarea[name=manifest]').value.includes('plain-web')"
    )
    assert "Read clean.yaml" in page.inner_text("[data-drop-message]")
    page.click("form.analyze-form button[type=submit]")
    page.locator("#results .no-findings").wait_for()
    assert page.errors == []


def test_it_works_without_javascript(live_server, _browser):
    context = _browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/analyze/")
        page.fill("textarea[name=manifest]", (FIXTURES / "aks-pvc.yaml").read_text())
        page.click("form.analyze-form button[type=submit]")
        page.wait_for_load_state()
        finding = page.locator(f'.pinned.finding[data-check="{AKS_CHECK}"]')
        assert finding.count() == 1
        assert finding.evaluate("element => element.previousElementSibling.id") == "L30"
    finally:
        context.close()


def test_it_shows_the_middleware_size_refusal_as_text_through_htmx(
    live_server, browser_page, settings
):
    # Bodies over KB_MAX_REQUEST_BYTES are refused before the view runs, with a whole page.
    settings.KB_MAX_REQUEST_BYTES = 2_048
    page = browser_page
    page.goto(f"{live_server.url}/analyze/")
    page.fill("textarea[name=manifest]", "# padding\n" * 500)
    page.click("form.analyze-form button[type=submit]")
    alert = page.locator("#results [role=alert]")
    alert.wait_for()
    assert "larger than the limit of 2,048 bytes" in alert.inner_text()
    # The error page's own layout was not pasted into the results region.
    assert page.locator("#results header, #results footer, #results form").count() == 0
    assert page.locator("form.analyze-form").count() == 1
