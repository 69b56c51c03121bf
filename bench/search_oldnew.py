"""Search, old code and new side by side on one imported corpus, taking turns query by query.

    git worktree add /tmp/search-old <old commit> && ln -s "$PWD/.venv" /tmp/search-old/.venv
    .venv/bin/python bench/search_oldnew.py --old /tmp/search-old --var <var> --queries <pkl>

`<var>` is a folder with `kb.sqlite3` and `index/` (as `bench/run.py search` leaves them, or a
copy), `<pkl>` the pickled (kind, text, right slug) queries of bench/realcorpus.py. Give
`--old-var` when the old code needs another index (a schema change). Each tree runs in its
own process (the same interpreter, garbage collector on, nothing cached between calls: the
result cache is cleared before each `search_articles`). For every query, each stream runs
once, in an order that rotates from query to query, so a burst of load falls on all sides:

- `old search_articles` / `new search_articles`: the product path, uncached;
- `old engine` / `new engine`: the tree's own shaped query (shaped before timing), top 10;
- `new FTS5`: the new tree's shaped query, translated clause for clause into FTS5 over the
  same tokens (bench/search_bench.py), top 10.

`--every-field` adds one untimed pass comparing every field of every hit (slug, language,
title, score, section, its title, snippet, URL, source) at limits 10 and 50 under the
interface languages en, ja and zh-hans.

Prints p50/p95 per stream with the load average (wall clock, and the CPU time of the calling
thread, which waiting for a core on a busy machine does not inflate), the top-3 share per
query kind, and every query whose answer differs between old and new (slugs, then sections
and snippets).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import settings_environment


def _setup(tree: Path, var: Path) -> None:
    os.environ.update(settings_environment(var))
    os.chdir(tree)
    sys.path[:0] = [str(tree), str(tree / "bench")]
    import django

    django.setup()


def worker(tree: Path, var: Path, queries: Path, fts5: bool) -> None:
    """Answer `mode index` lines on stdin with `[ms, answer]` JSON lines."""
    _setup(tree, var)
    from kb.search import build_query, caches, prepare_query, search_articles

    try:
        from kb.search.lookup import top_hits
    except ImportError:  # code from before top_hits: the engine as it was called then

        def top_hits(searcher, query, *, limit):  # noqa: ANN001, ANN202
            return searcher.search(query, limit=limit)

    texts = [text for _, text, _ in pickle.loads(queries.read_bytes())]
    searcher = caches.searchers.get()
    shaped = [build_query(prepare_query(text), searcher.reader()) for text in texts]
    db = None
    if fts5:
        import search_bench

        db, _ = search_bench._fts5_table(Path(tempfile.mkdtemp(prefix="fts5-")))  # noqa: SLF001
        matches = [search_bench.to_fts5(q) if q is not None else None for q in shaped]

    def engine(i: int) -> list[str]:
        query = shaped[i]
        return [] if query is None else [h["slug"] for h in top_hits(searcher, query, limit=10)]

    def fts(i: int) -> list[str]:
        match = matches[i]
        sql = search_bench._FTS5_SQL  # noqa: SLF001
        return [] if match is None else [row[0] for row in db.execute(sql, (match,))]

    def product(i: int) -> list[list]:
        caches.results.clear()
        hits = search_articles(texts[i], limit=10)
        return [[h.slug, h.lang, h.section, h.snippet, h.url] for h in hits]

    def every_field(i: int) -> list:
        from django.utils import translation

        shown = []
        for lang in ("en", "ja", "zh-hans"):
            with translation.override(lang):
                for limit in (10, 50):
                    caches.results.clear()
                    hits = search_articles(texts[i], limit=limit)
                    shown.append([sorted(h.as_dict().items()) for h in hits])
        return shown

    run = {"engine": engine, "fts5": fts, "product": product, "fields": every_field}
    print("ready", flush=True)
    for line in sys.stdin:
        mode, index = line.split()
        start, cpu = time.perf_counter(), time.thread_time()
        answer = run[mode](int(index))
        wall, cpu = time.perf_counter() - start, time.thread_time() - cpu
        print(json.dumps([wall * 1000, cpu * 1000, answer]), flush=True)


def _pct(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    rank = max(1, round(pct / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def _slugs(answer: list) -> list[str]:
    return [a if isinstance(a, str) else a[0] for a in answer]


def main() -> None:  # noqa: C901, PLR0915 - one report
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", type=Path)
    parser.add_argument("--new", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--var", type=Path)
    parser.add_argument("--old-var", type=Path)
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-fts5", action="store_true")
    parser.add_argument(
        "--every-field",
        action="store_true",
        help="also compare every field of every hit at limits 10 and 50 under the interface "
        "languages en, ja and zh-hans (one untimed pass)",
    )
    parser.add_argument("--worker", nargs=4, metavar=("TREE", "VAR", "QUERIES", "FTS5"))
    args = parser.parse_args()
    if args.worker:
        tree, var, queries, fts5 = args.worker
        worker(Path(tree), Path(var), Path(queries), fts5 == "1")
        return
    if not (args.old and args.var and args.queries):
        parser.error("--old, --var and --queries are required")

    queries = pickle.loads(args.queries.read_bytes())

    def start(tree: Path, var: Path, fts5: bool) -> subprocess.Popen:
        command = [sys.executable, __file__, "--worker", str(tree), str(var), str(args.queries)]
        process = subprocess.Popen(
            [*command, "1" if fts5 else "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout.readline().strip() == "ready"
        return process

    old = start(args.old.resolve(), (args.old_var or args.var).resolve(), False)
    new = start(args.new.resolve(), args.var.resolve(), not args.no_fts5)
    streams = [
        ("old search_articles", old, "product"),
        ("new search_articles", new, "product"),
        ("old engine", old, "engine"),
        ("new engine", new, "engine"),
    ]
    if not args.no_fts5:
        streams.append(("new FTS5", new, "fts5"))

    def ask(process: subprocess.Popen, mode: str, index: int) -> list:
        process.stdin.write(f"{mode} {index}\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    times: dict[str, list[float]] = {name: [] for name, _, _ in streams}
    cpu_times: dict[str, list[float]] = {name: [] for name, _, _ in streams}
    answers: dict[str, list] = {name: [None] * len(queries) for name, _, _ in streams}
    loads = [os.getloadavg()[0]]
    for index in range(len(queries)):  # warm-up pass, untimed
        for _, process, mode in streams:
            ask(process, mode, index)
    for round_ in range(args.rounds):
        for index in range(len(queries)):
            shift = (index + round_) % len(streams)
            for name, process, mode in streams[shift:] + streams[:shift]:
                ms, cpu_ms, answer = ask(process, mode, index)
                times[name].append(ms)
                cpu_times[name].append(cpu_ms)
                answers[name][index] = answer
        loads.append(os.getloadavg()[0])
    differing = shown = 0
    if args.every_field:
        for index in range(len(queries)):
            before, after = ask(old, "fields", index)[2], ask(new, "fields", index)[2]
            shown += sum(map(len, after))
            if before != after:
                differing += 1
                print(f"  every field differs: {queries[index][1][:60]!r}")
    for process in (old, new):
        process.stdin.close()
        process.wait()

    print(f"{len(queries)} queries x {args.rounds} rounds, load {min(loads):.1f}-{max(loads):.1f}")
    kinds = sorted({kind for kind, _, _ in queries})
    for name, _, _ in streams:
        samples = times[name]
        right = sum(
            1
            for (_, _, slug), got in zip(queries, answers[name], strict=True)
            if slug in _slugs(got)[:3]
        )
        per_kind = []
        for kind in kinds:
            chosen = [i for i, (k, _, _) in enumerate(queries) if k == kind]
            mine = [samples[r * len(queries) + i] for r in range(args.rounds) for i in chosen]
            hits = sum(1 for i in chosen if queries[i][2] in _slugs(answers[name][i])[:3])
            per_kind.append(f"{kind} {_pct(mine, 95):.1f} ms {hits}/{len(chosen)}")
        print(
            f"{name:20s} p50 {_pct(samples, 50):6.1f} ms  p95 {_pct(samples, 95):6.1f} ms  "
            f"top 3 {right}/{len(queries)}"
        )
        print(f"{'':20s} p95 and top 3 per kind: " + "; ".join(per_kind))
        cpu = cpu_times[name]
        print(
            f"{'':20s} CPU time p50 {_pct(cpu, 50):6.1f} ms  p95 {_pct(cpu, 95):6.1f} ms  "
            f"mean {sum(cpu) / len(cpu):6.1f} ms"
        )
    for a, b in (("old search_articles", "new search_articles"), ("old engine", "new engine")):
        print(
            f"{b} / {a} p95: {_pct(times[b], 95) / _pct(times[a], 95):.2f}, "
            f"CPU p95 {_pct(cpu_times[b], 95) / _pct(cpu_times[a], 95):.2f}, "
            f"CPU mean {sum(cpu_times[b]) / sum(cpu_times[a]):.2f}"
        )
    if not args.no_fts5:
        ratio = _pct(times["new engine"], 95) / _pct(times["new FTS5"], 95)
        print(f"new engine / new FTS5 p95 (same query, same tokens): {ratio:.2f}")
    if args.every_field:
        where = "limits 10, 50; en, ja, zh-hans"
        print(f"every field of {shown} hits ({where}): {differing} queries differ")
    for a, b in (("old search_articles", "new search_articles"), ("old engine", "new engine")):
        changed = [i for i in range(len(queries)) if answers[a][i] != answers[b][i]]
        print(f"answers changed, {a} -> {b}: {len(changed)}")
        for i in changed:
            kind, text, slug = queries[i]
            before, after = _slugs(answers[a][i]), _slugs(answers[b][i])

            def rank(got: list[str], slug: str = slug) -> str:
                return str(got.index(slug) + 1) if slug in got else "-"

            what = "slugs" if before != after else "sections or snippets"
            moved = f"right answer at {rank(before)} -> {rank(after)}"
            print(f"  [{kind}] {text[:60]!r}: {moved} ({what})")


if __name__ == "__main__":
    main()
