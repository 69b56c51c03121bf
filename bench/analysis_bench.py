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
from common import Results, median_time, percentile
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


def run(results: Results, *, workdir: Path, quick: bool) -> None:
    """The analysis section.

    The floor is `yaml.compose_all` with libyaml (CSafeLoader) and the collector off: that is
    the parsing step the analyzer really needs (it builds its positioned tree from composed
    nodes, and pauses the collector while composing). `load_all` with the collector on and off
    is printed for context. The analyzer runs as shipped: called with the collector on, as a
    request or the CLI calls it; a second figure gives it with the collector off throughout.
    """
    from troubleshooter.analyzer import analyze_manifest

    text = manifest(BIG_OBJECTS)
    runs = 2 if quick else 3
    gc.collect()

    def compose() -> list:
        return list(yaml.compose_all(text, Loader=yaml.CSafeLoader))

    def load() -> list:
        return list(yaml.load_all(text, Loader=yaml.CSafeLoader))

    floor = median_time(_with_gc(False, compose), runs=runs)
    compose_gc = median_time(_with_gc(True, compose), runs=runs)
    load_off = median_time(_with_gc(False, load), runs=runs)
    load_on = median_time(_with_gc(True, load), runs=runs)
    report = analyze_manifest(text=text)
    analyzed = median_time(_with_gc(True, lambda: analyze_manifest(text=text)), runs=runs)
    analyzed_off = median_time(_with_gc(False, lambda: analyze_manifest(text=text)), runs=runs)
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
    results.figure("analyze_manifest / compose_all GC off", analyzed / floor, "×", digits=2)
    results.figure("analyze_manifest / load_all GC on", analyzed / load_on, "×", digits=2)
    results.target(
        f"analyze_manifest / compose_all with GC off ({BIG_OBJECTS} objects)",
        analyzed / floor,
        2.0,
        "×",
    )

    paste = manifest(PASTE_OBJECTS)
    for _ in range(5):
        analyze_manifest(text=paste)
    samples = []
    for _ in range(50 if quick else 200):
        start = time.perf_counter()
        analyze_manifest(text=paste)
        samples.append((time.perf_counter() - start) * 1000)
    results.figure(f"paste ({PASTE_OBJECTS} objects) p50", percentile(samples, 50), "ms", digits=2)
    p95 = percentile(samples, 95)
    results.figure(f"paste ({PASTE_OBJECTS} objects) p95", p95, "ms", digits=2)
    results.target("paste-size analysis p95 in-process", p95, 10.0, "ms")

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
