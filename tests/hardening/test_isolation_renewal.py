"""The analysis children are renewed in the background (kb/isolation.py), under real gunicorn.

One worker, renewal after every 5 heavy requests: a stream of small analyses keeps being
answered while the children are replaced, the replaced children exit, and a fresh child is
at work.
"""

from __future__ import annotations

import time
from pathlib import Path

from test_slow_and_heavy_clients import alive, children_of, make_serve

SMALL = (
    b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
    b"    spec:\n      containers:\n        - {name: web, image: nginx:1.27}\n"
)
YAML = {"Content-Type": "application/yaml"}


def analysis_children(worker: int) -> set[int]:
    """The worker's spawned analysis children (not multiprocessing's resource tracker)."""
    found = set()
    for pid in children_of(worker):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command and alive(pid):
            found.add(pid)
    return found


def wait_for(predicate, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def test_children_are_replaced_in_the_background_and_every_request_is_answered(tmp_path):
    with make_serve(tmp_path, KB_WORKERS="1", KB_HEAVY_RENEW_AFTER_TASKS="5") as server:
        workers = wait_for(lambda: children_of(server.arbiter_pid), 30)
        assert len(workers) == 1
        worker = workers[0]
        first = wait_for(lambda: analysis_children(worker), 60)
        assert first, "the worker starts its analysis child at start-up"

        answers = []
        seen = set(first)
        for _ in range(30):
            status, _, body = server.request("POST", "/api/analyze/", SMALL, YAML)
            answers.append((status, body[:200]))
            seen |= analysis_children(worker)
        assert all(status == 200 for status, _ in answers), answers

        # Thirty requests, renewal due every five: fresh children were started...
        assert seen - first, "no child was ever replaced"
        # ...and the first ones, once replaced, exited rather than lingering.
        assert wait_for(lambda: not any(alive(pid) for pid in first), 30), first
        # One child is at work (a renewal may be warming a second one), and it answers.
        assert 1 <= len(analysis_children(worker)) <= 2
        status, _, _ = server.request("POST", "/api/analyze/", SMALL, YAML)
        assert status == 200
    log = (tmp_path / "gunicorn.log").read_text(encoding="utf-8", errors="replace")
    assert "did not start" not in log and "warming an analysis child failed" not in log
