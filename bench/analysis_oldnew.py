"""Old and new analyzer code side by side, taking turns in one run.

    git archive <old commit> | tar -x -C /tmp/old && ln -s "$PWD/.venv" /tmp/old/.venv
    .venv/bin/python bench/analysis_oldnew.py /tmp/old [--rounds 40] [--batch 10] [--big 5]

One worker process per tree (each imports its own tree's analyzer and bench/corpus.py; the
texts' digests are compared, so both analyse the same bytes). The coordinator asks them in
turn, swapping which goes first every round, so a burst of load from other jobs falls on both
sides alike; the idle worker waits on its pipe and costs nothing meanwhile.

- paste: `rounds` x `batch` analyses of the 50-object paste as shipped (collector on, default
  limits), each timed in wall-clock and in CPU time of the process (`time.process_time`);
- sizes (`--sizes 1,10,200`): the CPU p50 of pastes of those sizes too, taking turns alike;
- big (`--big N`, 0 to skip): N turns of `compose_all` and `analyze_manifest` of the bench's
  3 000-object manifest, both with the collector off and no deadline; the ratio of the medians.

Prints the load average before and after, and one JSON line per side.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _worker() -> None:
    sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "bench")]
    import yaml
    from corpus import manifest

    from troubleshooter.analyzer import Limits, analyze_manifest

    pastes = {50: manifest(50)}
    paste = pastes[50]
    big = None
    unbounded = Limits(max_seconds=None)
    print(json.dumps({"paste_sha": hashlib.sha256(paste.encode()).hexdigest()[:12]}), flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "paste":
            count, _, size = argument.partition(" ")
            size = int(size or 50)
            text = pastes.get(size) or pastes.setdefault(size, manifest(size))
            wall, cpu = [], []
            for _ in range(int(count)):
                start_cpu = time.process_time()
                start = time.perf_counter()
                analyze_manifest(text=text)
                wall.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
        elif command == "big":
            big = big or manifest(3000)
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            list(yaml.compose_all(big, Loader=yaml.CSafeLoader))
            compose = time.perf_counter() - start
            start = time.perf_counter()
            report = analyze_manifest(text=big, limits=unbounded)
            analyze = time.perf_counter() - start
            gc.enable()
            print(
                json.dumps(
                    {
                        "compose": compose * 1000,
                        "analyze": analyze * 1000,
                        "findings": len(report.findings),
                    }
                ),
                flush=True,
            )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    if sys.argv[1:] == ["--worker"]:
        _worker()
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--big", type=int, default=5)
    parser.add_argument(
        "--sizes", default="", help="also these paste sizes (objects), e.g. 1,10,200: CPU p50"
    )
    args = parser.parse_args()
    trees = {"old": Path(args.old).resolve(), "new": ROOT}
    workers = {
        label: subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for label, tree in trees.items()
    }

    def ask(label: str, command: str) -> dict:
        worker = workers[label]
        worker.stdin.write(command + "\n")
        worker.stdin.flush()
        return json.loads(worker.stdout.readline())

    digests = {label: json.loads(w.stdout.readline())["paste_sha"] for label, w in workers.items()}
    assert len(set(digests.values())) == 1, f"the trees generate different pastes: {digests}"
    load_before = os.getloadavg()
    for label in workers:
        ask(label, f"paste {args.batch * 2}")  # warm-up: imports, memos, caches on both sides
    samples = {label: {"wall": [], "cpu": []} for label in workers}
    big = {label: {"compose": [], "analyze": [], "findings": set()} for label in workers}
    for turn in range(args.rounds):
        order = ("old", "new") if turn % 2 == 0 else ("new", "old")
        for label in order:
            answer = ask(label, f"paste {args.batch}")
            samples[label]["wall"] += answer["wall"]
            samples[label]["cpu"] += answer["cpu"]
    sizes = [int(size) for size in args.sizes.split(",") if size]
    growth = {label: {size: [] for size in sizes} for label in workers}
    for turn in range(args.rounds // 4 if sizes else 0):
        for label in ("old", "new") if turn % 2 == 0 else ("new", "old"):
            for size in sizes:
                growth[label][size] += ask(label, f"paste {args.batch} {size}")["cpu"]
    for turn in range(args.big):
        for label in ("old", "new") if turn % 2 == 0 else ("new", "old"):
            answer = ask(label, "big")
            big[label]["compose"].append(answer["compose"])
            big[label]["analyze"].append(answer["analyze"])
            big[label]["findings"].add(answer["findings"])
    for worker in workers.values():
        worker.stdin.close()
        worker.wait()
    load_after = os.getloadavg()
    print(f"load average before {load_before}, after {load_after}")
    for label in workers:
        wall, cpu = samples[label]["wall"], samples[label]["cpu"]
        figures = {
            "code": label,
            "tree": str(trees[label]),
            "pastes": len(wall),
            "wall_p50": round(statistics.median(wall), 2),
            "wall_p95": round(_percentile(wall, 0.95), 2),
            "cpu_p50": round(statistics.median(cpu), 2),
            "cpu_p95": round(_percentile(cpu, 0.95), 2),
        }
        for size in sizes:
            figures[f"cpu_p50_{size}_objects"] = round(statistics.median(growth[label][size]), 2)
        if args.big:
            compose = statistics.median(big[label]["compose"])
            analyze = statistics.median(big[label]["analyze"])
            figures |= {
                "compose_ms": round(compose),
                "analyze_ms": round(analyze),
                "ratio": round(analyze / compose, 2),
                "findings": sorted(big[label]["findings"]),
            }
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
