"""Real browser: diagnose a pasted log, press Share, open the link elsewhere, see the same cause."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "s3cr3t-db-pass"
LOG = f"""2026-11-30T10:00:00Z starting nginx with DB_PASSWORD={PASSWORD}
/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long
"""
ARTICLE = "nginx-envsubst-argument-list-too-long"


def test_it_shares_a_diagnosis_and_the_link_shows_the_same_cause(
    live_server, browser_page, _browser, articles
):
    page = browser_page
    page.goto(f"{live_server.url}/troubleshoot/")
    page.fill("#paste-text", LOG)
    page.click("form.paste-box button[type=submit]")
    card = page.locator("#diagnosis .cause-card").first
    card.wait_for()
    cause = card.get_attribute("data-article")
    assert cause == ARTICLE
    # No question was answered: Share straight from the diagnosis htmx put in place.
    page.get_by_role("button", name="Share this result").click()
    page.wait_for_url("**/troubleshoot/shared/*/")
    link = page.input_value("#share-url")
    assert link == page.url
    assert PASSWORD not in page.content()
    assert page.locator(".share-delete a").count() == 1  # the creator may delete it
    copy = page.locator(".share-info button[data-copy-url]")
    copy.click()
    page.wait_for_function("button => button.textContent === 'Copied'", arg=copy.element_handle())

    # The link in a new page of the same browser, then in someone else's.
    again = page.context.new_page()
    again.goto(link)
    assert again.locator(".cause-card").first.get_attribute("data-article") == cause
    assert "DB_PASSWORD=<redacted>" in again.locator(".shared-paste pre").inner_text()
    again.close()
    other = _browser.new_context()
    try:
        theirs = other.new_page()
        theirs.goto(link)
        assert theirs.locator(".cause-card").first.get_attribute("data-article") == cause
        assert theirs.locator(".share-delete a").count() == 0
        paste = theirs.locator(".shared-paste").inner_text()
        assert "26: envsubst: Argument list too long" in paste
    finally:
        other.close()
    assert page.errors == []


@pytest.mark.parametrize(("width", "scheme"), [(390, "light"), (1366, "dark")])
def test_the_shared_pages_fit_the_screen_and_pass_axe(
    live_server, _browser, articles, width, scheme
):
    from test_pages import run_axe  # tests/browser is on sys.path: it holds that module

    context = _browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/troubleshoot/")
        page.fill("#paste-text", LOG + "x" * 400 + "\n")  # one long line must not widen the page
        page.click("form.paste-box button[type=submit]")
        page.get_by_role("button", name="Share this result").click()
        page.wait_for_url("**/troubleshoot/shared/*/")
        delete_url = page.locator(".share-delete a").get_attribute("href")
        found = {}
        for name, url in (("shared", page.url), ("confirm-delete", delete_url)):
            page.goto(url)
            assert page.evaluate("document.scrollingElement.scrollWidth") <= width, name
            if violations := run_axe(page):
                found[name] = violations
        assert found == {}
    finally:
        context.close()
