"""Search in a real browser: live results, the URL that follows, the keyboard, a pasted log."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENVSUBST = "/articles/nginx-envsubst-argument-list-too-long/"
ENVSUBST_ERROR = (
    "/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long"
)


def noisy_log(size: int = 27_000) -> str:
    """A crash log as people paste it: mostly unrelated lines, the error on the last one."""
    lines = []
    number = 0
    while sum(len(line) + 1 for line in lines) < size:
        number += 1
        lines.append(
            f"2026-11-30T10:{number % 60:02d}:00Z pod/web-{number} image pulled, may go to node "
            f"pool-{number % 7} after the app registry answered; probe ok #{number}"
        )
    lines.append(ENVSUBST_ERROR)
    return "\n".join(lines)


def query_of(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("q", [""])[0]


def test_it_shows_live_results_while_typing_and_the_url_follows(
    live_server, search_index, browser_page
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/")
    page.evaluate("window.sameDocument = true")
    home_title = page.title()
    box = page.locator("main textarea[data-search-box]")
    assert box.evaluate("el => el === document.activeElement"), "the box has focus"
    box.type("envsubst: Argument list too long", delay=15)
    first = page.locator("#results ol.results li a.title").first
    first.wait_for()
    assert ENVSUBST in first.get_attribute("href")
    assert page.locator("#results mark").count() > 0
    count = page.locator("#results .result-count").inner_text()
    assert count.split()[0] == str(page.locator("#results ol.results li").count())
    # The address is a shareable search URL, and Back returns to the empty page.
    page.wait_for_function("() => location.search.includes('q=')")
    assert urlsplit(page.url).path == "/search/"
    assert query_of(page.url) == "envsubst: Argument list too long"
    assert page.evaluate("window.sameDocument") is True, "results came in place"
    # The tab names the search, as the loaded search page does.
    page.wait_for_function("() => document.title.startsWith('envsubst: Argument list too long')")
    live_title = page.title()
    page.go_back()
    page.wait_for_function("() => location.pathname === '/' && !location.search")
    assert page.evaluate("window.sameDocument") is True
    assert box.input_value() == ""
    assert page.locator("#results ol.results").count() == 0
    assert page.title() == home_title
    # Loading the shared address shows the same results, under the same title.
    page.goto(f"{live_server.url}/search/?q=envsubst%3A+Argument+list+too+long")
    assert ENVSUBST in page.locator("#results a.title").first.get_attribute("href")
    assert page.title() == live_title
    # Emptied there, the box leaves the search page's own title, not the query's.
    page.locator("main textarea[data-search-box]").fill("")
    page.wait_for_function("() => !location.search")
    empty_title = page.title()
    page.goto(f"{live_server.url}/search/")
    assert page.title() == empty_title
    assert page.errors == []


def test_it_does_not_flash_no_results_while_a_word_is_typed(
    live_server, search_index, browser_page
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/")
    page.evaluate(
        """() => {
            window.sawNoResults = false;
            new MutationObserver(() => {
                if (document.querySelector('#results .no-results')) window.sawNoResults = true;
            }).observe(document.querySelector('#results'), {childList: true, subtree: true});
        }"""
    )
    box = page.locator("main textarea[data-search-box]")
    # Slow enough that a search runs for each partial word ("h", "hu", "hug"…).
    box.type("hugepages", delay=400)
    page.locator("#results ol.results li").first.wait_for()
    assert page.evaluate("window.sawNoResults") is False
    # A query that matches nothing is said so, once the typing has paused.
    box.fill("")
    box.type("zzqqxxv", delay=20)
    page.locator("#results .no-results").wait_for()
    assert page.errors == []


def test_it_moves_through_results_with_the_arrow_keys(live_server, search_index, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/search/?q=nginx")
    links = page.locator("#results ol.results a.title")
    assert links.count() >= 2
    page.locator("main textarea[data-search-box]").focus()
    page.keyboard.press("End")
    page.keyboard.press("ArrowDown")
    assert links.nth(0).evaluate("el => el === document.activeElement")
    page.keyboard.press("ArrowDown")
    assert links.nth(1).evaluate("el => el === document.activeElement")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.locator("main textarea[data-search-box]").evaluate(
        "el => el === document.activeElement"
    )
    assert page.errors == []


@pytest.mark.parametrize("path", ["/", "/articles/", "/checks/", "/analyze/", "/troubleshoot/"])
def test_it_focuses_a_search_box_with_slash_on_every_page(
    live_server, search_index, browser_page, path
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}{path}")
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.matches('[data-search-box]')")
    assert page.errors == []


def test_it_searches_from_the_header_with_enter_and_adds_lines_with_shift_enter(
    live_server, search_index, browser_page
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/articles/")
    box = page.locator("header textarea[name=q]")
    box.click()
    page.keyboard.type("Too many")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("pods")
    assert box.input_value() == "Too many\npods"
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert query_of(page.url).replace("\r\n", "\n") == "Too many\npods"
    assert "/articles/kubelet-max-pods/" in page.locator("#results a.title").first.get_attribute(
        "href"
    )
    assert page.errors == []


def test_a_27_kb_log_pasted_into_the_home_box_lands_on_its_article(
    live_server, search_index, browser_page
) -> None:
    log = noisy_log()
    assert len(log.encode()) > 27_000 and log.endswith(ENVSUBST_ERROR)
    probe = Client().post("/search/", {"q": log})
    if "query_cut" not in probe.context:
        pytest.skip("the search view does not reduce long logs to their error lines yet")
    page = browser_page
    page.goto(f"{live_server.url}/")
    page.locator("main textarea[data-search-box]").fill(log)
    # Live results first (sent by POST: too long for a URL), then Enter posts the log.
    page.locator("#results ol.results li a.title").first.wait_for()
    assert ENVSUBST in page.locator("#results a.title").first.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/")
    assert ENVSUBST in page.locator("#results a.title").first.get_attribute("href")
    assert "2026-11-30T10" not in page.title(), "a pasted log never becomes the title"
    assert page.errors == []


def test_it_works_without_javascript(live_server, search_index, _browser) -> None:
    context = _browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.fill("main textarea[data-search-box]", "Too many pods")
    page.click("main button[type=submit]")
    page.wait_for_url("**/search/?q=Too+many+pods")
    assert "/articles/kubelet-max-pods/" in page.content()
    # The whole-log form posts; a Copy button never shows without JavaScript.
    page.goto(f"{live_server.url}/search/")
    page.click(".paste-log summary")
    page.fill("#log", "kubelet says: Too many pods")
    page.click(".paste-log button[type=submit]")
    assert "/articles/kubelet-max-pods/" in page.content()
    page.goto(f"{live_server.url}{ENVSUBST}")
    assert page.locator("button.copy:visible").count() == 0
    context.close()
