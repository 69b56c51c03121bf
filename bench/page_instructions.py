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

`--phases` then counts each side once more with the page's phases (PHASES: the engine,
the AND walk, the snippets, the diagnosis, the rendering...) each called through a C
function of its own (`phase_<name>`, in the same library as the marks), and prints
callgrind's inclusive count of each of those functions: the instructions of that phase,
a page, old and new. Python's own functions are one interpreter loop to callgrind, so it
cannot tell them apart otherwise. A phase the code lacks is left out. Each call through a
phase costs about 2 k instructions inside it and 9 k in the phase around it (ctypes), so
phases called many times a page read a little high.

The uncounted run before them writes each side's `--pages` pages (their bytes, CSRF tokens
blanked), and the two sides' pages are compared: "pages identical" says whether a change
kept every byte of every page.

Slow: callgrind runs Python about 50 times slower (about a second a page at 10 000
documents).
"""

from __future__ import annotations

import argparse
import json
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

# The page's phases for `--phases`: (name, module, function or Class.method). Nested
# phases (the AND walk inside the engine) are counted inside their parent too.
PHASES = (
    ("search", "kb.views", "search_articles"),
    ("shaping", "kb.search.lookup", "build_query"),
    ("engine", "kb.search.lookup", "top_hits"),
    ("term_setup", "kb.search.union", "_Lean.leaf"),
    ("and_walk", "kb.search.union", "_common_postings"),
    ("term_scores", "kb.search.union", "_add_term"),
    ("top_n", "kb.search.union", "SparseArrayUnionMatcher.top"),
    ("stored", "kb.search.lookup", "_first_articles"),
    ("sections", "kb.search.lookup", "_pointed"),
    ("snippet", "kb.search.snippets", "snippet_at"),
    ("diagnosis", "kb.views", "_cause"),
    ("render", "kb.views", "render"),
)
# A phase's function calls back into Python; the inner function is never inlined, so
# callgrind sees a call into it (a call made by libffi straight into the outer one is
# not told apart from libffi's own code).
_PHASE_C = r"""
__attribute__((noinline)) void phase_{0}(void (*f)(void)) {{ f(); __asm__ volatile(""); }}
void kb_phase_{0}(void (*f)(void)) {{ phase_{0}(f); __asm__ volatile(""); }}
"""

_PAGES = r"""
import ctypes, functools, importlib, json, os, sys
from pathlib import Path
root, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sys.path[:0] = [sys.argv[4], str(root)]
marks = ctypes.CDLL(sys.argv[5])
os.chdir(root)
import django
django.setup()
phases = json.loads(os.environ.get("KB_COUNT_PHASES", "[]"))
calls = {}
callback = ctypes.CFUNCTYPE(None)

def through(name, function):
    entry = getattr(marks, "kb_phase_" + name)
    entry.argtypes = [callback]
    calls[name] = 0

    @functools.wraps(function)
    def phase(*args, **kwargs):
        calls[name] += 1
        result, error = [], []

        def run():
            try:
                result.append(function(*args, **kwargs))
            except BaseException as raised:
                error.append(raised)

        entry(callback(run))
        if error:
            raise error[0]
        return result[0]

    return phase

for name, module, attribute in phases:
    owner = importlib.import_module(module)
    *path, last = attribute.split(".")
    for part in path:
        owner = getattr(owner, part, None)
    if owner is not None and hasattr(owner, last):
        setattr(owner, last, through(name, getattr(owner, last)))
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
calls.update(dict.fromkeys(calls, 0))  # the warm-up page's calls are not counted
marks.kb_count_start()
for query in queries:
    caches.results.clear(); caches.diagnoses.clear()
    pages.append(client.get("/search/", {"q": query}).status_code)
marks.kb_count_stop()
assert pages == [200] * len(queries), pages
if phases:  # how many times each phase ran, for `--phases`
    Path(os.environ["KB_COUNT_CALLS"]).write_text(json.dumps(calls), encoding="utf-8")
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
    phases = "".join(_PHASE_C.format(name) for name, _, _ in PHASES)
    source.write_text(_MARKS_C + phases, encoding="utf-8")
    subprocess.run(  # noqa: S603 - the system's C compiler on our own source
        [shutil.which("cc") or "cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)],
        check=True,
    )
    return library


def _loop(  # noqa: PLR0913
    root: Path,
    var: Path,
    pages: int,
    marks: Path,
    *,
    counted: bool,
    bodies: Path | None = None,
    profile: Path | None = None,
) -> subprocess.CompletedProcess:
    """The page loop of `root`'s code on `var`; under callgrind when `counted`. With
    `profile`, the loop's phases are counted (`--phases`): callgrind's output is written
    there, each phase's calls beside it (`.calls`)."""
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
            f"--callgrind-out-file={profile or '/dev/null'}",
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
    if profile is not None:
        environment["KB_COUNT_PHASES"] = json.dumps(PHASES)
        environment["KB_COUNT_CALLS"] = f"{profile}.calls"
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


def phases(side: str, root: Path, var: Path, pages: int, marks: Path) -> dict[str, tuple[int, int]]:
    """{phase: (instructions, calls)} of the page loop's `pages` pages, each phase counted
    inclusively through its C function (`--phases`)."""
    profile = marks.parent / f"phases-{side}.out"
    result = _loop(root, var, pages, marks, counted=True, profile=profile)
    if result.returncode != 0:
        raise SystemExit(f"callgrind run failed ({root}):\n{result.stderr[-2000:]}")
    listing = subprocess.run(  # noqa: S603 - valgrind's own reader of its output
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(profile)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    calls = json.loads(Path(f"{profile}.calls").read_text(encoding="utf-8"))
    found = {}
    for line in listing.splitlines():
        # "  123,456 (12.34%)  /path/marks.c:phase_engine [/path/marks.so]"
        counted = re.match(r"\s*([\d,]+)\s.*:phase_(\w+) \[", line)
        if counted and counted.group(2) in calls:
            found[counted.group(2)] = (
                int(counted.group(1).replace(",", "")),
                calls[counted.group(2)],
            )
    return found


def print_phases(counts: dict[str, dict[str, tuple[int, int]]], pages: int) -> None:
    """One line a phase: M instructions a page and calls a page, old and new."""
    print(f"{'phase':<12} {'old M/page':>10} {'calls':>6} {'new M/page':>10} {'calls':>6}")
    for name, _, _ in PHASES:
        cells = []
        for side in ("old", "new"):
            instructions, calls = counts[side].get(name, (0, 0))
            cells.append(
                f"{instructions / pages / 1e6:>10.2f} {calls / pages:>6.1f}" if calls else " " * 17
            )
        print(f"{name:<12} {cells[0]} {cells[1]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--data", type=Path, required=True, help="var/ with kb.sqlite3, index/")
    parser.add_argument("--pages", type=int, default=100, help="new queries counted a run")
    parser.add_argument("--repeat", type=int, default=1, help="counted runs a side, in turns")
    parser.add_argument("--phases", action="store_true", help="count the page's phases too")
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
        if args.phases:
            print_phases(
                {
                    name: phases(name, root, var, args.pages, marks)
                    for name, (root, var) in sides.items()
                },
                args.pages,
            )
    old, new = min(counts["old"]), min(counts["new"])
    print(f"old {old / 1e6:.2f} M, new {new / 1e6:.2f} M a page (least of each side's runs)")
    print(f"new / old: {new / old:.3f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
