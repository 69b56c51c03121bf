"""Instructions a search page costs, old code and new code: counted by valgrind, not timed.

    git worktree add /tmp/kb-old <commit> && ln -s "$PWD/.venv" /tmp/kb-old/.venv
    .venv/bin/python bench/page_instructions.py --old /tmp/kb-old --data /path/to/var [--pages 100]

On a shared machine the CPU time of one page moves by 10-15 % from run to run with the
others' load (caches, the sibling hyperthread), more than a change that removes a tenth of
the work. `valgrind --tool=callgrind` counts the instructions a process executes, which load
does not change. Each side runs this script's page loop under callgrind twice, with no page
and with `--pages` new queries (`serving_bench.distinct_queries()`, the same slice on both
sides), after one uncounted run, so start-up (Django, the index, the troubleshooter's
causes, one warm-up page) cancels out: (with pages - without) / pages is one page's
instructions. Pages go through Django's test client, production settings (DEBUG off), the
result and diagnosis caches cleared before each page; `PYTHONHASHSEED=0` on both sides.
`--data` (an imported `kb.sqlite3` and its `index/`, such as `bench/run.py`'s var) is copied
once per side and never written.

Slow: callgrind runs Python about 50 times slower (some 4 minutes of start-up a run at
10 000 documents, then about a second a page). The two sides run one after the other.
"""

from __future__ import annotations

import argparse
import os
import re
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
import os, sys
from pathlib import Path
root, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sys.path[:0] = [sys.argv[4], str(root)]
os.chdir(root)
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)
from django.test import Client
import serving_bench
from kb.search import caches
queries = serving_bench.distinct_queries()[first:first + count]
client = Client()
assert client.get("/search/", {"q": "warm"}).status_code == 200
for query in queries:
    caches.results.clear(); caches.diagnoses.clear()
    assert client.get("/search/", {"q": query}).status_code == 200
"""

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _loop(root: Path, var: Path, pages: int, *, counted: bool) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", _PAGES, str(root), str(FIRST_QUERY), str(pages), str(BENCH)]
    if counted:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    return subprocess.run(  # noqa: S603 - valgrind, our interpreter and our own loop
        command,
        env={**os.environ, **settings_environment(var), "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        timeout=7200,
        check=False,
    )


def prepare(root: Path, var: Path) -> None:
    """One uncounted run first: the migration check and collectstatic then find nothing to
    do in both counted runs (the first collectstatic into a new var copies every file)."""
    result = _loop(root, var, 0, counted=False)
    if result.returncode != 0:
        raise SystemExit(f"page loop failed ({root}):\n{result.stderr[-2000:]}")


def instructions(root: Path, var: Path, pages: int) -> int:
    """Instructions executed by one run of the page loop under callgrind."""
    result = _loop(root, var, pages, counted=True)
    found = _COLLECTED.search(result.stderr)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed ({root}):\n{result.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--data", type=Path, required=True, help="var/ with kb.sqlite3, index/")
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)")
        return 1
    per_page = {}
    with tempfile.TemporaryDirectory(prefix="kb-instructions-") as scratch:
        for name, root in (("old", args.old.resolve()), ("new", ROOT)):
            var = Path(scratch) / name
            shutil.copytree(args.data, var, ignore=shutil.ignore_patterns("static", "*.lua"))
            prepare(root, var)
            without = instructions(root, var, 0)
            with_pages = instructions(root, var, args.pages)
            per_page[name] = (with_pages - without) / args.pages
            print(
                f"{name}: {per_page[name] / 1e6:.1f} M instructions a page "
                f"({with_pages:,} with {args.pages} pages, {without:,} without) {root}",
                flush=True,
            )
    print(f"new / old: {per_page['new'] / per_page['old']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
