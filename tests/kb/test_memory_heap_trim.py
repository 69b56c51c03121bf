"""Every 32nd request a worker gives its heap's freed pages back to the kernel (kb/heap.py).

glibc keeps memory freed below a live block resident; a search page frees megabytes of such
blocks. Checked in a fresh production interpreter: the heap is fragmented on purpose (blocks
of 4 KB, one in sixteen kept), then requests go through the test client, and the anonymous
resident set is read from /proc/self/status.
"""

from __future__ import annotations

import pytest

from kb.heap import HeapTrimmer

pytestmark = pytest.mark.skipif(
    not HeapTrimmer(1).available, reason="malloc_trim is glibc's; elsewhere nothing is trimmed"
)

_SERVE = r"""
import json, os
os.environ.update(EXTRA)
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
from django.test import Client
from kb.heap import heap_trimmer

def anonymous_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

client = Client(HTTP_HOST="testserver")
client.get("/", secure=True)
trimmer = heap_trimmer()
trimmer.trim()  # start from a trimmed heap, with the first request's allocations made
base_trims = trimmer.trims

blocks = [bytes(4096) for _ in range(16000)]   # 64 MB from malloc (over 512 bytes each)
kept = blocks[::16]                            # one in sixteen stays alive
del blocks
report = {"every": trimmer.every, "fragmented": anonymous_mb(), "statuses": []}
for n in range(30):
    answer = client.get("/search/", {"q": f"argument list {n}"}, secure=True)
    report["statuses"].append(answer.status_code)
report["trims_after_31"] = trimmer.trims - base_trims
report["after_31"] = anonymous_mb()
report["statuses"].append(client.get("/search/", {"q": "argument list"}, secure=True).status_code)
report["trims_after_32"] = trimmer.trims - base_trims
report["after_32"] = anonymous_mb()
report["kept_intact"] = len(kept) == 1000 and all(len(block) == 4096 for block in kept)
report["statuses"] = sorted(set(report["statuses"]))
print(json.dumps(report))
"""


def _serve(run_in_production, **extra: str) -> dict:
    # The count starts at the process's first request; KB_HEAP_TRIM_EVERY is its default
    # unless the caller sets it.
    return run_in_production(_SERVE.replace("EXTRA", repr(extra)))


def test_the_32nd_request_returns_the_freed_heap(run_in_production):
    report = _serve(run_in_production)
    assert report["statuses"] == [200]
    assert report["every"] == 32
    assert report["kept_intact"]
    # The first request and 30 searches: the 31st request of the process is not yet due.
    assert report["trims_after_31"] == 0
    # About 60 MB freed but resident until the trim, which the 32nd request makes.
    assert report["fragmented"] - report["after_31"] < 10
    assert report["trims_after_32"] == 1
    assert report["after_31"] - report["after_32"] > 30


def test_zero_never_trims(run_in_production):
    report = _serve(run_in_production, KB_HEAP_TRIM_EVERY="0")
    assert report["statuses"] == [200]
    assert report["every"] == 0
    assert report["trims_after_32"] == 0
    assert report["after_31"] - report["after_32"] < 10
