"""Real browser: paste a log with a Bus error, answer the question in place, keep the paste."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# No context word (php, nfs, httpd...) in it: the troubleshooter must ask which process died.
LOG = """2024-05-01T12:00:00Z starting worker pool, pid 1
2024-05-01T12:00:01Z sh: line 1:    42 Bus error (core dumped) ./worker --serve
"""


def test_it_answers_the_question_in_place_and_keeps_the_paste(live_server, browser_page, articles):
    page = browser_page
    page.goto(f"{live_server.url}/troubleshoot/")
    page.fill("#paste-text", LOG)
    page.click("form.paste-box button[type=submit]")
    # htmx swaps the diagnosis in without leaving the page; the question's help is shown.
    answer = page.locator("#diagnosis button.answer", has_text="huge_code_pages")
    answer.wait_for()
    assert "SIGBUS" in page.locator("#diagnosis .help").inner_text()
    assert page.locator("#diagnosis").inner_text().count("Not a known cause") == 0
    answer.click()
    card = page.locator('#diagnosis .cause-card[data-article="php-opcache-hugepages"]')
    card.wait_for()
    assert page.url.rstrip("/").endswith("/troubleshoot")
    assert page.locator("#paste-text").input_value() == LOG  # the paste is still there
    assert page.locator("#diagnosis pre#fix-php-opcache-hugepages").is_visible()
    # Start over: back to the question for the same paste.
    page.click("#diagnosis .start-over button")
    page.locator("#diagnosis button.answer", has_text="huge_code_pages").wait_for()
    assert page.locator("#paste-text").input_value() == LOG
    assert page.errors == []


def test_it_answers_in_place_without_javascript(live_server, _browser, articles):
    context = _browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/troubleshoot/")
        page.fill("#paste-text", LOG)
        page.click("form.paste-box button[type=submit]")
        page.locator("button.answer", has_text="NFS").click()
        page.locator('.cause-card[data-article="httpd-network-docroot-sendfile-mmap"]').wait_for()
        assert page.locator("#paste-text").input_value().strip() == LOG.strip()
    finally:
        context.close()
