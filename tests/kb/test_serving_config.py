"""gunicorn.conf.py loads with and without the malloc arena limit, and refuses nonsense."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


@pytest.mark.parametrize("arenas", ["0", "2", "4"])
def test_the_config_loads_with_any_arena_limit(monkeypatch, arenas):
    monkeypatch.setenv("KB_MALLOC_ARENAS", arenas)
    config = runpy.run_path(str(CONFIG))
    assert config["worker_class"] == "kb.serving.DeadlineThreadWorker"
    assert config["threads"] >= 1


def test_a_process_with_two_arenas_still_allocates_from_many_threads():
    # In a fresh interpreter: the limit applies to the whole process from then on.
    code = (
        "import runpy, threading, sys\n"
        f"runpy.run_path({str(CONFIG)!r})\n"
        "out = []\n"
        "def work():\n"
        "    out.append(sum(len(bytes(1000)) for _ in range(2000)))\n"
        "threads = [threading.Thread(target=work) for _ in range(16)]\n"
        "[t.start() for t in threads]\n"
        "[t.join(30) for t in threads]\n"
        "sys.exit(0 if out == [2000000] * 16 else 1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"KB_MALLOC_ARENAS": "2", "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0


def test_a_limit_that_is_not_a_number_stops_the_server(monkeypatch):
    monkeypatch.setenv("KB_MALLOC_ARENAS", "two")
    with pytest.raises(ValueError, match="two"):
        runpy.run_path(str(CONFIG))
