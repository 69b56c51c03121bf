"""Shared helpers: timing, percentiles, machine description and the results table."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def settings_environment(var: Path) -> dict[str, str]:
    """The settings of a benchmark run: production-like (DEBUG off), everything in ``var``."""
    return {
        "DJANGO_SETTINGS_MODULE": "kb.settings",
        "KB_VAR_DIR": str(var),
        "KB_SQLITE_PATH": str(var / "kb.sqlite3"),
        "KB_INDEX_DIR": str(var / "index"),
        "KB_STATIC_ROOT": str(var / "static"),
        "KB_DEBUG": "0",
        "KB_SECRET_KEY": "bench-only-" + os.urandom(16).hex(),
        "KB_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "KB_SECURE_SSL_REDIRECT": "0",
        "KB_LOG_LEVEL": "WARNING",
    }


def percentile(samples: list[float], pct: float) -> float:
    """The nearest-rank percentile of `samples` (pct in 0..100)."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, round(pct / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_time(fn: Callable[[], object], *, runs: int) -> float:
    """Median wall time in seconds of `runs` calls."""
    return statistics.median(timed(fn)[0] for _ in range(runs))


def machine() -> dict[str, str]:
    """Date, CPU, core count and Python version, for the results header."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


@dataclass
class Target:
    """A goal from the issue and whether this run meets it."""

    name: str
    value: float
    limit: float
    unit: str
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit


@dataclass
class Results:
    """Figures and targets collected by the sections, printed as they come."""

    figures: list[tuple[str, str, str]] = field(default_factory=list)  # section, name, value
    targets: list[Target] = field(default_factory=list)
    section: str = ""

    def figure(self, name: str, value: float, unit: str, *, digits: int = 1) -> None:
        text = f"{value:,.{digits}f} {unit}".strip()
        self.figures.append((self.section, name, text))
        print(f"  {name:<58} {text}", flush=True)

    def note(self, name: str, text: str) -> None:
        self.figures.append((self.section, name, text))
        print(f"  {name:<58} {text}", flush=True)

    def target(
        self, name: str, value: float, limit: float, unit: str, *, higher_is_better: bool = False
    ) -> None:
        target = Target(name, value, limit, unit, higher_is_better)
        self.targets.append(target)
        sign = "≥" if higher_is_better else "≤"
        verdict = "met" if target.met else "MISSED"
        print(f"  target {name}: {value:,.2f} {unit} ({sign} {limit:g}) {verdict}", flush=True)

    def markdown(self, info: dict[str, str], *, mode: str) -> str:
        lines = [
            "## Figures",
            "",
            f"Run: `bench/run.py {mode}` on {info['date']}; {info['nproc']} CPUs "
            f"({info['cpu']}), Python {info['python']}, {info['platform']}.",
            "",
            "| section | figure | value |",
            "|---|---|---|",
        ]
        lines += [f"| {s} | {n} | {v} |" for s, n, v in self.figures]
        lines += ["", "## Targets", "", "| target | measured | goal | met |", "|---|---|---|---|"]
        for t in self.targets:
            sign = "≥" if t.higher_is_better else "≤"
            lines.append(
                f"| {t.name} | {t.value:,.2f} {t.unit} | {sign} {t.limit:g} {t.unit} "
                f"| {'yes' if t.met else '**no**'} |"
            )
        return "\n".join(lines) + "\n"
