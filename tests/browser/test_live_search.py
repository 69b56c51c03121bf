"""Live search in a real browser: typing shows results without a page load."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_live_results_while_typing(live_server, search_index, browser_page) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/")
    box = page.locator("input[name=q]")
    assert box.evaluate("el => el === document.activeElement"), "the box has focus"
    box.type("envsubst: Argument list too long", delay=15)
    first = page.locator("#results ol.results li a.title").first
    first.wait_for()
    assert "/articles/nginx-envsubst-argument-list-too-long/" in first.get_attribute("href")
    assert page.url == f"{live_server.url}/", "results came in place, not by navigation"
    assert page.locator("#results mark").count() > 0
    assert page.errors == []


def test_it_focuses_the_box_with_slash(live_server, search_index, browser_page) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/articles/")
    page.goto(f"{live_server.url}/search/")
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.locator("input[name=q]").evaluate("el => el === document.activeElement")
    assert page.errors == []


def test_it_works_without_javascript(live_server, search_index, _browser) -> None:
    context = _browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.fill("input[name=q]", "Too many pods")
    page.click("button[type=submit]")
    page.wait_for_url("**/search/?q=Too+many+pods")
    assert "/articles/kubelet-max-pods/" in page.content()
    context.close()
