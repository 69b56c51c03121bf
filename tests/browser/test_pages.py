"""Every page type in a real browser at 390 and 1366 px: nothing scrolls sideways, axe-core finds
no serious or critical violation, dark mode and the page language follow the browser."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
# axe-core, pinned in tests/browser/axe/package.json and installed by `make install-dev`
# (npm ci); injected from disk through the DevTools protocol: nothing is fetched, the CSP stays on.
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WRITE_UPS = REPO / "tests" / "kb" / "fixtures" / "docs" / "good"
MANIFEST = REPO / "tests" / "troubleshooter" / "fixtures" / "faces" / "aks-pvc.yaml"
ENVSUBST = "nginx-envsubst-argument-list-too-long"
WIDTHS = {"phone": 390, "desktop": 1366}
QUESTION_PASTE = "Bus error (core dumped)"
ANSWER_PASTE = "mmap(HUGETLB) failed: Cannot allocate memory (12)"

# name → (path, action run before measuring)
PAGES = {
    "home": ("/", None),
    "search": ("/search/?q=envsubst%3A+Argument+list+too+long", None),
    "articles": ("/articles/", None),
    "article": (f"/articles/{ENVSUBST}/", None),
    "article-ja": (f"/articles/{ENVSUBST}/?lang=ja", None),
    "write-up-ja": ("/articles/service-links-scraped/", None),
    "write-up-zh": ("/articles/zh-hugepages-scraped/", None),
    "checks": ("/checks/", None),
    "check": (f"/checks/{ENVSUBST}/", None),
    "analyze": ("/analyze/", None),
    "analyze-results": ("/analyze/", "analyze"),
    "shared-results": ("/analyze/", "share"),
    "troubleshoot": ("/troubleshoot/", None),
    "troubleshoot-question": ("/troubleshoot/", "question"),
    "troubleshoot-answer": ("/troubleshoot/", "diagnose"),
    "tree-node": ("/troubleshoot/start/", None),
    "not-found": ("/articles/nginx-envsubst-too-long/", None),
}


@pytest.fixture
def site(search_index):
    """The curated articles plus scraped write-ups (long lines, ja and zh), imported and indexed."""
    from kb.importer import import_paths
    from kb.search import rebuild_index

    report = import_paths([WRITE_UPS])
    assert not report.failed, report.failed
    rebuild_index()


def open_page(page, base: str, name: str) -> None:
    path, action = PAGES[name]
    response = page.goto(f"{base}{path}")
    assert response.status == (404 if name == "not-found" else 200), name
    if action in ("analyze", "share"):
        page.fill("textarea[name=manifest]", MANIFEST.read_text())
        page.click("form.analyze-form button[type=submit]")
        page.locator("#results-heading").wait_for()
    if action == "share":
        page.locator("button[data-share]").click()
        page.wait_for_url("**/analyze/shared/*/")
    if action in ("question", "diagnose"):
        # A paste the troubleshooter asks about, and one it names a cause for.
        text = QUESTION_PASTE if action == "question" else ANSWER_PASTE
        page.fill("textarea[name=text]", text)
        page.click("form.paste-box button[type=submit]")
        page.locator("#diagnosis .question, #diagnosis .cause-card").first.wait_for()
    if action:
        # An htmx indicator fades out over 0.2 s after the answer: measured mid-fade, its
        # half-transparent text fails axe's contrast rule. Wait until every one is hidden.
        page.wait_for_function(
            "() => [...document.querySelectorAll('.htmx-indicator')]"
            ".every((el) => getComputedStyle(el).opacity === '0')"
        )


def run_axe(page) -> list[dict]:
    """Serious and critical axe-core violations on the page."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install-dev` (npm ci in tests/browser/axe)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary),
            }));
        }"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width_name", WIDTHS)
def test_no_page_scrolls_sideways(live_server, site, _browser, width_name) -> None:
    width = WIDTHS[width_name]
    context = _browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    wide = {}
    for name in PAGES:
        open_page(page, live_server.url, name)
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        if scroll_width > width:
            wide[name] = scroll_width
        # One header row at every width.
        assert page.locator(".site-header").evaluate("el => el.offsetHeight") < 80, name
    context.close()
    assert wide == {}


@pytest.mark.parametrize(("width_name", "scheme"), [("phone", "light"), ("desktop", "dark")])
def test_axe_finds_no_serious_violation_on_any_page_type(
    live_server, site, _browser, width_name, scheme
) -> None:
    context = _browser.new_context(
        viewport={"width": WIDTHS[width_name], "height": 900}, color_scheme=scheme
    )
    page = context.new_page()
    found = {}
    for name in PAGES:
        open_page(page, live_server.url, name)
        violations = run_axe(page)
        if violations:
            found[name] = violations
    context.close()
    assert found == {}


def test_dark_mode_follows_the_browser(live_server, site, _browser) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        context = _browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(f"{live_server.url}/articles/{ENVSUBST}/")
        colours[scheme] = page.evaluate(
            "() => [getComputedStyle(document.body).backgroundColor,"
            " getComputedStyle(document.querySelector('pre')).backgroundColor]"
        )
        context.close()
    assert colours["light"][0] == "rgb(255, 255, 255)"
    assert colours["dark"][0] != colours["light"][0]
    assert colours["dark"][1] != colours["light"][1], "code blocks follow too"


@pytest.mark.parametrize(
    ("locale", "lang", "search_label"),
    [("ja-JP", "ja", "検索"), ("zh-CN", "zh-Hans", "搜索"), ("en-US", "en", "Search")],
)
def test_the_page_language_follows_the_browser(
    live_server, site, _browser, locale, lang, search_label
) -> None:
    context = _browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(f"{live_server.url}/checks/")
    assert page.locator("html").get_attribute("lang") == lang
    nav = page.locator("header nav a").first
    assert nav.text_content().strip() == search_label
    context.close()


def test_the_language_switch_is_remembered(live_server, site, _browser) -> None:
    context = _browser.new_context(locale="en-US", viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/articles/")
    page.locator("details.site-menu > summary").click()
    page.select_option("#lang-select", "ja")
    page.wait_for_load_state("load")
    page.wait_for_function("document.documentElement.lang === 'ja'")
    assert page.url == f"{live_server.url}/articles/"
    page.goto(f"{live_server.url}/checks/")
    assert page.locator("html").get_attribute("lang") == "ja"
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_search_pages_cause_card_looks_like_the_troubleshooters(
    live_server, site, _browser, scheme
) -> None:
    """One card, two pages: the search page shows the cause card the troubleshooter shows, with
    its frame, its confidence badge and its shaded fix, in either colour scheme."""
    context = _browser.new_context(color_scheme=scheme)
    page = context.new_page()
    styles = {}
    style_of_card = """() => {
        const card = document.querySelector('.cause-card');
        const style = (el) => getComputedStyle(el);
        return [style(card).borderTopWidth, style(card).borderTopStyle,
                style(card.querySelector('.confidence')).backgroundColor,
                style(card.querySelector('.fix pre')).backgroundColor];
    }"""
    page.goto(f"{live_server.url}/search/?q=envsubst%3A+Argument+list+too+long")
    styles["search"] = page.evaluate(style_of_card)
    page.goto(f"{live_server.url}/troubleshoot/")
    page.fill("textarea[name=text]", "envsubst: Argument list too long")
    page.locator("form.paste-box button[type=submit]").click()
    page.locator("#diagnosis .cause-card").wait_for()
    styles["troubleshoot"] = page.evaluate(style_of_card)
    context.close()
    assert styles["search"] == styles["troubleshoot"]
    width, line, badge, fix = styles["search"]
    assert width != "0px" and line == "solid", "the card has its frame"
    assert badge != "rgba(0, 0, 0, 0)", "the confidence is a badge"
    assert fix != "rgba(0, 0, 0, 0)", "the fix is shaded like code"


@pytest.mark.parametrize("width_name", WIDTHS)
def test_an_article_opens_with_its_title(live_server, site, _browser, width_name) -> None:
    """A reader arriving from a wiki link reads the title first: on a phone the contents come
    after it (and before the body); on a wide screen they stand beside it."""
    context = _browser.new_context(viewport={"width": WIDTHS[width_name], "height": 900})
    page = context.new_page()
    for path in (f"/articles/{ENVSUBST}/", f"/articles/{ENVSUBST}/?lang=ja"):
        page.goto(f"{live_server.url}{path}")
        assert page.locator("h1").count() == 1
        title = page.locator("h1").bounding_box()
        contents = page.locator(".article-layout > aside").bounding_box()
        body = page.locator(".article-body").bounding_box()
        if width_name == "phone":
            assert title["y"] + title["height"] <= contents["y"], path
            assert contents["y"] + contents["height"] <= body["y"], path
        else:
            assert contents["x"] >= title["x"] + title["width"], path
            assert abs(contents["y"] - title["y"]) < 120, path
    context.close()


def test_copy_buttons_sit_above_code_and_section_links_copy(live_server, site, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/articles/{ENVSUBST}/")
    blocks = page.locator(".article-body pre")
    assert blocks.count() >= 3
    assert page.locator(".article-body .code-block button.copy").count() == blocks.count()
    # The button sits in a bar above the code: it never covers a line.
    for index in range(blocks.count()):
        button = page.locator(".article-body .code-block").nth(index).locator("button.copy")
        assert button.bounding_box()["y"] + button.bounding_box()["height"] <= (
            page.locator(".article-body .code-block").nth(index).locator("pre").bounding_box()["y"]
            + 1
        )
    # A scrolled code block is reachable by keyboard and named.
    wide = page.locator(".article-body pre[tabindex='0']")
    if wide.count():
        assert wide.first.get_attribute("aria-label")
    headings = page.locator(".article-body h2[id]")
    assert page.locator(".article-body h2 button.copy-link").count() == headings.count()
    page.locator("#fix button.copy-link").click()
    page.wait_for_function("() => document.querySelector('#fix button.copy-link.copied')")
    assert page.errors == []


def test_the_article_list_filters_by_text_and_language(live_server, site, browser_page) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/articles/")
    rows = page.locator("#article-table tbody tr")
    total = rows.count()
    page.fill("[data-filter-text]", "hugepages")
    visible = page.locator("#article-table tbody tr:visible")
    assert 0 < visible.count() < total
    for index in range(visible.count()):
        assert "hugepages" in visible.nth(index).get_attribute("data-text").lower()
    page.fill("[data-filter-text]", "")
    page.select_option("[data-filter-lang]", "zh")
    assert visible.count() > 0
    # Every article that can be read in Chinese: written in it, or translated.
    assert all(
        "zh" in visible.nth(i).get_attribute("data-lang").split() for i in range(visible.count())
    )
    assert visible.count() > page.locator('#article-table tbody tr[data-lang="zh"]').count()
    page.fill("[data-filter-text]", "zzzqqq")
    assert page.locator("[data-filter-empty]").is_visible()
    assert page.errors == []


def test_tree_feedback_asks_about_the_step_reached(live_server, site, browser_page) -> None:
    """ "Did this solve it?" belongs to an answer, not to a question: the start page has none,
    and after walking to a cause in place (htmx swaps the step), the vote is about that cause."""
    from troubleshooter.models import Feedback

    page = browser_page
    page.goto(f"{live_server.url}/troubleshoot/start/")
    page.evaluate("window.sameDocument = true")
    assert page.locator("#feedback").count() == 0
    page.locator('a.answer[href$="/troubleshoot/argument-list-too-long/"]').click()
    page.wait_for_url("**/troubleshoot/argument-list-too-long/")
    page.locator('a.answer[href$="/troubleshoot/service-links-env-too-long/"]').wait_for()
    assert page.locator("#feedback").count() == 0
    page.locator('a.answer[href$="/troubleshoot/service-links-env-too-long/"]').click()
    page.wait_for_url("**/troubleshoot/service-links-env-too-long/")
    page.locator("#feedback").wait_for()
    assert page.evaluate("window.sameDocument") is True, "each step came in place"
    # The tab and the history entry name the step shown, as a fresh load of its URL does.
    walked_title = page.title()
    assert page.locator("#feedback input[name=target]").get_attribute("value") == (
        "service-links-env-too-long"
    )
    page.locator("#feedback button[value=yes]").click()
    page.locator("#feedback .feedback-thanks").wait_for()
    stored = Feedback.objects.get()
    assert (stored.kind, stored.target, stored.helpful) == (
        "node",
        "service-links-env-too-long",
        True,
    )
    assert page.errors == []
    page.goto(f"{live_server.url}/troubleshoot/service-links-env-too-long/")
    assert walked_title == page.title()
    page.goto(f"{live_server.url}/troubleshoot/start/")
    assert page.title() != walked_title


def test_feedback_is_answered_in_place(live_server, site, browser_page) -> None:
    from troubleshooter.models import Feedback

    page = browser_page
    page.goto(f"{live_server.url}/articles/{ENVSUBST}/")
    page.evaluate("window.sameDocument = true")
    page.locator("#feedback summary").click()
    page.fill("#feedback textarea[name=comment]", "the fix for nginx 1.25 is missing")
    page.locator("#feedback button[value=no]").click()
    page.locator("#feedback .feedback-thanks").wait_for()
    assert page.evaluate("window.sameDocument") is True
    stored = Feedback.objects.get()
    assert (stored.target, stored.helpful) == (ENVSUBST, False)
    assert stored.comment == "the fix for nginx 1.25 is missing"
    assert page.errors == []
