"""Diagnose: a generated 1 MB log through diagnose() and errortext.query_text()."""

from __future__ import annotations

from pathlib import Path

from common import Results, median_time
from corpus import log


def run(results: Results, *, workdir: Path, quick: bool) -> None:
    """The diagnose section."""
    from kb.errortext import query_text
    from troubleshooter.diagnosis import diagnose

    text = log(1_000_000)
    diagnosis = diagnose(text)  # warm: the tree is loaded and validated once
    query = query_text(text)
    results.note(
        "log",
        f"{len(text.encode()) / 1e6:.2f} MB, {text.count(chr(10))} lines; diagnosis: "
        f"{', '.join(m.node for m in diagnosis.matches) or 'nothing'}",
    )
    results.note("query_text", query[:90])
    runs = 3 if quick else 5
    seconds = median_time(lambda: diagnose(text), runs=runs)
    results.figure("diagnose(1 MB log)", seconds * 1000, "ms")
    results.target("diagnose a 1 MB log", seconds * 1000, 200.0, "ms")
    seconds = median_time(lambda: query_text(text), runs=runs)
    results.figure("errortext.query_text(1 MB log)", seconds * 1000, "ms")
    results.target("query_text of a 1 MB log", seconds * 1000, 200.0, "ms")
