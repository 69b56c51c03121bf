"""The analyzer's text box with line numbers and YAML colours (static/js/editor.js), in a real
browser: the numbers and the coloured copy follow typing, pasting, scrolling and resizing, a
2 MB paste leaves the page responsive, and the textarea is still the field that is analysed."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from test_pages import run_axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

FIXTURES = Path(__file__).resolve().parents[1] / "troubleshooter" / "fixtures" / "faces"
AKS_CHECK = "aks-virtual-node-azure-files-pvc"
TEXTAREA = "textarea[name=manifest]"

# What is drawn, against the textarea: the lines the gutter and the coloured copy show, the
# textarea's lines there, and whether the lines in view are among those drawn.
DRAWN = """() => {
    const textarea = document.querySelector('textarea[name=manifest]');
    const code = document.querySelector('.editor-code');
    const numbers = document.querySelector('.editor-numbers');
    const lines = textarea.value.split('\\n');
    const first = Number(code.dataset.first);
    const drawn = code.textContent.split('\\n');
    const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight);
    const firstInView = Math.floor(textarea.scrollTop / lineHeight);
    const lastInView = Math.min(lines.length,
        Math.ceil((textarea.scrollTop + textarea.clientHeight) / lineHeight));
    return {
        count: lines.length,
        first: first,
        numbersFirst: Number(numbers.dataset.first),
        code: code.textContent,
        expected: lines.slice(first, first + drawn.length).join('\\n'),
        numbers: numbers.textContent.split('\\n'),
        inView: firstInView >= first && lastInView <= first + drawn.length,
        gutterLines: Number(document.querySelector('.editor').dataset.lines),
    };
}"""


def drawn(page) -> dict:
    state = page.evaluate(DRAWN)
    assert state["code"] == state["expected"], "the coloured copy is the textarea's text"
    assert state["numbersFirst"] == state["first"]
    assert state["numbers"] == [
        str(n + 1) for n in range(state["first"], state["first"] + len(state["numbers"]))
    ]
    assert len(state["numbers"]) == len(state["code"].split("\n"))
    assert state["gutterLines"] == state["count"]
    assert state["inView"], "every line in view is drawn"
    return state


def settle(page) -> None:
    """Wait for the editor's pending update (a timer, then an animation frame)."""
    page.evaluate(
        "() => new Promise(done => setTimeout("
        "() => requestAnimationFrame(() => requestAnimationFrame(done)), 200))"
    )


def open_editor(page, url: str) -> None:
    page.goto(url)
    page.locator(".editor .editor-code").wait_for(state="attached")


def test_line_numbers_follow_typing_and_pasting(live_server, browser_page):
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_editor(page, f"{live_server.url}/analyze/")
    assert drawn(page)["numbers"] == ["1"]

    page.click(TEXTAREA)
    page.keyboard.type("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n")
    settle(page)
    state = drawn(page)
    assert state["numbers"] == ["1", "2", "3", "4", "5"]

    # A real paste (Ctrl+V) of a whole file at the end of the text.
    manifest = (FIXTURES / "aks-pvc.yaml").read_text()
    page.evaluate("text => navigator.clipboard.writeText(text)", manifest)
    page.keyboard.press("Control+End")
    page.keyboard.press("Control+V")
    settle(page)
    text = page.input_value(TEXTAREA)
    assert text.endswith(manifest)
    state = drawn(page)
    assert state["count"] == text.count("\n") + 1
    # The caret is at the end: the last lines are in view and numbered.
    assert state["numbers"][-1] == str(state["count"])

    # The caret's line number stands out, and follows the caret.
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    assert page.locator(".editor-numbers .current").text_content() == "2"
    page.keyboard.press("ArrowDown")
    assert page.locator(".editor-numbers .current").text_content() == "3"

    # Deleting lines takes their numbers away.
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("a: 1\nb: 2")
    settle(page)
    assert drawn(page)["numbers"] == ["1", "2"]
    assert page.errors == []


def test_the_colours_are_yaml_tokens(live_server, browser_page):
    page = browser_page
    open_editor(page, f"{live_server.url}/analyze/")
    page.fill(
        TEXTAREA,
        "--- # first\n"
        "kind: Pod\n"
        "metadata: &meta\n"
        '  name: "web"\n'
        "  replicas: 3\n"
        "  enabled: yes\n"
        "  other: *meta\n"
        "  tagged: !!str 0755\n"
        "  script: |\n"
        "    # not a comment: text\n"
        "    echo key: value\n"
        "  after: {a: 1}\n",
    )
    settle(page)
    classes = page.evaluate(
        "() => [...document.querySelectorAll('.editor-code span')]"
        ".map(s => [s.className, s.textContent])"
    )
    assert ["ed-d", "---"] in classes
    assert ["ed-c", "# first"] in classes
    assert ["ed-k", "kind"] in classes
    assert ["ed-a", "&meta"] in classes
    assert ["ed-a", "*meta"] in classes
    assert ["ed-s", '"web"'] in classes
    assert ["ed-n", "3"] in classes
    assert ["ed-n", "yes"] in classes
    assert ["ed-t", "!!str"] in classes
    assert ["ed-b", "|"] in classes
    # The block scalar's lines are text, comment-like or key-like as they may look.
    assert ["ed-s", "    # not a comment: text"] in classes
    assert ["ed-s", "    echo key: value"] in classes
    assert ["ed-k", "after"] in classes and ["ed-k", "a"] in classes
    # Colours differ from the plain text colour, and the textarea's own text is invisible.
    colours = page.evaluate(
        """() => ({
            key: getComputedStyle(document.querySelector('.editor-code .ed-k')).color,
            comment: getComputedStyle(document.querySelector('.editor-code .ed-c')).color,
            text: getComputedStyle(document.querySelector('.editor-code')).color,
            field: getComputedStyle(document.querySelector('textarea[name=manifest]')).color,
        })"""
    )
    assert len({colours["key"], colours["comment"], colours["text"]}) == 3
    assert colours["field"] == "rgba(0, 0, 0, 0)"
    assert page.errors == []


# Ink (pixels away from the background colour) in one screenshot with no ink within a pixel of
# it in the other: text drawn in two places. Glyphs drawn in separate spans may land a fraction
# of a pixel apart from one run of the same text; a line or a character off is many pixels.
SCREENSHOT_DIFF = """async ([a, b]) => {
    async function pixels(data) {
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], {type: 'image/png'}));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const context = canvas.getContext('2d');
        context.drawImage(bitmap, 0, 0);
        return {width: bitmap.width, height: bitmap.height,
                data: context.getImageData(0, 0, bitmap.width, bitmap.height).data};
    }
    function inkOf(image) {
        const counts = new Map();
        for (let i = 0; i < image.data.length; i += 4) {
            const key = (image.data[i] << 16) | (image.data[i + 1] << 8) | image.data[i + 2];
            counts.set(key, (counts.get(key) || 0) + 1);
        }
        const background = [...counts.entries()].sort((x, y) => y[1] - x[1])[0][0];
        const [r, g, bl] = [background >> 16, (background >> 8) & 255, background & 255];
        const ink = new Uint8Array(image.width * image.height);
        for (let p = 0; p < ink.length; p++) {
            const i = p * 4;
            const delta = Math.abs(image.data[i] - r) + Math.abs(image.data[i + 1] - g)
                + Math.abs(image.data[i + 2] - bl);
            ink[p] = delta > 200 ? 1 : 0;
        }
        return ink;
    }
    const [one, two] = [await pixels(a), await pixels(b)];
    if (one.width !== two.width || one.height !== two.height) return {ink: 0, alone: -1};
    const [inkOne, inkTwo] = [inkOf(one), inkOf(two)];
    const {width, height} = one;
    function near(ink, x, y) {
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx, ny = y + dy;
            const inside = nx >= 0 && ny >= 0 && nx < width && ny < height;
            if (inside && ink[ny * width + nx]) return true;
        }
        return false;
    }
    let ink = 0, alone = 0;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
        const p = y * width + x;
        if (inkOne[p]) { ink++; if (!near(inkTwo, x, y)) alone++; }
        if (inkTwo[p] && !near(inkOne, x, y)) alone++;
    }
    return {ink, alone};
}"""


def shot(page) -> str:
    return base64.b64encode(page.locator(".editor-field").screenshot()).decode()


def assert_layer_covers_the_text(page) -> None:
    """The coloured copy, drawn in the text colour, looks like the textarea's own text."""
    page.evaluate(
        """() => {
            const sheet = new CSSStyleSheet();
            sheet.replaceSync('.editor-code span { color: inherit !important; }'
                + ' textarea { caret-color: transparent !important; }');
            document.adoptedStyleSheets = [sheet];
        }"""
    )
    page.evaluate("() => document.querySelector('.editor').classList.add('is-plain')")
    plain = shot(page)
    page.evaluate("() => document.querySelector('.editor').classList.remove('is-plain')")
    layered = shot(page)
    page.evaluate("() => { document.adoptedStyleSheets = []; }")
    result = page.evaluate(SCREENSHOT_DIFF, [plain, layered])
    assert result["ink"] > 500, "there is text to compare"
    assert result["alone"] < result["ink"] * 0.01, result


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_layer_stays_aligned_while_scrolling_and_resizing(live_server, _browser, scheme):
    context = _browser.new_context(viewport={"width": 1366, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    try:
        open_editor(page, f"{live_server.url}/analyze/?example=1")
        page.locator(TEXTAREA).blur()
        settle(page)
        drawn(page)
        assert_layer_covers_the_text(page)

        # Long lines and non-Latin text, scrolled down and sideways.
        text = "".join(
            f"line{n}: {'x' * (n % 7) * 30} # コメント {n} 注释\n"
            if n % 5 == 0
            else f"  key{n}: value-{n}\n"
            for n in range(400)
        )
        page.fill(TEXTAREA, text)
        page.locator(TEXTAREA).evaluate("t => { t.scrollTop = 2000; t.scrollLeft = 120; }")
        settle(page)
        state = drawn(page)
        assert state["first"] > 0
        assert_layer_covers_the_text(page)

        # Resized by its handle (here: by its height): still drawn and aligned.
        page.locator(TEXTAREA).evaluate("t => { t.style.height = '30rem'; t.scrollTop = 4000; }")
        settle(page)
        drawn(page)
        assert_layer_covers_the_text(page)

        background = page.evaluate(
            "getComputedStyle(document.querySelector('.editor')).backgroundColor"
        )
        assert (background == "rgb(255, 255, 255)") == (scheme == "light")
        assert run_axe(page) == []
    finally:
        context.close()
    assert errors == []


def test_a_2_mb_paste_leaves_the_page_responsive(live_server, browser_page):
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_editor(page, f"{live_server.url}/analyze/")
    line = "      - name: value-%06d # a comment with: a colon and 'quotes'\n"
    text = "".join(line % n for n in range(2_000_000 // len(line % 0)))
    assert len(text) >= 1_900_000
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.click(TEXTAREA)
    # A real paste: chromium itself needs seconds to insert 2 MB into a textarea on a busy
    # machine (8 s measured here with no script on the page), so the bounds are generous:
    # they catch a page that stops answering, they do not measure speed.
    started = time.monotonic()
    page.keyboard.press("Control+V")
    assert page.evaluate("1 + 1") == 2
    assert time.monotonic() - started < 90
    settle(page)
    state = drawn(page)
    assert state["count"] == text.count("\n") + 1
    assert len(state["code"]) < 20_000, "only the lines around the view are drawn"
    # The caret is at the end, the end is in view; typing there is drawn and numbered. On a
    # slow machine (a throttled CPU here) the editor shows the plain text until typing pauses.
    page.evaluate(
        """() => { window.staleSeen = false;
            new MutationObserver(() => { window.staleSeen ||= document.querySelector('.editor')
                .classList.contains('is-stale'); })
            .observe(document.querySelector('.editor'), {attributes: true}); }"""
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 6})
    started = time.monotonic()
    page.keyboard.type("x: 1")
    page.wait_for_function(
        "() => !document.querySelector('.editor').classList.contains('is-stale')", timeout=60_000
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    settle(page)
    state = drawn(page)
    assert time.monotonic() - started < 60
    assert page.evaluate("window.staleSeen")
    assert state["numbers"][-1] == str(state["count"])
    assert state["code"].endswith("x: 1")
    # Scrolled back to the top: the first lines, coloured.
    page.locator(TEXTAREA).evaluate("t => { t.scrollTop = 0; }")
    settle(page)
    assert drawn(page)["first"] == 0
    assert page.locator(".editor-code .ed-k").first.text_content() == "name"
    assert page.errors == []


def test_no_sideways_scroll_on_a_phone(live_server, _browser):
    context = _browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        open_editor(page, f"{live_server.url}/analyze/?example=1")
        page.fill(TEXTAREA, "data:\n  long: " + "y" * 2000 + "\n" + page.input_value(TEXTAREA))
        settle(page)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        # The long line scrolls inside the editor.
        box = page.locator(TEXTAREA)
        assert box.evaluate("t => t.scrollWidth > t.clientWidth")
        box.evaluate("t => { t.scrollLeft = 500; }")
        settle(page)
        drawn(page)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        assert page.locator(".editor").evaluate("e => e.getBoundingClientRect().right") <= 390
        assert run_axe(page) == []
    finally:
        context.close()


def test_a_very_long_line_in_view_shows_the_plain_text(live_server, browser_page):
    page = browser_page
    open_editor(page, f"{live_server.url}/analyze/")
    # A minified JSON document on one line: too long to draw behind the textarea.
    page.fill(TEXTAREA, '{"items": [' + '{"a": 1}, ' * 3000 + "]}\n" + "key: value\n" * 300)
    page.locator(TEXTAREA).evaluate("t => { t.scrollTop = 0; }")
    settle(page)
    editor = page.locator(".editor")
    assert "is-plain" in editor.get_attribute("class")
    colour = "getComputedStyle(document.querySelector('textarea[name=manifest]')).color"
    assert page.evaluate(colour) != "rgba(0, 0, 0, 0)"
    # Out of view, the colours come back.
    page.locator(TEXTAREA).evaluate("t => { t.scrollTop = t.scrollHeight; }")
    settle(page)
    assert "is-plain" not in editor.get_attribute("class")
    assert page.evaluate(colour) == "rgba(0, 0, 0, 0)"
    drawn(page)
    assert page.errors == []


def test_tab_moves_focus_and_the_layers_are_hidden_from_screen_readers(live_server, browser_page):
    page = browser_page
    open_editor(page, f"{live_server.url}/analyze/")
    page.click(TEXTAREA)
    page.keyboard.type("a: 1")
    page.keyboard.press("Tab")
    assert page.input_value(TEXTAREA) == "a: 1"
    assert page.evaluate("document.activeElement.name") != "manifest"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.name") == "manifest"
    for selector in (".editor-gutter", ".editor-layer"):
        assert page.locator(selector).get_attribute("aria-hidden") == "true"
    # The label still names the field.
    assert page.get_by_label("Manifest").evaluate("e => e.name") == "manifest"


def test_submitting_still_analyzes_and_marks_the_finding_lines(live_server, browser_page):
    page = browser_page
    open_editor(page, f"{live_server.url}/analyze/")
    page.fill(TEXTAREA, (FIXTURES / "aks-pvc.yaml").read_text())
    page.click("form.analyze-form button[type=submit]")
    page.locator(f'#results .pinned.finding[data-check="{AKS_CHECK}"]').wait_for()
    settle(page)
    # The finding's line is marked in the gutter (scrolled into view first).
    page.locator(TEXTAREA).evaluate("t => { t.scrollTop = 20 * 20; }")
    settle(page)
    mark = page.locator(".editor-numbers .mark", has_text="30")
    assert mark.count() == 1
    assert "sev-error" in mark.get_attribute("class")
    # A click on it leads to the finding's line in the report.
    mark.click()
    page.wait_for_url("**#L30")
    assert page.locator("#L30:target").count() == 1
    # An edit may move lines: the marks go.
    page.locator(TEXTAREA).press("End")
    page.keyboard.type(" ")
    settle(page)
    assert page.locator(".editor-numbers .mark").count() == 0
    assert page.errors == []


def test_a_dropped_file_and_a_reset_redraw_the_editor(live_server, browser_page):
    page = browser_page
    open_editor(page, f"{live_server.url}/analyze/")
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
        "() => document.querySelector('.editor-code').textContent.includes('plain-web')"
    )
    state = drawn(page)
    assert state["count"] == text.count("\n") + 1
    page.evaluate("document.querySelector('form.analyze-form').reset()")
    settle(page)
    assert drawn(page)["numbers"] == ["1"]
    assert page.errors == []


def test_the_example_loads_into_the_editor(live_server, browser_page):
    page = browser_page
    open_editor(page, f"{live_server.url}/analyze/")
    page.click("[data-load-example]")
    page.wait_for_url("**/analyze/?example=1")
    page.locator(".editor .editor-code .ed-k").first.wait_for()
    state = drawn(page)
    assert state["count"] > 20
    assert page.errors == []
