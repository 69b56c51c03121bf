#!/usr/bin/env python
"""Benchmarks: `bench/run.py [search|analysis|diagnose|serving|all] [--quick]`.

Every run generates its own data in a temporary folder (database, index, corpus), which is
deleted at the end. See bench/README.md for what each section measures and the targets.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from common import settings_environment

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # the project (kb, troubleshooter); bench/ is sys.path[0]

SECTIONS = ("search", "analysis", "diagnose", "serving")


def _configure(workdir: Path) -> None:
    """Point the settings at the temporary folder, production-like (DEBUG off), before setup."""
    os.environ.update(settings_environment(workdir / "var"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="?", default="all", choices=(*SECTIONS, "all"))
    parser.add_argument(
        "--quick", action="store_true", help="1 000 articles and shorter runs: a smoke test."
    )
    parser.add_argument(
        "--articles",
        type=int,
        default=None,
        help="Corpus size (default: the whole real corpus; 1 000 with --quick).",
    )
    parser.add_argument(
        "--results", type=Path, default=None, help="Also write the figures as Markdown here."
    )
    args = parser.parse_args(argv)
    count = args.articles or (1000 if args.quick else None)
    sections = SECTIONS if args.section == "all" else (args.section,)

    # A SIGTERM (timeout, Ctrl-C in make) still runs the clean-up in `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    _configure(workdir)
    import django
    from django.core.management import call_command

    django.setup()
    from common import Results, machine

    results = Results()
    info = machine()
    print(f"bench {args.section}{' --quick' if args.quick else ''}: {info}", flush=True)
    started = time.perf_counter()
    try:
        needs_db = {"search", "serving"} & set(sections)
        if needs_db:
            call_command("migrate", "--noinput", verbosity=0)
            call_command("collectstatic", "--noinput", verbosity=0)
        corpus = None
        for section in sections:
            results.section = section
            print(f"\n[{section}]", flush=True)
            if section == "search":
                import search_bench

                corpus = search_bench.run(results, workdir=workdir, count=count, corpus=None)
            elif section == "analysis":
                import analysis_bench

                analysis_bench.run(results, workdir=workdir, quick=args.quick)
            elif section == "diagnose":
                import diagnose_bench

                diagnose_bench.run(results, workdir=workdir, quick=args.quick)
            elif section == "serving":
                import search_bench
                import serving_bench

                if corpus is None:
                    corpus = search_bench.build_corpus(results, workdir=workdir, count=count)
                serving_bench.run(results, workdir=workdir, seconds=3 if args.quick else 10)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    missed = [t for t in results.targets if not t.met]
    met = len(results.targets) - len(missed)
    print(f"\n{met}/{len(results.targets)} targets met in {elapsed:.0f} s")
    for target in missed:
        print(f"  missed: {target.name}: {target.value:,.2f} {target.unit} (goal {target.limit:g})")
    if args.results:
        mode = f"{args.section}{' --quick' if args.quick else ''}"
        args.results.write_text(results.markdown(info, mode=mode), encoding="utf-8")
        print(f"figures written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
