"""Screenshots of every page type at 390 and 1366 px, light and dark, into var/screenshots/.

    .venv/bin/python scripts/screenshots.py [--out var/screenshots]

Runs its own server on a free port against a throw-away database and index (the curated
articles plus the scraped write-ups of the test fixtures), so nothing under var/ but the
screenshots is touched. Needs Playwright and Debian's chromium, like the browser tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WRITE_UPS = REPO / "tests" / "kb" / "fixtures" / "docs" / "good"
MANIFEST = REPO / "tests" / "troubleshooter" / "fixtures" / "faces" / "aks-pvc.yaml"
WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}
SCHEMES = ("light", "dark")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _pages(base: str) -> list[tuple[str, str, str | None]]:
    """(name, URL, action) for every page type; an action fills and submits a form first."""
    return [
        ("home", f"{base}/", None),
        ("search", f"{base}/search/?q=envsubst%3A+Argument+list+too+long", None),
        ("articles", f"{base}/articles/", None),
        ("article", f"{base}/articles/nginx-envsubst-argument-list-too-long/", None),
        ("article-ja", f"{base}/articles/nginx-envsubst-argument-list-too-long/?lang=ja", None),
        ("write-up", f"{base}/articles/service-links-scraped/", None),
        ("checks", f"{base}/checks/", None),
        ("check", f"{base}/checks/nginx-envsubst-argument-list-too-long/", None),
        ("analyze", f"{base}/analyze/", None),
        ("analyze-results", f"{base}/analyze/", "analyze"),
        ("shared-results", f"{base}/analyze/", "share"),
        ("troubleshoot", f"{base}/troubleshoot/", None),
        ("troubleshoot-results", f"{base}/troubleshoot/", "troubleshoot"),
        ("troubleshoot-question", f"{base}/troubleshoot/", "question"),
        ("tree-node", f"{base}/troubleshoot/start/", None),
        ("not-found", f"{base}/articles/nginx-envsubst-too-long/", None),
    ]


def _act(page, action: str | None) -> None:
    if action in ("analyze", "share"):
        page.fill("textarea[name=manifest]", MANIFEST.read_text())
        page.click("form.analyze-form button[type=submit]")
        page.locator("#results .summary, #results [role=alert]").first.wait_for()
    if action == "share":
        page.locator("button[data-share]").click()
        page.wait_for_url("**/analyze/shared/*/")
    elif action == "troubleshoot":
        page.fill(
            "textarea[name=text]",
            "/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: "
            "envsubst: Argument list too long",
        )
        page.click("main form button[type=submit]")
        page.wait_for_load_state("networkidle")
    elif action == "question":
        page.fill("textarea[name=text]", "Bus error (core dumped)")
        page.click("main form button[type=submit]")
        page.locator("#diagnosis .question").wait_for()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "var" / "screenshots"), help="output folder")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="kb-screens-") as tmp:
        env = {**os.environ, "KB_VAR_DIR": tmp, "KB_DEBUG": "1"}
        _manage(env, "migrate", "--noinput")
        _manage(env, "import_articles", str(REPO / "articles"), str(WRITE_UPS))
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                count = 0
                for width_name, (width, height) in WIDTHS.items():
                    for scheme in SCHEMES:
                        context = browser.new_context(
                            viewport={"width": width, "height": height}, color_scheme=scheme
                        )
                        page = context.new_page()
                        for name, url, action in _pages(base):
                            page.goto(url)
                            _act(page, action)
                            path = out / f"{name}-{width_name}-{scheme}.png"
                            page.screenshot(path=str(path), full_page=True)
                            count += 1
                        context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{count} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
