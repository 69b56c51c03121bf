"""Real browser: injected script never runs, on any page type.

Hostile documents are imported (script in the title, tags, summary, sources, body, raw HTML,
event handlers, javascript: links) and hostile manifests and logs are pasted. Every payload
would set `window.__pwned` or open a dialog; after each page the flag must still be unset,
no dialog may have opened and the CSP must not have had to block anything (which would mean
injected markup reached the DOM and only the policy saved us).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_corpus import PWNED, XSS_TEXT, case  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched_page(browser_page):
    """The page with a record of every dialog (alert, confirm, prompt) that opened."""
    page = browser_page
    page.dialogs = []

    def on_dialog(dialog) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


def assert_nothing_ran(page) -> None:
    # Give onload/onerror/ontoggle handlers a chance, and hover everything.
    page.mouse.move(5, 5)
    page.mouse.move(400, 300)
    page.wait_for_timeout(100)
    assert page.evaluate(f"typeof window.{PWNED}") == "undefined", page.url
    assert page.dialogs == [], page.url
    blocked = [error for error in page.errors if "Content Security Policy" in error]
    assert blocked == [], page.url


def test_no_injected_script_runs_on_article_and_search_pages(
    live_server, hostile_site, watched_page
):
    page = watched_page
    for path in (
        "/articles/",
        "/articles/hostile-front-matter/",
        "/articles/hostile-markdown-body/",
        "/articles/hostile-plain-scraped/",
        "/search/?q=hostilexss",
        "/search/?q=" + "%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E",
        "/lookup/?error=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    ):
        page.goto(f"{live_server.url}{path}")
        assert_nothing_ran(page)
    # The hostile titles are shown as text.
    page.goto(f"{live_server.url}/articles/hostile-front-matter/")
    assert "<script>" in page.locator("h1").inner_text()
    # Live search swaps snippets of the hostile documents in (app.js, as htmx would).
    page.goto(f"{live_server.url}/")
    page.locator("main textarea[data-search-box]").type("hostilexss script", delay=10)
    page.locator("#results ol.results li a.title").first.wait_for()
    assert_nothing_ran(page)


def test_no_pasted_script_runs_in_the_troubleshooter_or_the_analyzer(
    live_server, search_index, watched_page
):
    page = watched_page
    page.goto(f"{live_server.url}/troubleshoot/")
    page.fill("#paste-text", XSS_TEXT + "\nenvsubst: Argument list too long\n")
    page.click("form.paste-box button[type=submit]")
    page.locator("#diagnosis").get_by_text("envsubst", exact=False).first.wait_for()
    assert_nothing_ran(page)
    # Without JavaScript's help the form posts a full page that echoes the text.
    page.goto(f"{live_server.url}/troubleshoot/?text=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert_nothing_ran(page)

    page.goto(f"{live_server.url}/analyze/")
    manifest = case("html-and-javascript-in-values").data.decode()
    broken = "\n---\na: [<img src=x onerror=alert(2)>\n"
    page.fill("textarea[name=manifest]", manifest + broken)
    page.click("form.analyze-form button[type=submit]")
    page.locator("#results h2").wait_for()
    assert "<script>" in page.locator("#results").inner_text()
    assert_nothing_ran(page)


def test_the_probe_sees_script_that_does_run(watched_page):
    """Control: on a page without our CSP and sanitizer, the same payload is caught."""
    page = watched_page
    page.set_content(f'<img src="data:," onerror="window.{PWNED}=1; alert(1)">')
    page.wait_for_function(f"typeof window.{PWNED} !== 'undefined'")
    assert page.dialogs == ["1"]
