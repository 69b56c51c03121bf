"""Serving, old code and new code side by side: `bench/serving_bench.py` against two checkouts.

    .venv/bin/python bench/serving_oldnew.py --old /tmp/kb-main --data /path/to/var [--rounds 2]

`--old` is a checkout of the code to compare with (`git worktree add /tmp/kb-main <commit>`,
with `.venv` linked into it); the new code is this checkout. `--data` is a folder holding an
imported database (`kb.sqlite3`) and its index (`index/`), such as the `var/` that
`bench/run.py` builds; it is copied once per side and never written. After a schema change
give the old side its own (`--old-data`, the same database with the old code's index), or it
would serve while it rebuilds. The rows alternate (old,
new, old, new...) with the same serving benchmark, queries and settings on both sides, and
each row prints the load average: on a shared machine only the comparison within one run
means something.

Then, for the same queries, the CPU time of one uncached search page (split into the search,
the diagnosis, the rendering and the rest) and of
`search_articles` alone, in one thread of each side (`--floor`): what two cores could serve
at most if nothing but that work ran. The pages and `search_articles` alone run in two
processes, one after the other: in one process the second of them would meet the posting
blocks of common words the first decoded for the same query (kb/search/reading.py keeps
them), and look cheaper than it is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import settings_environment

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

_SIDE = r"""
import os, sys, time
from pathlib import Path
root, var, seconds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
sys.path[:0] = [sys.argv[4], str(root)]
os.chdir(root)
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)
import serving_bench
from common import Results
serving_bench.ROOT = root
serving_bench.run(Results(), workdir=var, seconds=seconds)
"""

_FLOOR = r"""
import os, sys, time, statistics
from pathlib import Path
root, alone = Path(sys.argv[1]), sys.argv[3] == "search"
sys.path[:0] = [sys.argv[2], str(root)]
os.chdir(root)
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)
from django.test import Client
import serving_bench
from kb.search import caches, search_articles
from kb import views
queries = serving_bench.distinct_queries()[1000:1200]
client = Client()
client.get("/search/", {"q": "warm"})
# Where a page's CPU goes: the view's three calls timed from outside (the rest is middleware,
# the request and the view's own lines).
parts = {"search": 0.0, "diagnosis": 0.0, "render": 0.0}
def timed(name, fn):
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            parts[name] += time.process_time() - started
    return wrapper
views.search_articles = timed("search", views.search_articles)
views._cause = timed("diagnosis", views._cause)
views.render = timed("render", views.render)
times = []
for query in queries:
    caches.results.clear(); caches.diagnoses.clear()
    started = time.process_time()
    if alone:
        search_articles(query, limit=10)
    else:
        response = client.get("/search/", {"q": query})
    times.append((time.process_time() - started) * 1000)
    assert alone or response.status_code == 200, response.status_code
if not alone:
    split = {name: total * 1000 / len(times) for name, total in parts.items()}
    split["rest"] = statistics.mean(times) - sum(split.values())
    print("  the page's CPU, mean per page: "
          + ", ".join(f"{k} {v:.2f} ms" for k, v in split.items()))
name = "search_articles alone" if alone else "whole search page"
times.sort()
mean = statistics.mean(times)
print(f"  {name:<22} CPU mean {mean:.1f} ms, p50 {times[len(times) // 2]:.1f}, "
      f"p95 {times[int(len(times) * 0.95)]:.1f}: at most {2000 / mean:.0f} req/s on 2 cores, "
      f"load average {os.getloadavg()[0]:.1f}")
"""


def _environment(var: Path) -> dict[str, str]:
    return {**os.environ, **settings_environment(var)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--data", type=Path, required=True, help="var/ with kb.sqlite3, index/")
    parser.add_argument(
        "--old-data",
        type=Path,
        default=None,
        help="the old side's var/ when it needs another index (a schema change); else --data",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--floor", action="store_true", help="also the CPU per page (module doc)")
    args = parser.parse_args(argv)
    python = str(ROOT / ".venv" / "bin" / "python")
    scratch = Path(tempfile.mkdtemp(prefix="kb-serving-oldnew-"))
    try:
        sides = {}
        old_data = args.old_data or args.data
        for name, root, data in (("old", args.old.resolve(), old_data), ("new", ROOT, args.data)):
            var = scratch / name
            shutil.copytree(data, var, ignore=shutil.ignore_patterns("static", "*.lua"))
            sides[name] = (root, var)
        for round_ in range(1, args.rounds + 1):
            for name, (root, var) in sides.items():
                print(f"\n[{name}, round {round_}] {root}", flush=True)
                subprocess.run(  # noqa: S603 - our own interpreter and benchmark
                    [python, "-c", _SIDE, str(root), str(var), str(args.seconds), str(BENCH)],
                    env=_environment(var),
                    timeout=args.seconds * 6 + 300,
                    check=False,
                )
        if args.floor:
            for name, (root, var) in sides.items():
                print(f"\n[{name}, CPU per uncached page, one thread] {root}", flush=True)
                for what in ("page", "search"):  # each in a process of its own
                    subprocess.run(  # noqa: S603 - our own interpreter and benchmark
                        [python, "-c", _FLOOR, str(root), str(BENCH), what],
                        env=_environment(var),
                        timeout=1200,
                        check=False,
                    )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
