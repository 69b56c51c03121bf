"""Analysis: analyze_manifest against libyaml's compose step, paste-size latency, CLI cold start."""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml
from common import Results, percentile, timed
from corpus import ROOT, manifest

BIG_OBJECTS = 3000
PASTE_OBJECTS = 50
CLI_RUNS = 7


def _cold(argv: list[str]) -> float:
    """Median wall time of a fresh interpreter running argv (output discarded)."""
    times = []
    for _ in range(CLI_RUNS):
        start = time.perf_counter()
        subprocess.run(  # noqa: S603 - our own interpreter and script
            argv,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _with_gc(enabled: bool, fn):  # noqa: ANN001, ANN202
    """`fn` wrapped so that it runs with the cyclic garbage collector on or off."""

    def call():  # noqa: ANN202
        was = gc.isenabled()
        (gc.enable if enabled else gc.disable)()
        try:
            return fn()
        finally:
            (gc.enable if was else gc.disable)()

    return call


def _interleaved(fns: dict[str, object], *, runs: int) -> dict[str, float]:
    """Median wall time of each function, the functions taking turns in every round.

    The machine is shared: taking turns spreads a burst of load over all of them instead of
    landing on one, so the ratios between them are fairer than from back-to-back series.
    """
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            samples[name].append(timed(fn)[0])
    return {name: statistics.median(values) for name, values in samples.items()}


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


def run(results: Results, *, workdir: Path, quick: bool) -> None:
    """The analysis section.

    The floor is `yaml.compose_all` with libyaml (CSafeLoader) and the collector off: the
    parsing the analyzer cannot do without (it builds its positioned tree from libyaml's
    events, which is what composing walks). The target ratio is like for like: the analyzer
    with the collector off throughout against that floor. `load_all` with the collector on
    and off is printed for context, and so is the analyzer as shipped: called with the
    collector on, as a request or the CLI calls it (it pauses the collector while parsing
    only). The load average is printed with the figures: the machine may be shared.
    """
    from troubleshooter.analyzer import Limits
    from troubleshooter.analyzer import analyze_manifest as shipped

    def analyze_manifest(*, text: str):  # noqa: ANN202 - the analyzer's own Report
        # No deadline: on a loaded machine the 5 s budget could cut the big manifest short
        # and flatter the figure. Every other limit is the shipped one.
        return shipped(text=text, limits=Limits(max_seconds=None))

    text = manifest(BIG_OBJECTS)
    runs = 3 if quick else 7
    gc.collect()

    def compose() -> list:
        return list(yaml.compose_all(text, Loader=yaml.CSafeLoader))

    def load() -> list:
        return list(yaml.load_all(text, Loader=yaml.CSafeLoader))

    report = analyze_manifest(text=text)
    results.note("load before the analysis figures", _load())
    times = _interleaved(
        {
            "floor": _with_gc(False, compose),
            "analyzed_off": _with_gc(False, lambda: analyze_manifest(text=text)),
            "compose_gc": _with_gc(True, compose),
            "analyzed": _with_gc(True, lambda: analyze_manifest(text=text)),
            "load_off": _with_gc(False, load),
            "load_on": _with_gc(True, load),
        },
        runs=runs,
    )
    floor, compose_gc = times["floor"], times["compose_gc"]
    load_off, load_on = times["load_off"], times["load_on"]
    analyzed, analyzed_off = times["analyzed"], times["analyzed_off"]
    results.note("load after them", _load())
    results.note(
        "manifest",
        f"{report.objects} objects, {len(text) / 1e6:.2f} MB, {len(report.findings)} findings, "
        f"{len(report.errors)} parse errors",
    )
    results.figure("floor: compose_all (CSafeLoader), GC off", floor * 1000, "ms")
    results.figure("compose_all (CSafeLoader), GC on", compose_gc * 1000, "ms")
    results.figure("context: load_all (CSafeLoader), GC off", load_off * 1000, "ms")
    results.figure("context: load_all (CSafeLoader), GC on", load_on * 1000, "ms")
    results.figure("analyze_manifest as shipped (called with GC on)", analyzed * 1000, "ms")
    results.figure("analyze_manifest, GC off throughout", analyzed_off * 1000, "ms")
    results.figure(
        "analyze_manifest / compose_all, both GC off (like for like)",
        analyzed_off / floor,
        "×",
        digits=2,
    )
    results.figure(
        "context: analyze_manifest as shipped / compose_all GC off", analyzed / floor, "×", digits=2
    )
    results.figure(
        "context: analyze_manifest as shipped / load_all GC on", analyzed / load_on, "×", digits=2
    )
    results.target(
        f"analyze_manifest / compose_all, both GC off ({BIG_OBJECTS} objects)",
        analyzed_off / floor,
        2.0,
        "×",
    )

    paste = manifest(PASTE_OBJECTS)
    for _ in range(5):
        analyze_manifest(text=paste)
    samples = []
    cpu = []
    results.note("load before the paste figures", _load())
    for _ in range(50 if quick else 200):
        start = time.perf_counter()
        started_cpu = time.process_time()
        analyze_manifest(text=paste)
        cpu.append((time.process_time() - started_cpu) * 1000)
        samples.append((time.perf_counter() - start) * 1000)
    # The target is judged on CPU time (process time). The wall time also counts the time this
    # process waited for a core: on a machine shared by many jobs that is the run queue, not
    # the code, and on the idle 2-core machine the target is for, the two are the same.
    cpu_p95 = percentile(cpu, 95)
    results.figure(
        f"paste ({PASTE_OBJECTS} objects) CPU time p50", percentile(cpu, 50), "ms", digits=2
    )
    results.figure(f"paste ({PASTE_OBJECTS} objects) CPU time p95", cpu_p95, "ms", digits=2)
    results.figure(
        f"context: paste ({PASTE_OBJECTS} objects) wall p50 / p95",
        percentile(samples, 50),
        f"/ {percentile(samples, 95):.2f} ms",
        digits=2,
    )
    results.target("paste-size analysis CPU-time p95 in-process", cpu_p95, 10.0, "ms")

    paste_file = workdir / "paste.yaml"
    paste_file.write_text(paste, encoding="utf-8")
    python = sys.executable
    baseline = _cold([python, "-c", "import yaml"])
    cli = _cold([python, "manage.py", "analyze", str(paste_file)])
    env_note = os.environ.get("DJANGO_SETTINGS_MODULE", "kb.settings")
    results.figure('python -c "import yaml" (median of 7)', baseline * 1000, "ms")
    results.figure(f"manage.py analyze paste.yaml (median of 7, {env_note})", cli * 1000, "ms")
    results.figure("CLI cold start minus bare interpreter", (cli - baseline) * 1000, "ms")
    results.target("manage.py analyze cold start", cli, 0.5, "s")
    # Where the time goes: Django's set-up (every manage.py command pays it) against the
    # analyzer core alone, which needs no Django at all.
    setup = _cold([python, "-c", "import django; django.setup()"])
    core = _cold(
        [
            python,
            "-c",
            "import sys; from troubleshooter.analyzer import analyze_manifest; "
            "print(len(analyze_manifest(text=open(sys.argv[1]).read()).findings))",
            str(paste_file),
        ]
    )
    results.figure("floor: python -c 'django.setup()' (median of 7)", setup * 1000, "ms")
    results.figure("analyzer core without Django on paste.yaml (median of 7)", core * 1000, "ms")
