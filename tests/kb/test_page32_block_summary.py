"""A block summary's end found by its pattern (kb/search/reading.py `_SUMMARY`) is where a
file object stood after `pickle.load`, as `_goto` read it before: the same tuple and the
same end for every kind of number a summary may hold; a summary of another layout is not
matched, so it still goes Whoosh's way."""

from __future__ import annotations

import io
import pickle

import pytest

from kb.search.codec import block_summary
from kb.search.reading import _SUMMARY


def _loaded(data: bytes) -> tuple[object, int]:
    """What `_goto` read before: the summary through a file object, and where it ended."""
    block = io.BytesIO(data)
    info = pickle.load(block)
    return info, block.tell()


@pytest.mark.parametrize(
    "summary",
    [
        block_summary(128, 9000, 3.5, 12, 4000),
        block_summary(1, 0, 1.0, 1, 1),
        block_summary(3, 255, 0.5, 1, 4),
        block_summary(100, 65535, 2.0, 300, 70000),
        block_summary(128, 1 << 20, 7.25, 5, 9),
        block_summary(128, (1 << 31) - 1, 1.5, None, 2),
        pickle.dumps((128, 70000, 2.5, 0, 3, 200), 2),
    ],
)
def test_summary_pattern_ends_where_pickle_load_does(summary: bytes) -> None:
    data = summary + b"\x80\x03...the block's data K\x00tq\x00."
    found = _SUMMARY.match(data)
    assert found is not None
    assert (pickle.loads(data), found.end()) == _loaded(data)


def test_other_summaries_are_not_matched() -> None:
    # A number past 32 bits (LONG1) or a summary of another length: Whoosh's own path.
    assert _SUMMARY.match(pickle.dumps((128, 1 << 40, 2.5, 0, 3, 200), 2) + b"rest") is None
    assert _SUMMARY.match(pickle.dumps((128, 7, 2.5, 0, 3), 2) + b"rest") is None
    assert _SUMMARY.match(pickle.dumps((128, 7, 2.5, 0, 3, 200), 3) + b"rest") is None
