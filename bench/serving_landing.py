"""How wrk's keep-alive connections land on gunicorn's two workers: old code against new.

    .venv/bin/python bench/serving_landing.py --old /tmp/kb-old --data /path/to/var \
        [--trials 25] [--rounds 2] [--busy]

wrk opens its eight keep-alive connections in one burst; a worker keeps every connection it
accepts. A row of `bench/serving_bench.py` where one worker took them all measures one worker
(its `LOPSIDED` flag). This bench repeats short wrk runs (2 s, 8 connections, every query new)
against one gunicorn per side, started as `bench/serving_bench.py` starts it, and counts per
run the share of requests the less busy worker answered (gunicorn's access log carries the
pid). A run is lopsided when that share is under 10 %. `--busy` keeps one core busy with a
spinning process during the runs, like the shared machine under other engineers' tests. The
sides take turns, `--rounds` times; `--data` is copied once per side and never written.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from common import settings_environment

BENCH = Path(__file__).resolve().parent

_SIDE = r"""
import collections, os, signal, subprocess, sys
from pathlib import Path
root, var, trials, busy = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sys.path[:0] = [sys.argv[5], str(root)]
os.chdir(root)
import django
django.setup()
import serving_bench as sb
sb.ROOT = root
port = sb._free_port()
base = f"http://127.0.0.1:{port}"
access = var / "landing-access.log"
argv = [str(root / ".venv" / "bin" / "gunicorn")]
if (root / "gunicorn.conf.py").exists():
    argv += ["--config", str(root / "gunicorn.conf.py")]
argv += ["kb.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--no-control-socket",
         "--log-level", "warning", "--access-logfile", str(access),
         "--access-logformat", sb._ACCESS_FORMAT]
proc = subprocess.Popen(argv, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        start_new_session=True)
spinner = None
try:
    sb._wait_ready(base, proc)
    queries = sb.distinct_queries()
    warm = var / "landing-warm.lua"
    sb._search_script(warm, queries[:200], threads=2)
    sb._wrk(base + "/", warm, seconds=2)
    _, offset = sb._access_lines(access, 0)
    if busy == "busy":
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    for t in range(trials):
        script = var / f"landing-{t}.lua"
        sb._search_script(script, queries[300 + t * 150 : 300 + (t + 1) * 150], threads=2)
        sb._wrk(base + "/", script, seconds=2)
        lines, offset = sb._access_lines(access, offset)
        per_worker = collections.Counter(line.split()[1] for line in lines if line.strip())
        print("RUN", *sorted(per_worker.values()), flush=True)
finally:
    if spinner is not None:
        spinner.kill()
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(20)
"""


def _side(root: Path, data: Path, trials: int, *, busy: bool) -> list[list[int]]:
    """One gunicorn of `root`'s code over a copy of `data`: requests per worker, per run."""
    with tempfile.TemporaryDirectory(prefix="kb-landing-") as tmp:
        var = Path(tmp) / "var"
        shutil.copytree(data, var)
        env = {**os.environ, **settings_environment(var), "PYTHONPATH": str(root)}
        out = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _SIDE, str(root), str(var), str(trials)]
            + ["busy" if busy else "idle", str(BENCH)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60 + trials * 10,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(out.stderr[-3000:])
    runs = []
    for line in out.stdout.splitlines():
        if line.startswith("RUN"):
            counts = [int(x) for x in line.split()[1:]]
            runs.append(([0] if len(counts) < 2 else []) + counts)
    return runs


def _summary(runs: list[list[int]]) -> str:
    shares = [min(r) / sum(r) if sum(r) else 0.0 for r in runs]
    lopsided = sum(1 for s in shares if s < 0.10)
    requests = sum(sum(r) for r in runs)
    mean = sum(shares) / len(shares) if shares else float("nan")
    return (
        f"lopsided {lopsided} of {len(runs)} runs; the less busy worker's mean share "
        f"{mean:.2f}; {requests} requests"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--data", type=Path, required=True, help="var/ with kb.sqlite3, index/")
    parser.add_argument("--trials", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--busy", action="store_true", help="one core kept busy meanwhile")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    totals: dict[str, list[list[int]]] = collections.defaultdict(list)
    for round_ in range(1, args.rounds + 1):
        for name, root in (("old", args.old.resolve()), ("new", BENCH.parent)):
            load = os.getloadavg()[0]
            runs = _side(root, args.data, args.trials, busy=args.busy)
            totals[name] += runs
            print(f"[{name}, round {round_}] load {load:.1f}: {_summary(runs)}", flush=True)
    for name in ("old", "new"):
        print(f"{name}, all rounds: {_summary(totals[name])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
