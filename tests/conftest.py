"""Shared fixtures: the curated articles in a real test database, a real Whoosh index in a
temporary folder, and a real browser (Playwright driving Debian's chromium)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTICLES_DIR = REPO / "articles"
# Resolved: the importer records resolved roots, and shared/ may be reached through a link.
# KB_SEEDS_DIR points elsewhere (a worktree that is not beside the shared folder).
SEEDS_DIR = Path(os.environ.get("KB_SEEDS_DIR") or REPO.parent / "shared" / "seeds").resolve()

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# there unless told it is safe (the test database is only touched from the test thread and
# the live server's thread, never concurrently with an await).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _isolated_index(settings, tmp_path: Path) -> Path:
    """Every test gets its own index folder: nothing touches var/index."""
    settings.KB_INDEX_DIR = tmp_path / "index"
    return settings.KB_INDEX_DIR


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Every test starts with an empty Django cache: the per-address allowances (shares,
    feedback) live there, and the browser tests all come from 127.0.0.1."""
    from django.core.cache import cache

    cache.clear()
    yield


class _Rollback(Exception):
    """Raised to undo the session-level import once its results are captured."""


def _import_once(
    django_db_blocker, tmp_path_factory, paths: list[Path], name: str, slug_from: str = "title"
):
    """Run the real importer and indexer once per session; keep the rows and the index.

    Importing renders every document (Markdown, Pygments) and indexing runs MeCab: done per
    test, that cost dominates the suite. The rows are captured and the transaction rolled
    back, so each test starts from an empty database and gets exact copies of real imports.
    """
    from django.db import transaction
    from django.test import override_settings

    from kb.importer import import_paths
    from kb.models import Article
    from kb.search import rebuild_index

    index = tmp_path_factory.mktemp(name)
    rows: list[dict] = []
    with django_db_blocker.unblock(), override_settings(KB_INDEX_DIR=index):
        try:
            with transaction.atomic():
                # As the README imports them: readable slugs for the source write-ups.
                report = import_paths(paths, slug_from=slug_from)
                assert not report.failed, report.failed
                rebuild_index()
                rows = list(Article.objects.values())
                raise _Rollback
        except _Rollback:
            pass
    return rows, index


@pytest.fixture(scope="session")
def _curated(django_db_setup, django_db_blocker, tmp_path_factory):
    return _import_once(django_db_blocker, tmp_path_factory, [ARTICLES_DIR], "curated")


@pytest.fixture(scope="session")
def _curated_and_seeds(django_db_setup, django_db_blocker, tmp_path_factory):
    if not SEEDS_DIR.is_dir():
        pytest.skip("the seeds folder is not beside the repository (set KB_SEEDS_DIR)")
    return _import_once(
        django_db_blocker, tmp_path_factory, [ARTICLES_DIR, SEEDS_DIR], "curated-and-seeds"
    )


def _load(rows: list[dict]) -> list:
    from kb.models import Article

    Article.objects.bulk_create(Article(**row) for row in rows)
    return list(Article.objects.order_by("slug"))


def _use_index(template: Path, target: Path) -> Path:
    # A private copy: a test may rebuild or change its index without touching the others.
    shutil.copytree(template, target, dirs_exist_ok=True)
    return target


@pytest.fixture
def articles(db, _curated) -> list:
    """Our curated articles (articles/) in the test database, as the importer stores them."""
    return _load(_curated[0])


@pytest.fixture
def seeds(db, _curated_and_seeds) -> list:
    """The curated articles and the five source documents (the shared seeds folder), as imported."""
    from kb.models import Article

    _load(_curated_and_seeds[0])
    return list(Article.objects.filter(source_root=str(SEEDS_DIR)))


@pytest.fixture
def search_index(articles, _curated, _isolated_index: Path) -> Path:
    """A real Whoosh index of the curated articles, in this test's own folder."""
    return _use_index(_curated[1], _isolated_index)


@pytest.fixture
def full_index(seeds, _curated_and_seeds, _isolated_index: Path) -> Path:
    """A real index of the curated articles and the seeds together."""
    return _use_index(_curated_and_seeds[1], _isolated_index)


@pytest.fixture
def hostile_site(tmp_path: Path, articles) -> Path:
    """The curated articles plus the hostile documents (tests/hostile_corpus.py), imported and
    indexed for real: what the XSS tests serve, in the test client and in the browser."""
    from hostile_corpus import HOSTILE_ARTICLES  # tests/ is on sys.path: it holds this file

    from kb.importer import import_paths
    from kb.search import rebuild_index

    folder = tmp_path / "hostile"
    folder.mkdir()
    for name, text in HOSTILE_ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    report = import_paths([folder])
    assert report.failed == [], report.failed
    assert len(report.created) == len(HOSTILE_ARTICLES)
    rebuild_index()
    return folder


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def _browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_browser, tmp_path: Path) -> Iterator[object]:
    """A fresh browser page; console errors and CSP violations are collected in .errors."""
    context = _browser.new_context()
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",
        lambda message: page.errors.append(message.text) if message.type == "error" else None,
    )
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def run_in_production(tmp_path: Path):
    """Run Python source in a fresh interpreter with the production settings (KB_DEBUG=0, a
    throw-away SQLite and index under ``tmp_path``); return its last stdout line as JSON.

    The test process has DEBUG on and has long imported everything, so what production loads
    and configures is seen only from outside it."""

    def run(source: str) -> dict:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kb.settings",
            "KB_DEBUG": "0",
            "KB_SECRET_KEY": "test-only-" + "x" * 40,
            "KB_ALLOWED_HOSTS": "testserver",
            "KB_VAR_DIR": str(tmp_path),
            "KB_DATABASE_URL": "",
            "DATABASE_URL": "",
        }
        done = subprocess.run(
            [sys.executable, "-c", source],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run
