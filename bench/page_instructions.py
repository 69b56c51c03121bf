"""Instructions a search page costs, old code and new code: counted by valgrind, not timed.

    git worktree add /tmp/kb-old <commit> && ln -s "$PWD/.venv" /tmp/kb-old/.venv
    .venv/bin/python bench/page_instructions.py --old /tmp/kb-old --data /path/to/var [--pages 100]

On a shared machine the CPU time of one page moves by 10-15 % from run to run with the
others' load (caches, the sibling hyperthread), more than a change that removes a tenth of
the work. `valgrind --tool=callgrind` counts the instructions a process executes, which load
does not change. Each side runs this script's page loop under callgrind with `--pages` new
queries (`serving_bench.distinct_queries()`, the same slice on both sides), after one
uncounted run. Pages go through Django's test client, production settings (DEBUG off), the
result and diagnosis caches cleared before each page; `PYTHONHASHSEED=0` on both sides.
`--data` (an imported `kb.sqlite3` and its `index/`, such as `bench/run.py`'s var) is copied
once per side and never written. Each side's copy then gets the index of its own schema
version from the same database (`rebuild_index --if-changed`: a side whose schema is the
copied index's keeps it, the other builds its own from the same documents), before anything
is counted; the size of each side's index folder is printed.

Only the page loop is counted. The loop tells callgrind where it starts and ends through
callgrind's client requests (`valgrind/callgrind.h`, compiled here into a small library that
the loop calls through ctypes): collection is off at start (`--collect-atstart=no`), the
loop switches it on before its first page and off after its last, so start-up (Django, the
index, the troubleshooter's causes, one warm-up page) is never counted. Counting start-up
and subtracting a run without pages, as this script did before, left a difference that
moved by about 270 M instructions between identical runs (3 M a page over 100 pages). The
start-up also runs without instrumentation (`--instr-atstart=no`), several times faster.
The index's freshness check, which follows the wall clock (every KB_INDEX_CHECK_SECONDS,
and valgrind runs slower than the machine), is left to the warm-up page
(KB_INDEX_CHECK_SECONDS set past the run's length), so it never falls inside the count.
`--repeat N` counts each side N times, taking turns, to show how far a count moves.

The uncounted run before them writes each side's `--pages` pages (their bytes, CSRF tokens
blanked), and the two sides' pages are compared: "pages identical" says whether a change
kept every byte of every page.

Slow: callgrind runs Python about 50 times slower (about a second a page at 10 000
documents).
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

# The loop's two marks: callgrind's client requests are a special instruction sequence that
# only its header's macros produce, so they are compiled into a function each.
_MARKS_C = r"""
#include <valgrind/callgrind.h>
void kb_count_start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT; }
void kb_count_stop(void) { CALLGRIND_TOGGLE_COLLECT; }
"""

_PAGES = r"""
import ctypes, os, sys
from pathlib import Path
root, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sys.path[:0] = [sys.argv[4], str(root)]
marks = ctypes.CDLL(sys.argv[5])
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
pages = []
marks.kb_count_start()
for query in queries:
    caches.results.clear(); caches.diagnoses.clear()
    pages.append(client.get("/search/", {"q": query}).status_code)
marks.kb_count_stop()
assert pages == [200] * len(queries), pages
if len(sys.argv) > 6:  # the uncounted run: each page's bytes, its CSRF tokens blanked
    import re
    token = re.compile(rb'(name="csrfmiddlewaretoken" value="|"x-csrftoken": ")[^"]*')
    with open(sys.argv[6], "wb") as out:
        for query in queries:
            caches.results.clear(); caches.diagnoses.clear()
            body = Client().get("/search/", {"q": query}).content
            out.write(token.sub(rb"\1", body) + b"\n\0\n")
"""

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")
# Longer than any counted run: the freshness check runs on the warm-up page only.
_CHECK_SECONDS = "86400"


def compile_marks(folder: Path) -> Path:
    """The shared library holding the loop's marks (needs a C compiler and valgrind's
    headers, which Debian's valgrind package installs)."""
    source, library = folder / "marks.c", folder / "marks.so"
    source.write_text(_MARKS_C, encoding="utf-8")
    subprocess.run(  # noqa: S603 - the system's C compiler on our own source
        [shutil.which("cc") or "cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)],
        check=True,
    )
    return library


def _loop(
    root: Path, var: Path, pages: int, marks: Path, *, counted: bool, bodies: Path | None = None
) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-c",
        _PAGES,
        str(root),
        str(FIRST_QUERY),
        str(pages),
        str(BENCH),
        str(marks),
        *([str(bodies)] if bodies is not None else []),
    ]
    if counted:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--instr-atstart=no",
            "--collect-atstart=no",
            *command,
        ]
    environment = {
        **os.environ,
        **settings_environment(var),
        "PYTHONHASHSEED": "0",
        "KB_INDEX_CHECK_SECONDS": _CHECK_SECONDS,
    }
    return subprocess.run(  # noqa: S603 - valgrind, our interpreter and our own loop
        command, env=environment, capture_output=True, text=True, timeout=7200, check=False
    )


def index_for_side(root: Path, var: Path) -> int:
    """Build the index of `root`'s schema version from `var`'s database when `var` lacks it
    (`rebuild_index --if-changed`); return the bytes of that side's index folder."""
    result = subprocess.run(  # noqa: S603 - our interpreter and that side's manage.py
        [sys.executable, "manage.py", "rebuild_index", "--if-changed"],
        cwd=root,
        env={**os.environ, **settings_environment(var)},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"index rebuild failed ({root}):\n{result.stderr[-2000:]}")
    # The index of a schema version is `v<N>`: a link to the folder of its latest rebuild.
    folders = [path for path in (var / "index").iterdir() if re.fullmatch(r"v\d+", path.name)]
    return sum(
        item.stat().st_size
        for folder in folders
        for item in folder.resolve().iterdir()
        if item.is_file()
    )


def prepare(root: Path, var: Path, marks: Path, pages: int, bodies: Path) -> None:
    """One uncounted run first: the migration check and collectstatic then find nothing to
    do in the counted runs (the first collectstatic into a new var copies every file).

    It also writes the bytes of the `pages` pages the counted runs ask for into `bodies`
    (each page asked again from a client without cookies, the caches cleared first), every
    CSRF token blanked: a token is random on every page. `main` compares the two sides."""
    result = _loop(root, var, pages, marks, counted=False, bodies=bodies)
    if result.returncode != 0:
        raise SystemExit(f"page loop failed ({root}):\n{result.stderr[-2000:]}")


def instructions(root: Path, var: Path, pages: int, marks: Path) -> int:
    """Instructions executed by the page loop's `pages` pages under callgrind."""
    result = _loop(root, var, pages, marks, counted=True)
    found = _COLLECTED.search(result.stderr)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed ({root}):\n{result.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--data", type=Path, required=True, help="var/ with kb.sqlite3, index/")
    parser.add_argument("--pages", type=int, default=100, help="new queries counted a run")
    parser.add_argument("--repeat", type=int, default=1, help="counted runs a side, in turns")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)")
        return 1
    counts: dict[str, list[float]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory(prefix="kb-instructions-") as scratch:
        marks = compile_marks(Path(scratch))
        sides = {}
        for name, root in (("old", args.old.resolve()), ("new", ROOT)):
            var = Path(scratch) / name
            shutil.copytree(
                args.data, var, symlinks=True, ignore=shutil.ignore_patterns("static", "*.lua")
            )
            size = index_for_side(root, var)
            print(f"{name}: index folder {size / 1e6:.1f} MB", flush=True)
            prepare(root, var, marks, args.pages, Path(scratch) / f"{name}.pages")
            sides[name] = (root, var)
        old_pages, new_pages = (
            (Path(scratch) / f"{name}.pages").read_bytes() for name in ("old", "new")
        )
        same = old_pages == new_pages
        print(
            f"pages identical (CSRF tokens blanked): {'yes' if same else 'NO'}, "
            f"{old_pages.count(b'</html>')} pages, {len(new_pages):,} bytes",
            flush=True,
        )
        for run in range(1, args.repeat + 1):
            for name, (root, var) in sides.items():
                counted = instructions(root, var, args.pages, marks)
                counts[name].append(counted / args.pages)
                print(
                    f"{name}, run {run}: {counted / args.pages / 1e6:.2f} M instructions a page "
                    f"({counted:,} for {args.pages} pages) {root}",
                    flush=True,
                )
    old, new = min(counts["old"]), min(counts["new"])
    print(f"old {old / 1e6:.2f} M, new {new / 1e6:.2f} M a page (least of each side's runs)")
    print(f"new / old: {new / old:.3f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
