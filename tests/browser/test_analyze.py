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


def test_text_pasted_after_choosing_a_file_wins_and_the_file_can_be_cleared(
    live_server, browser_page
):
    page = browser_page
    page.goto(f"{live_server.url}/analyze/")
    clear = page.locator("[data-clear-file]")
    assert clear.is_hidden()
    page.set_input_files("input[type=file]", str(FIXTURES / "aks-pvc.yaml"))
    assert clear.is_visible()
    clear.click()
    assert page.evaluate("document.querySelector('input[type=file]').files.length") == 0
    assert clear.is_hidden()
    # A file chosen first, then text pasted: the text is analysed, not the file.
    page.set_input_files("input[type=file]", str(FIXTURES / "aks-pvc.yaml"))
    page.fill("textarea[name=manifest]", (FIXTURES / "clean.yaml").read_text())
    assert page.evaluate("document.querySelector('input[type=file]').files.length") == 0
    page.click("form.analyze-form button[type=submit]")
    page.locator("#results .no-findings").wait_for()
    assert "aks-pvc.yaml" not in page.locator("#results").inner_text()
    assert page.errors == []


def test_an_empty_submit_in_development_mode_keeps_the_styled_page(
    live_server, browser_page, settings
):
    settings.DEBUG = True
    page = browser_page
    page.goto(f"{live_server.url}/analyze/")
    page.click("form.analyze-form button[type=submit]")
    alert = page.locator("#results [role=alert]")
    alert.wait_for()
    assert "Paste a manifest or choose a file" in alert.inner_text()
    # The page around it is still there, styled.
    assert page.locator("header.site-header").is_visible()
    assert page.locator("form.analyze-form").count() == 1
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    assert [error for error in page.errors if "400" not in error] == []


def test_the_report_scrolls_into_view_filters_folds_and_jumps(live_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/analyze/?example=1")
    page.click("form.analyze-form button[type=submit]")
    heading = page.locator("#results-heading")
    heading.wait_for()
    page.wait_for_function(
        "() => Math.abs(document.querySelector('#results').getBoundingClientRect().top) < 40"
    )
    assert heading.evaluate("el => el === document.activeElement")
    # Grouped by object, worst first.
    first_group = page.locator(".finding-group").first
    assert first_group.get_attribute("data-sev") == "error"
    # Severity filter: hiding warnings hides them in the groups and in the listing.
    warnings = page.locator(".listing .pinned[data-sev='warning']")
    assert warnings.count() > 0 and warnings.first.is_visible()
    page.locator("[data-severity-filter][value='warning']").uncheck()
    assert warnings.first.is_hidden()
    assert page.locator(".finding-group li[data-sev='warning']").first.is_hidden()
    page.locator("[data-severity-filter][value='warning']").check()
    # Compact mode: only the lines with something pinned under them.
    total = page.locator(".listing .line").count()
    page.locator("[data-compact-toggle]").check()
    shown = page.evaluate(
        "() => [...document.querySelectorAll('.listing .line')].filter(l => l.offsetParent).length"
    )
    assert 0 < shown < total
    assert shown == page.locator(".listing .line[data-pinned]").count()
    # "Next finding" walks the pinned findings in order.
    page.locator("[data-next-finding]").click()
    current = page.locator(".listing .pinned.current")
    first_line = current.get_attribute("data-line")
    page.locator("[data-next-finding]").click()
    assert page.locator(".listing .pinned.current").get_attribute("data-line") != first_line
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert page.errors == []


def test_it_downloads_the_sarif_and_json_reports_from_the_page(live_server, browser_page):
    import json

    page = browser_page
    page.goto(f"{live_server.url}/analyze/")
    page.fill("textarea[name=manifest]", (FIXTURES / "aks-pvc.yaml").read_text())
    page.click("form.analyze-form button[type=submit]")
    page.locator("#results-heading").wait_for()
    page.evaluate("window.sameDocument = true")
    for label, name in (("Download SARIF", "manifest.sarif"), ("Download JSON", "manifest.json")):
        with page.expect_download() as info:
            page.get_by_role("button", name=label).click()
        download = info.value
        assert download.suggested_filename == name
        report = json.loads(Path(download.path()).read_text())
        assert AKS_CHECK in json.dumps(report)
    assert page.evaluate("window.sameDocument") is True
    assert page.errors == []


def test_it_downloads_the_report_without_javascript(live_server, _browser):
    context = _browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/analyze/")
    page.fill("textarea[name=manifest]", (FIXTURES / "aks-pvc.yaml").read_text())
    page.click("form.analyze-form button[type=submit]")
    page.wait_for_load_state()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download SARIF").click()
    assert info.value.suggested_filename == "manifest.sarif"
    context.close()


def test_share_posts_the_manifest_and_opens_the_shared_page(live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/analyze/")
    secret = "kind: Secret\nmetadata:\n  name: s\ndata:\n  token: c2VjcmV0LXZhbHVl\n---\n"
    page.fill("textarea[name=manifest]", secret + (FIXTURES / "aks-pvc.yaml").read_text())
    page.click("form.analyze-form button[type=submit]")
    page.locator("#results-heading").wait_for()
    page.get_by_role("button", name="Share these results").click()
    page.wait_for_url("**/analyze/shared/*/")
    assert "c2VjcmV0LXZhbHVl" not in page.content()
    assert page.locator(f'.pinned.finding[data-check="{AKS_CHECK}"]').count() == 1
    assert page.locator(".share-delete a").count() == 1
    assert page.errors == []
