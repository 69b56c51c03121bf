"""Old and new analyzer code side by side: run from the root of each tree, taking turns.

    git archive <old commit> | tar -x -C /tmp/old && ln -s "$PWD/.venv" /tmp/old/.venv
    for tree in /tmp/old "$PWD"; do (cd "$tree" && PYTHONPATH=. .venv/bin/python \\
        "$OLDPWD/bench/analysis_oldnew.py"); done

Prints one JSON line: the median wall time of `compose_all` and of `analyze_manifest` on the
bench's 3 000-object manifest, both with the collector off (5 rounds, taking turns), then the
p50 and p95 of 200 analyses of the 50-object paste as shipped (collector on).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time

sys.path.insert(0, "bench")
import yaml  # noqa: E402
from corpus import manifest  # noqa: E402 - the tree being measured provides it

from troubleshooter.analyzer import Limits, analyze_manifest  # noqa: E402


def main() -> None:
    text = manifest(3000)
    paste = manifest(50)
    limits = Limits(max_seconds=None)
    big: dict[str, list[float]] = {"compose": [], "analyze": []}
    gc.disable()
    for _ in range(5):
        start = time.perf_counter()
        list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
        big["compose"].append(time.perf_counter() - start)
        start = time.perf_counter()
        analyze_manifest(text=text, limits=limits)
        big["analyze"].append(time.perf_counter() - start)
    gc.enable()
    samples = []
    for _ in range(200):
        start = time.perf_counter()
        analyze_manifest(text=paste)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    figures = {name: round(statistics.median(v) * 1000, 1) for name, v in big.items()}
    figures |= {"paste_p50": round(samples[100], 2), "paste_p95": round(samples[190], 2)}
    figures["load"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
