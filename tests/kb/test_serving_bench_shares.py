"""The serving bench's per-worker figures: requests from the access log, CPU from /proc.

A row where every wrk connection landed on one worker measures one worker; the bench must say
so (bench/serving_bench.py, WorkerShares). Real processes stand in for gunicorn's master and
workers: a parent that starts two children, one of which burns CPU.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# A "master" with two "workers": the first spins for argv[1] seconds of CPU, the second sleeps.
_SPIN = "import time, sys\nend = time.process_time() + float(sys.argv[1])\n" + (
    "while time.process_time() < end: pass\ntime.sleep(60)"
)
_MASTER = r"""
import subprocess, sys, time
busy = subprocess.Popen([sys.executable, "-c", sys.argv[2], sys.argv[1]])
idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(busy.pid, idle.pid, flush=True)
time.sleep(60)
"""


@pytest.fixture
def serving_bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import serving_bench

    return serving_bench


@pytest.fixture
def master():
    proc = subprocess.Popen(
        [sys.executable, "-c", _MASTER, "0.6", _SPIN], stdout=subprocess.PIPE, text=True
    )
    busy, idle = (int(pid) for pid in proc.stdout.readline().split())
    try:
        yield proc.pid, busy, idle
    finally:
        for pid in (busy, idle):
            subprocess.run(["kill", str(pid)], check=False)
        proc.kill()
        proc.wait(timeout=10)


def _lines(counts: dict[int, int]) -> list[str]:
    return [f"20000 <{pid}> /search/" for pid, n in counts.items() for _ in range(n)]


def test_a_row_with_one_idle_worker_is_flagged(serving_bench, master):
    master_pid, busy, idle = master
    shares = serving_bench.WorkerShares(master_pid)
    assert shares.workers == sorted([busy, idle])
    deadline = time.monotonic() + 60  # the busy child spins 0.6 s of CPU, however loaded
    while serving_bench._cpu_seconds(busy) < 0.6 and time.monotonic() < deadline:
        time.sleep(0.05)
    summary = shares.summary(_lines({busy: 30, idle: 0}))
    assert "LOPSIDED" in summary
    # 30 requests answered, about 0.6 s of CPU between them: about 20 ms a request.
    per_request = float(summary.split("workers' CPU ")[1].split(" ms")[0])
    assert 5 < per_request < 60
    assert "at most" in summary


def test_a_row_shared_by_both_workers_is_not_flagged(serving_bench, master):
    master_pid, busy, idle = master
    shares = serving_bench.WorkerShares(master_pid)
    summary = shares.summary(_lines({busy: 16, idle: 14}))
    assert "LOPSIDED" not in summary
    assert summary.startswith("requests per worker: ")
    assert "16 (" in summary and "14 (" in summary


def test_the_access_log_format_carries_the_worker(serving_bench):
    # gunicorn writes %(p)s as <pid>: the shares are read from that field.
    assert "%(p)s" in serving_bench._ACCESS_FORMAT
    assert serving_bench._times(["1500 <42> /search/", "garbage", "250 <43> /api/search/"]) == [
        1.5,
        0.25,
    ]
