"""Real browser: paste a log with a Bus error, answer the question, land on the cause page."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# No context word (php, nfs, httpd...) in it: the troubleshooter must ask which process died.
LOG = """2024-05-01T12:00:00Z starting worker pool, pid 1
2024-05-01T12:00:01Z sh: line 1:    42 Bus error (core dumped) ./worker --serve
"""


def test_it_pastes_a_bus_error_answers_and_reaches_the_cause(live_server, browser_page, articles):
    page = browser_page
    page.goto(f"{live_server.url}/troubleshoot/")
    page.fill("#paste-text", LOG)
    page.click("form.paste-box button[type=submit]")
    # htmx swaps the diagnosis in without leaving the page.
    answer = page.locator("#diagnosis a.answer", has_text="huge_code_pages")
    answer.wait_for()
    assert page.url.rstrip("/").endswith("/troubleshoot")
    answer.click()
    page.wait_for_url("**/troubleshoot/hugepages-not-requested/")
    assert "without requesting them" in page.locator("h1").inner_text()
    assert page.locator("pre#fix-hugepages-not-requested").is_visible()
    assert page.locator('a[href="/articles/php-opcache-hugepages/#fix"]').count() == 1
    assert page.errors == []
