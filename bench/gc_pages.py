"""The garbage collector's share of a search page, with and without freezing the warm heap.

    .venv/bin/python bench/gc_pages.py --data /path/to/var [--pages 500] [--rounds 2]

One code, two settings, the same work: each round starts two fresh processes that warm up the
way a gunicorn worker does (`kb.views.warm_search_page`), one of them then freezing what the
warm-up built (`kb.heap.freeze_warm_objects`, as gunicorn.conf.py does), and both serve the
same `--pages` new queries through Django's test client with production settings (DEBUG off),
the result and diagnosis caches cleared before each page, `PYTHONHASHSEED=0`. The collector's
own time is read from `gc.callbacks` (start and stop of every collection, by generation), so
that figure does not depend on the load of the machine the way the process's CPU a page does;
both are printed. `--data` (an imported `kb.sqlite3` and its `index/`) is copied once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import settings_environment

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
FIRST_QUERY = 2000  # past the queries other benchmarks use first

_PAGES = r"""
import gc, json, os, sys, time
root, first, count, freeze = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
sys.path[:0] = [sys.argv[5], root]
os.chdir(root)
import django
django.setup()
from django.test import Client
import serving_bench
from kb.search import caches
from kb.views import warm_search_page
queries = serving_bench.distinct_queries()[first:first + count]
warm_search_page()
client = Client()
assert client.get("/search/", {"q": "warm"}).status_code == 200
if freeze:
    from kb.heap import freeze_warm_objects
    freeze_warm_objects()
spent, runs, began = [0.0] * 3, [0] * 3, [0.0]
def watch(phase, info):
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        spent[info["generation"]] += time.perf_counter() - began[0]
        runs[info["generation"]] += 1
gc.callbacks.append(watch)
cpu = time.process_time()
for query in queries:
    caches.results.clear(); caches.diagnoses.clear()
    assert client.get("/search/", {"q": query}).status_code == 200
cpu = time.process_time() - cpu
gc.callbacks.remove(watch)
print(json.dumps({"cpu": cpu, "spent": spent, "runs": runs, "frozen": gc.get_freeze_count()}))
"""


def run_side(var: Path, pages: int, *, freeze: bool) -> dict:
    environment = {**os.environ, **settings_environment(var), "PYTHONHASHSEED": "0"}
    environment["KB_INDEX_CHECK_SECONDS"] = "86400"  # no freshness check inside the loop
    command = [sys.executable, "-c", _PAGES, str(ROOT), str(FIRST_QUERY), str(pages)]
    command += ["1" if freeze else "0", str(BENCH)]
    result = subprocess.run(  # noqa: S603 - our interpreter and our own loop
        command, env=environment, capture_output=True, text=True, timeout=3600, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"page loop failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="var/ with kb.sqlite3, index/")
    parser.add_argument("--pages", type=int, default=500, help="new queries a process")
    parser.add_argument("--rounds", type=int, default=2, help="pairs of processes, in turns")
    args = parser.parse_args(argv)
    totals = {False: [0.0, 0.0, 0], True: [0.0, 0.0, 0]}  # cpu, collector, full collections
    with tempfile.TemporaryDirectory(prefix="kb-gc-") as scratch:
        var = Path(scratch) / "var"
        shutil.copytree(args.data, var, ignore=shutil.ignore_patterns("static", "*.lua"))
        subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
            env={**os.environ, **settings_environment(var)},
            check=True,
        )
        for round_ in range(1, args.rounds + 1):
            for freeze in (False, True):
                side = run_side(var, args.pages, freeze=freeze)
                pages = args.pages
                total = totals[freeze]
                total[0] += side["cpu"]
                total[1] += sum(side["spent"])
                total[2] += side["runs"][2]
                by_generation = ", ".join(
                    f"gen {g} {side['spent'][g] / pages * 1000:.3f} ms ({side['runs'][g]} runs)"
                    for g in range(3)
                )
                print(
                    f"round {round_} {'frozen' if freeze else 'plain '}: "
                    f"CPU {side['cpu'] / pages * 1000:.2f} ms a page; collector {by_generation}; "
                    f"{side['frozen']} objects frozen",
                    flush=True,
                )
    pages = args.pages * args.rounds
    plain, frozen = totals[False], totals[True]
    print(
        f"collector a page: {frozen[1] / pages * 1000:.3f} ms frozen against "
        f"{plain[1] / pages * 1000:.3f} ms plain; full collections {frozen[2]} against "
        f"{plain[2]}; CPU a page {frozen[0] / pages * 1000:.2f} against "
        f"{plain[0] / pages * 1000:.2f} ms ({frozen[0] / plain[0]:.3f}×, load-dependent)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
