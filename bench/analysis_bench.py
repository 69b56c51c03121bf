"""Analysis: analyze_manifest vs a bare CSafeLoader parse, paste-size latency, CLI cold start."""

from __future__ import annotations

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


def run(results: Results, *, workdir: Path, quick: bool) -> None:
    """The analysis section."""
    from troubleshooter.analyzer import analyze_manifest

    text = manifest(BIG_OBJECTS)
    runs = 2 if quick else 3
    bare = median_time(lambda: list(yaml.load_all(text, Loader=yaml.CSafeLoader)), runs=runs)
    report = analyze_manifest(text=text)
    analyzed = median_time(lambda: analyze_manifest(text=text), runs=runs)
    results.note(
        "manifest",
        f"{report.objects} objects, {len(text) / 1e6:.2f} MB, {len(report.findings)} findings, "
        f"{len(report.errors)} parse errors",
    )
    results.figure("bare list(yaml.load_all(CSafeLoader))", bare * 1000, "ms")
    results.figure("analyze_manifest", analyzed * 1000, "ms")
    results.target(
        f"analyze_manifest / bare parse ({BIG_OBJECTS} objects)", analyzed / bare, 1.5, "×"
    )
    results.target(f"analyze_manifest of {BIG_OBJECTS} objects", analyzed, 1.0, "s")

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
    results.target("paste-size analysis p95 in-process", p95, 20.0, "ms")

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
