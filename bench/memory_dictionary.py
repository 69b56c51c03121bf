"""The MeCab dictionary's share of a worker's memory, and what releasing its pages costs.

    .venv/bin/python bench/memory_dictionary.py --data /path/to/var [--rounds 2]

`--data` holds an imported database (`kb.sqlite3`); its serving queries holding kana (the
same list as `serving_bench.py`) are tagged in turn, as a worker's searches tag them, each
configuration in a fresh process (mapped pages outlive a configuration):
- `never`: no release (the code before kb/dictionary_pages.py);
- `random`: no release, `madvise(MADV_RANDOM)` on the dictionary's mappings first, to see
  whether the kernel then maps fewer pages per fault (no read-ahead, no fault-around);
- `every N`: `DictionaryPages(N).after_query` after each query, as the views call it.
Printed per configuration: the dictionary's mapped pages at the end and at their peak (read
from /proc/self/smaps every query), MeCab's CPU per query and the release's CPU per release.
The configurations alternate (never, random, every 1, 2, 4, 8, then again).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from common import settings_environment

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

_ONE = r"""
import mmap, os, re, sys, time
sys.path[:0] = [sys.argv[2], sys.argv[3]]
import django
django.setup()
import serving_bench
from kb import analysis
from kb.dictionary_pages import (
    DictionaryPages, dictionary_folder, dictionary_mappings, resident_kilobytes,
)
mode = sys.argv[1]
folder = dictionary_folder() + "/"

def mapped_kb():
    return resident_kilobytes(folder)

queries = [q for q in serving_bench.distinct_queries() if analysis.has_kana(q)]
analysis.lemma_terms("日本語")
every = int(mode.split()[1]) if mode.startswith("every") else 0
pages = DictionaryPages(every, dictionary_folder())
if mode == "random":
    import ctypes
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for start, end in dictionary_mappings(dictionary_folder()):
        assert libc.madvise(start, end - start, mmap.MADV_RANDOM) == 0
peak = parse = release = 0.0
for query in queries:
    started = time.process_time()
    analysis.lemma_terms(query)
    parse += time.process_time() - started
    peak = max(peak, mapped_kb())
    started = time.process_time()
    pages.after_query(query)
    release += time.process_time() - started
# The counting alone (after_query without a release) is in the release figure too.
per_release = f"{release * 1000 / pages.releases:.2f} ms a release" if pages.releases else (
    f"counting {release * 1e6 / len(queries):.0f} us a query")
print(f"  {mode:<8} {len(queries)} queries: dictionary mapped {mapped_kb() / 1024:5.1f} MB at the "
      f"end, {peak / 1024:5.1f} MB at the peak; MeCab {parse * 1000 / len(queries):.2f} ms a "
      f"query, {per_release} ({pages.releases} releases); load {os.getloadavg()[0]:.1f}",
      flush=True)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="var/ with kb.sqlite3")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    env = {**os.environ, **settings_environment(args.data.resolve())}
    python = str(ROOT / ".venv" / "bin" / "python")
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}", flush=True)
        for mode in ("never", "random", "every 1", "every 2", "every 4", "every 8"):
            subprocess.run(  # noqa: S603 - our own interpreter
                [python, "-c", _ONE, mode, str(BENCH), str(ROOT)],
                env=env,
                cwd=ROOT,
                timeout=600,
                check=False,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
