"""Adversarial analyzer inputs: each family's time against input size, with the growth ratio.

    .venv/bin/python bench/adversarial_bench.py [--sizes 10000,100000,1000000] [--only NAME,...]
        [--timeout 60] [--core]

Each family (tests/troubleshooter/analyzer/adversarial_inputs.py) is built at each size and
analysed by `analyze_manifest` in a fresh process, so one runaway input cannot hold up the
others (it is killed at --timeout). `ratio` is time(size) / time(previous size): about the
size ratio (10) for linear growth, about its square (100) for quadratic growth. Times include
neither interpreter start nor building the input. `--core` turns the analysis time limit off,
so the figures show the parsers and checks themselves rather than the deadline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATORS = ROOT / "tests" / "troubleshooter" / "analyzer"
sys.path[:0] = [str(ROOT), str(GENERATORS)]

from adversarial_inputs import FAMILIES  # noqa: E402

# Runs in the child: build one input, analyse it, print seconds and a summary as JSON.
CHILD = """
import json, sys, time
sys.path[:0] = [{root!r}, {generators!r}]
from adversarial_inputs import family
from troubleshooter.analyzer import Limits, ManifestRejected, analyze_manifest
text = family({name!r}).make({size})
limits = Limits(max_bytes=max(2_000_000, 2 * len(text.encode())))
if {core}:
    limits = Limits(max_bytes=limits.max_bytes, max_seconds=None)
start = time.perf_counter()
try:
    report = analyze_manifest(text=text, limits=limits)
    outcome = f"{{len(report.findings)}} findings, {{len(report.errors)}} notes"
except ManifestRejected as rejected:
    outcome = "refused: " + rejected.message[:60]
print(json.dumps({{"seconds": time.perf_counter() - start, "bytes": len(text.encode()),
                   "outcome": outcome}}))
"""


def measure(name: str, size: int, *, timeout: float, core: bool) -> dict:
    """Seconds and outcome of one family at one size, in a fresh interpreter."""
    code = CHILD.format(root=str(ROOT), generators=str(GENERATORS), name=name, size=size, core=core)
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": None, "outcome": f"killed after {timeout:g} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"seconds": None, "outcome": f"crashed: {last[:70]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print one row per family and size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--only", default="")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--core", action="store_true")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    only = {name for name in options.only.split(",") if name}
    print(f"{'family':<28} {'size':>9} {'bytes':>9} {'seconds':>9} {'ratio':>7}  outcome")
    for found in FAMILIES:
        if only and found.name not in only:
            continue
        previous = None
        for size in sizes:
            row = measure(found.name, size, timeout=options.timeout, core=options.core)
            seconds = row["seconds"]
            ratio = ""
            if seconds is not None and previous:
                ratio = f"{seconds / previous:.1f}"
            shown = f"{seconds:.3f}" if seconds is not None else "-"
            print(
                f"{found.name:<28} {size:>9} {row.get('bytes', 0):>9} {shown:>9} {ratio:>7}"
                f"  {row['outcome']}",
                flush=True,
            )
            previous = seconds if seconds else None
            if seconds is None:
                break


if __name__ == "__main__":
    main()
