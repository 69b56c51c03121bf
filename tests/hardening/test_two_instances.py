"""Several instances, one database: each keeps its own search index in step with the articles.

Two gunicorn instances, each with its own local index folder, serve from one throw-away
PostgreSQL database. An import run with instance A's settings, an edit and a deletion made in
A's admin reach instance B's search on their own (B notices the newer generation of the
articles and rebuilds its index in the background), while a client searching B in a loop
never gets a failed or an empty answer. With -s it prints how long each took to reach B.

Needs PostgreSQL: `scripts/with-postgres .venv/bin/python -m pytest` (as `.ci/run` does) sets
KB_DATABASE_URL; the test creates its own database in that server and drops it afterwards.
Without it the module is skipped. Only 127.0.0.1 is contacted; every wait is bounded and polls.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import pytest
from test_production_server import BIN, Server, _free_port, _production_env, running

DATABASE_URL = os.environ.get("KB_DATABASE_URL", "")
if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    pytest.skip(
        "needs PostgreSQL: run under scripts/with-postgres, which sets KB_DATABASE_URL",
        allow_module_level=True,
    )
psycopg = pytest.importorskip("psycopg")

# An article every instance has from the start, and the query that must always find it.
KNOWN_QUERY = "envsubst: Argument list too long"
KNOWN_SLUG = "nginx-envsubst-argument-list-too-long"
# The article whose title and text are edited in A's admin.
EDITED_SLUG = "kubelet-max-pods"
# The article deleted in A's admin, and a query only it answers.
DELETED_SLUG = "php-upload-tmp-dir"
DELETED_QUERY = "UPLOAD_ERR_NO_TMP_DIR"
# How often each instance compares its index with the database (seconds).
CHECK_SECONDS = 1
# Generous bound for a loaded 2-core machine; the test polls and stops as soon as it holds.
# The rebuild runs in a thread of a worker that is answering the loop's searches meanwhile:
# 33 articles took 10-30 s there under a load average of 6-12; the bound is eight times that.
SWITCH_SECONDS = 240

NEW_SLUG = "lease-renewal-refused-by-quorum-proxy"
NEW_MARKER = "xquorvantlease"
NEW_ARTICLE = f"""---
title: "Lease renewal refused by the quorum proxy"
slug: {NEW_SLUG}
lang: en
summary: "A test article: leader election stalls when a proxy refuses lease renewals."
tags: [test]
---

## Symptoms {{#symptoms}}

The controller logs `{NEW_MARKER}: lease renewal refused` every few seconds and no replica
becomes the leader.

## Cause {{#cause}}

The proxy in front of the API server answers renewals of the lease with an error of its own,
so every candidate gives up its turn and waits.

## Fix {{#fix}}

Let the lease requests through the proxy unchanged, then restart one replica.
"""

EDIT_MARKER = "xmarigoldwharf"
EDITED_TITLE = f"Node pod limit reached ({EDIT_MARKER} revision)"
EDIT_PARAGRAPH = (
    f"\n\n## Edited in the admin\n\nThis paragraph, with the word {EDIT_MARKER}, was added in "
    "the admin of one instance and must be found through the other.\n"
)


@dataclass
class Instance:
    """One gunicorn instance: its server handle and its own index folder."""

    name: str
    server: Server
    index: Path
    cookies: dict[str, str] = field(default_factory=dict)

    def search(self, query: str, limit: int = 10) -> tuple[int, list[dict]]:
        status, _, body = self.server.request("GET", f"/api/search/?q={quote(query)}&limit={limit}")
        return status, json.loads(body)["results"] if status == 200 else []


# --- the database, the instances -----------------------------------------------------------


def _database_url(name: str) -> str:
    parts = urlsplit(DATABASE_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of our own in the PostgreSQL server KB_DATABASE_URL names, dropped after."""
    name = f"kb_two_instances_{os.getpid()}"
    try:
        admin = psycopg.connect(DATABASE_URL, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at KB_DATABASE_URL does not answer: {error}")
    try:
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        pytest.skip(f"cannot create a database in the PostgreSQL server: {error}")
    try:
        yield _database_url(name)
    finally:
        with psycopg.connect(DATABASE_URL, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(folder: Path, url: str, static: Path) -> dict[str, str]:
    env = _production_env(folder)
    env.update(
        {
            "KB_DATABASE_URL": url,
            "KB_STATIC_ROOT": str(static),
            "KB_INDEX_CHECK_SECONDS": str(CHECK_SECONDS),
            "KB_INDEX_SELF_HEAL": "1",
        }
    )
    return env


FORBIDDEN = (
    "Internal Server Error",
    "WORKER TIMEOUT",
    "Worker failed",
    "rebuilding the search index failed",
)


@pytest.fixture(scope="module")
def instances(tmp_path_factory, database) -> Iterator[tuple[Instance, Instance]]:
    """Instances A and B on one database, each with its own index folder, both serving."""
    root = tmp_path_factory.mktemp("two-instances")
    static = root / "static"
    made = []
    for name in ("a", "b"):
        folder = root / name
        folder.mkdir()
        env = _environment(folder, database, static)
        made.append(
            Instance(
                name,
                Server("127.0.0.1", _free_port(), env, folder / "gunicorn.log"),
                folder / "index",
            )
        )
    a, b = made
    a.server.manage("migrate", "--noinput")
    a.server.manage("import_articles", "--quiet")  # builds A's index
    b.server.manage("rebuild_index")  # B's own index, from the same database
    a.server.manage("collectstatic", "--noinput")
    for instance in made:
        assert any(instance.index.iterdir()), f"instance {instance.name} has its own index"

    with contextlib.ExitStack() as stack:
        for instance in made:
            port = instance.server.port
            argv = [str(BIN / "gunicorn"), "kb.wsgi", "--config", "gunicorn.conf.py"]
            argv += ["--bind", f"127.0.0.1:{port}", "--no-control-socket"]
            argv += ["--workers", "2", "--threads", "4"]
            stack.enter_context(running(instance.server, argv, forbidden=FORBIDDEN))
        yield a, b


# --- a client searching B in a loop --------------------------------------------------------


@dataclass
class Answer:
    sent: float  # when the request was sent
    at: float  # when its answer came
    query: str
    status: int
    slugs: list[str]
    sources: list[str]


class Hammer:
    """Threads searching one instance in a loop until stopped, keeping every answer."""

    def __init__(self, instance: Instance, queries: list[str], threads: int = 2) -> None:
        self.instance = instance
        self.queries = queries
        self.stop = threading.Event()
        self.answers: list[Answer] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)
        ]

    def _run(self, offset: int) -> None:
        count = offset
        while not self.stop.is_set() and count < 20_000:
            query = self.queries[count % len(self.queries)]
            count += 1
            sent = time.monotonic()
            try:
                status, results = self.instance.search(query)
            except Exception as error:  # noqa: BLE001 - every failure is a finding here
                with self.lock:
                    self.errors.append(f"{query}: {error!r}")
                continue
            answer = Answer(
                sent,
                time.monotonic(),
                query,
                status,
                [hit["slug"] for hit in results],
                [hit["source"] for hit in results],
            )
            with self.lock:
                self.answers.append(answer)

    def __enter__(self) -> Hammer:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def snapshot(self) -> list[Answer]:
        with self.lock:
            return list(self.answers)

    def wait_until_answering(self, count: int = 10) -> None:
        """Poll until the loop has its first answers, so the change happens under load."""
        deadline = time.monotonic() + 60
        while len(self.snapshot()) < count:
            assert not self.errors, self.errors[:5]
            assert time.monotonic() < deadline, "the search loop got no answers in 60 s"
            time.sleep(0.1)


def wait_until_found(hammer: Hammer, query: str, slug: str, since: float) -> float:
    """Poll the hammer's answers until `query` finds `slug` (from B's index); seconds taken."""
    deadline = time.monotonic() + SWITCH_SECONDS
    while True:
        for answer in hammer.snapshot():
            found = answer.at > since and answer.query == query and slug in answer.slugs
            if found and answer.sources[answer.slugs.index(slug)] == "index":
                return answer.at - since
        assert not hammer.errors, hammer.errors[:5]
        assert time.monotonic() < deadline, (
            f"{query!r} did not find {slug} on instance B within {SWITCH_SECONDS} s: "
            f"{[(a.status, a.slugs[:3]) for a in hammer.snapshot() if a.query == query][-5:]}"
        )
        time.sleep(0.2)


def wait_until_gone(hammer: Hammer, query: str, slug: str, since: float) -> float:
    """Poll the hammer's answers until `query` no longer lists `slug`; seconds taken."""
    deadline = time.monotonic() + SWITCH_SECONDS
    while True:
        for answer in hammer.snapshot():
            if answer.at > since and answer.query == query and slug not in answer.slugs:
                return answer.at - since
        assert not hammer.errors, hammer.errors[:5]
        assert time.monotonic() < deadline, f"B still lists {slug} after {SWITCH_SECONDS} s"
        time.sleep(0.2)


def assert_no_failed_or_empty_search(hammer: Hammer, query: str, slug: str, found_at: float):
    """Every answer a 200; the known query always found its article; the new one, once
    found, never lost again."""
    answers = hammer.snapshot()
    assert hammer.errors == []
    assert [a for a in answers if a.status != 200] == []
    known = [a for a in answers if a.query == KNOWN_QUERY]
    assert known, "the loop searched for the known article"
    assert [a.slugs for a in known if KNOWN_SLUG not in a.slugs] == []
    # Sent after an answer came from the new index: the swap was done, every worker sees it.
    after = [a for a in answers if a.query == query and a.sent > found_at]
    assert [a.slugs for a in after if slug not in a.slugs] == []
    return answers


def report(what: str, answers: list[Answer]) -> None:
    """Print what was measured (visible with -s): how fast, and how the searches were served."""
    fallback = sum(1 for a in answers if "database" in a.sources)
    print(f"{what}; {len(answers)} searches on B, none failed, {fallback} from the database")


# --- the admin of instance A ----------------------------------------------------------------


class _Form(HTMLParser):
    """The fields of the admin's change form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[name] = a.get("value", "on" if kind == "checkbox" else "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            self._first_option.setdefault(self._select, a.get("value", ""))
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option.get(self._select, ""))
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def _cookies_from(headers: list[tuple[str, str]], jar: dict[str, str]) -> None:
    for key, value in headers:
        if key.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]


def _admin_request(instance: Instance, method: str, path: str, form: dict | None = None):
    server = instance.server
    headers = {}
    if instance.cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in instance.cookies.items())
    body = None
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        _cookies_from(response.getheaders(), instance.cookies)
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def _admin_form(instance: Instance, path: str) -> dict[str, str]:
    status, _, page = _admin_request(instance, "GET", path)
    assert status == 200, path
    parser = _Form()
    parser.feed(page)
    return parser.fields


def _log_in_to_the_admin(instance: Instance) -> None:
    """Create an administrator (once per database) and log in to this instance's admin."""
    if instance.cookies.get("sessionid"):
        return
    password = "two-instances-admin-" + "p" * 20
    env = {**instance.server.env, "DJANGO_SUPERUSER_PASSWORD": password}
    server = Server(instance.server.host, instance.server.port, env, instance.server.log)
    server.manage("createsuperuser", "--noinput", "--username", "editor", "--email", "e@x.org")
    login = {**_admin_form(instance, "/admin/login/"), "username": "editor", "password": password}
    status, _, _ = _admin_request(instance, "POST", "/admin/login/?next=/admin/", login)
    assert status == 302 and instance.cookies.get("sessionid"), "logged in"


def _change_page(instance: Instance, slug: str) -> str:
    """The admin's change page of the English article `slug`."""
    _log_in_to_the_admin(instance)
    path = f"/admin/kb/article/?q={slug}&lang__exact=en"
    status, _, listing = _admin_request(instance, "GET", path)
    assert status == 200
    # The row whose slug column is `slug` (the page may link other articles, in a message).
    for row in re.findall(r"<tr[ >].*?</tr>", listing, re.S):
        change = re.search(r'href="(/admin/kb/article/\d+/change/)[^"]*"', row)
        if change and re.search(rf'class="field-slug">{re.escape(slug)}<', row):
            return change.group(1)
    raise AssertionError(f"no row for {slug} in the admin's list: {listing[:3000]}")


def edit_in_the_admin(instance: Instance, slug: str, title: str, append: str) -> None:
    """Change one article's title and text in the instance's admin, as an editor would."""
    change = _change_page(instance, slug)
    fields = _admin_form(instance, change)
    assert fields.get("markdown"), "the change form holds the article's text"
    fields.update({"title": title, "markdown": fields["markdown"] + append, "_save": "Save"})
    status, headers, page = _admin_request(instance, "POST", change, fields)
    assert status == 302, re.findall(r'class="errorlist[^"]*">(.*?)</ul>', page, re.S)[:5]
    assert headers["Location"].startswith("/admin/kb/article/"), headers["Location"]
    status, _, page = instance.server.request("GET", f"/articles/{slug}/")
    assert status == 200 and title in page.decode(), "saved in the database"


def delete_in_the_admin(instance: Instance, slug: str) -> None:
    """Delete one article (and its translations) in the instance's admin."""
    delete = _change_page(instance, slug).replace("/change/", "/delete/")
    fields = {**_admin_form(instance, delete), "post": "yes"}
    status, headers, _ = _admin_request(instance, "POST", delete, fields)
    assert status == 302 and headers["Location"].startswith("/admin/kb/article/"), headers
    assert instance.server.request("GET", f"/articles/{slug}/")[0] == 404, "deleted"


# --- the tests ------------------------------------------------------------------------------


def test_an_import_on_one_instance_reaches_the_others_search_with_no_failed_search(
    instances, tmp_path
):
    a, b = instances
    for instance in (a, b):
        status, results = instance.search(KNOWN_QUERY)
        assert status == 200 and results[0]["slug"] == KNOWN_SLUG
        assert results[0]["source"] == "index"
        assert instance.search(NEW_MARKER) == (200, [])

    folder = tmp_path / "new"
    folder.mkdir()
    (folder / f"{NEW_SLUG}.md").write_text(NEW_ARTICLE, encoding="utf-8")
    query = f"{NEW_MARKER}: lease renewal refused"
    with Hammer(b, [KNOWN_QUERY, query]) as hammer:
        hammer.wait_until_answering()
        started = time.monotonic()
        done = a.server.manage("import_articles", str(folder))
        assert "created" in done.stdout, done.stdout
        # A rebuilt its own index in the import.
        status, results = a.search(query)
        assert status == 200 and results[0]["slug"] == NEW_SLUG
        imported = time.monotonic()
        # B may catch up before the command ends: the rows commit before A rebuilds its index.
        seconds = wait_until_found(hammer, query, NEW_SLUG, since=started)
        time.sleep(2)  # keep searching B on its new index for a while
    answers = assert_no_failed_or_empty_search(hammer, query, NEW_SLUG, started + seconds)
    assert any(
        x.query == query and x.sent > started and NEW_SLUG not in x.slugs for x in answers
    ), "B answered from its old index while the import ran"
    report(
        f"B served the imported article {seconds:.1f} s after the import started "
        f"(the command took {imported - started:.1f} s)",
        answers,
    )
    status, results = b.search(query)
    assert status == 200 and results[0]["slug"] == NEW_SLUG and results[0]["source"] == "index"


def test_an_admin_edit_on_one_instance_reaches_the_others_search(instances):
    a, b = instances
    assert b.search(EDIT_MARKER) == (200, [])
    with Hammer(b, [KNOWN_QUERY, EDIT_MARKER]) as hammer:
        hammer.wait_until_answering()
        edit_in_the_admin(a, EDITED_SLUG, EDITED_TITLE, EDIT_PARAGRAPH)
        edited = time.monotonic()
        seconds = wait_until_found(hammer, EDIT_MARKER, EDITED_SLUG, since=edited)
        time.sleep(2)
    answers = assert_no_failed_or_empty_search(hammer, EDIT_MARKER, EDITED_SLUG, edited + seconds)
    assert any(
        x.query == EDIT_MARKER and x.sent > edited and EDITED_SLUG not in x.slugs for x in answers
    ), "B answered from its old index after the edit"
    report(f"B served the edit {seconds:.1f} s after the admin saved it", answers)
    for instance in (b, a):  # A's own index follows its admin too
        deadline = time.monotonic() + SWITCH_SECONDS
        while True:
            status, results = instance.search(EDIT_MARKER)
            assert status == 200
            if results and results[0]["source"] == "index":
                break
            assert time.monotonic() < deadline, f"instance {instance.name}: {results}"
            time.sleep(0.5)
        assert results[0]["slug"] == EDITED_SLUG
        assert results[0]["title"] == EDITED_TITLE
        status, _, page = instance.server.request("GET", f"/search/?q={quote(EDIT_MARKER)}")
        assert status == 200 and EDITED_TITLE in page.decode()


def test_an_article_deleted_on_one_instance_leaves_the_others_search(instances):
    a, b = instances
    status, results = b.search(DELETED_QUERY)
    assert status == 200 and DELETED_SLUG in [hit["slug"] for hit in results]
    with Hammer(b, [KNOWN_QUERY, DELETED_QUERY]) as hammer:
        hammer.wait_until_answering()
        delete_in_the_admin(a, DELETED_SLUG)
        deleted = time.monotonic()
        seconds = wait_until_gone(hammer, DELETED_QUERY, DELETED_SLUG, since=deleted)
        time.sleep(2)
    answers = hammer.snapshot()
    assert hammer.errors == [] and [x for x in answers if x.status != 200] == []
    assert [x.slugs for x in answers if x.query == KNOWN_QUERY and KNOWN_SLUG not in x.slugs] == []
    later = [x for x in answers if x.query == DELETED_QUERY and x.sent > deleted + seconds]
    assert [x.slugs for x in later if DELETED_SLUG in x.slugs] == []
    report(f"B dropped the deleted article {seconds:.1f} s after the admin deleted it", answers)
    status, _, _ = b.server.request("GET", f"/articles/{DELETED_SLUG}/")
    assert status == 404
