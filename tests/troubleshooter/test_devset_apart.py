"""The development set stays apart from what the diagnosis reads.

The articles' `reports` and the tree's neighbours are written in our own words, from sources
and documentation; the development set measures how well that generalises. A report that
repeated a development item (even one long run of its words) would let that item be
recognised by its wording rather than by its mechanism, and the held-out figures in the
README would overstate what a new user gets. Machine messages (`symptoms`, `near_misses`) may
equal a log line in a report, so only what a person would write is compared here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import yaml

from troubleshooter.diagnosis.knowledge import neighbours_of
from troubleshooter.diagnosis.tree import get_tree

ROOT = Path(__file__).resolve().parents[2]
RUN_WORDS = 8  # a run of this many words in a row, in space-separated text
# or this many CJK characters in a row: a Japanese or Chinese word is two to four of them, and
# at 20 a common phrase already matches ("子プロセスがセグメンテーション違反で落ち", six words).
RUN_CHARS = 24
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]+")


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _runs(text: str) -> set[str]:
    text = _normal(text)
    words = re.findall(r"[^\W_]+", _CJK.sub(" ", text))
    runs = {" ".join(words[i : i + RUN_WORDS]) for i in range(len(words) - RUN_WORDS + 1)}
    for chunk in _CJK.findall(text):
        runs.update(chunk[i : i + RUN_CHARS] for i in range(len(chunk) - RUN_CHARS + 1))
    return runs


def _devset_runs() -> dict[str, str]:
    owner: dict[str, str] = {}
    for path in sorted((ROOT / "troubleshooter" / "data" / "devset").glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            for run in _runs(item["text"]):
                owner.setdefault(run, item["id"])
    return owner


def _front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---", 2)[1]) or {}


def _written_reports() -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / "articles").glob("*.md")):
        for texts in (_front_matter(path).get("reports") or {}).values():
            for text in texts:
                yield path.name, text
    for neighbour in neighbours_of(get_tree()):
        for texts in neighbour.reports.values():
            for text in texts:
                yield f"tree.yaml#{neighbour.slug}", text


def test_no_written_report_repeats_a_development_item() -> None:
    owner = _devset_runs()
    assert len(owner) > 10_000  # the set is read (a wrong path would pass vacuously)
    repeats = []
    for where, text in _written_reports():
        shared = _runs(text) & owner.keys()
        if shared:
            run = min(shared)
            repeats.append(f"{where}: {text[:80]!r} repeats {owner[run]} ({run!r})")
    assert not repeats, "\n".join(repeats)


def test_the_comparison_catches_a_repeat() -> None:
    owner = _devset_runs()
    run = next(r for r in owner if " " in r)
    assert _runs(f"as someone wrote, {run} and more") & owner.keys()
    cjk = next(r for r in owner if _CJK.fullmatch(r))
    assert _runs(f"前置き {cjk} 後書き") & owner.keys()
