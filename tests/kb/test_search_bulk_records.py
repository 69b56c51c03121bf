"""What a rebuild's worker writes for each article: the word table of its sections file record
(kb/search/sections.py) and a chunk's analysis (kb/search/bulk.py), with the collector on
or off."""

from __future__ import annotations

import gc
import re
import sys
from array import array
from pathlib import Path

import pytest

from kb.search.bulk import analyse_chunk
from kb.search.sections import SECTIONS_FILE, SectionsFile, SectionsWriter, section_record
from kb.search.snippets import WINDOW_CANDIDATES, reachable

SECTIONS = [
    ("", "", "Mount the Volume: mount failed, MOUNT again; mount_point stays. 2024 errors."),
    ("usage", "Usage", "plain lower case words only, words twice"),
    ("cjk", "巨页", "巨页面の設定 hugepages 巨页 HugePages hugePages x1 ab_cd"),
    ("long", "Long", " ".join(["Disk disk"] * (WINDOW_CANDIDATES + 40))),
    ("grows", "Grows", "İstanbul keeps its own length only in upper case"),
]


def _record(tmp_path: Path, sections: list[tuple[str, str, str]]):  # noqa: ANN202
    writer = SectionsWriter(tmp_path)
    writer.add(section_record(sections), slug="only")
    writer.close()
    return SectionsFile(tmp_path / SECTIONS_FILE).record(0)


def _scanned(text: str) -> dict[str, tuple[int, int, list[int]]]:
    """Latin word -> (matches, spellings, starts a snippet can read), by scanning the text."""
    lowered = text.lower()
    found: dict[str, list[re.Match]] = {}
    for match in re.finditer(r"\w+", lowered):
        if re.fullmatch(r"[^\W_\u3040-\u30ff\u4e00-\u9fff]{2,}", match.group()):
            found.setdefault(match.group(), []).append(match)
    return {
        word: (
            len(matches),
            len({text[m.start() : m.end()] for m in matches}),
            reachable([m.start() for m in matches]),
        )
        for word, matches in found.items()
    }


def test_it_tables_every_latin_word_with_its_matches_spellings_and_starts(tmp_path):
    record = _record(tmp_path, SECTIONS)
    for number, (_, _, text) in enumerate(SECTIONS[:4]):
        for word, (matches, spellings, starts) in _scanned(text).items():
            entries = {entry[0]: entry for entry in record.entry(word)}
            _, got_matches, got_spellings, got_starts = entries[number]
            assert (got_matches, got_spellings) == (matches, spellings), word
            assert array("I", got_starts).tolist() == starts, word


def test_it_keeps_the_scanned_details_the_words_need(tmp_path):
    record = _record(tmp_path, SECTIONS)
    mount = {entry[0]: entry[1:3] for entry in record.entry("mount")}
    assert mount[0] == (3, 3)  # "Mount", "mount", "MOUNT"; "mount_point" is another run
    assert record.entry("mount_point") is None  # an underscore: no query word matches it
    assert record.entry("2024")[0][1] == 1
    hugepages = {entry[0]: entry[1:3] for entry in record.entry("hugepages")}
    assert hugepages[2] == (3, 3)
    disk = {entry[0]: entry for entry in record.entry("disk")}[3]
    assert disk[1] == 2 * (WINDOW_CANDIDATES + 40)
    assert len(array("I", disk[3])) < disk[1]  # only the starts a snippet can reach
    bigram = {entry[0]: entry for entry in record.entry("巨页")}
    assert array("I", bigram[2][3]).tolist() == [0, 17]
    assert list(record.tabled) == [1, 1, 1, 1, 0]  # "İ" lower-cases to two characters


def _rows() -> list[dict]:
    return [
        {
            "slug": f"doc-{number}",
            "title": f"Mount failure {number}",
            "lang": lang,
            "summary": "Mount fails after a kernel upgrade.",
            "html": html,
            "keywords": ["mount", "fstab"],
            "tags": ["storage"],
            "symptoms": ["mount: wrong fs type"],
        }
        for number, (lang, html) in enumerate(
            [
                ("en", '<h2 id="cause">Cause</h2><p>The <code>fstab</code> entry is wrong.</p>'),
                ("ja", '<h2 id="genin">原因</h2><p>巨页面の設定が足りないため失敗します。</p>'),
                ("zh", "<p>挂载失败，检查 fstab 文件。</p>"),
            ]
        )
    ]


def _analysed(tmp_path: Path, name: str) -> tuple:
    folder = tmp_path / name
    folder.mkdir()
    docs, records, path, pages = analyse_chunk(_rows(), 5, str(folder))
    return docs, records, Path(path).read_bytes(), [page[:2] for page in pages]


def test_it_analyses_a_chunk_the_same_with_the_collector_on_or_off(tmp_path):
    assert gc.isenabled()
    enabled = _analysed(tmp_path, "enabled")
    assert gc.isenabled()  # the collector runs again after the task
    gc.disable()
    try:
        disabled = _analysed(tmp_path, "disabled")
        assert not gc.isenabled()  # a caller that paused it keeps it paused
    finally:
        gc.enable()
    assert enabled == disabled
    docs, records, _, pages = enabled
    assert [slug for slug, _ in records] == ["doc-0", "doc-1", "doc-2"]
    assert pages and all(first <= last for first, last in pages)


# Two words of one CRC-32 (found by search): their entries are ordered by the word as well.
SAME_CRC = ("w8fcb67", "w2418800")
RECORDED = [
    *SECTIONS,
    ("long", "Long", " ".join(["Disk disk DISK"] * (WINDOW_CANDIDATES + 40)) + " 1000000" * 300),
    ("crc", "Same CRC-32", "w8fcb67 and W2418800, then w2418800 w8fcb67 w8fcb67"),
    ("cjk-again", "巨页", "巨页面巨页 巨页面"),
    ("empty", "", ""),
]


@pytest.mark.skipif(sys.byteorder != "little", reason="records hold this machine's integers")
def test_it_writes_the_bytes_the_record_format_has_always_had():
    # Digests of records written by the code before this file took its shortcuts (sorting
    # the CRC-32s alone, counting spellings from one set, packing a single start). marshal
    # marks an object for back-references by its reference count, so a name left bound to
    # an entry's bytes changes the record: this catches that too. The header's anchors and
    # titles are interned since import31 (tests/kb/test_sections_deterministic.py): the
    # digests changed then, and again when each entry's pair and the header's flags came
    # out of zip and a bound name (marked for back-references); the decoded records did not.
    # Schema 7 keys a section's CJK words as the query's are, Traditional folded (kb/hanzi.py):
    # "設定" of the cjk section is keyed "设定", so the digests changed with the keys.
    import hashlib

    forward = hashlib.sha256(section_record(RECORDED)).hexdigest()
    backward = hashlib.sha256(section_record(RECORDED[::-1])).hexdigest()
    assert forward == "f578159c368b9c3a37ada52a95a1cf3b40ebe99de4ccb03892f016f6ff9d48f7"
    assert backward == "562237ffd264704eb3b60d1e11fb5edb4af12d6a5fda1abd1cbc4b2340d4da9a"


def test_it_finds_both_words_of_one_crc(tmp_path):
    import zlib

    assert zlib.crc32(SAME_CRC[0].encode()) == zlib.crc32(SAME_CRC[1].encode())
    record = _record(tmp_path, RECORDED)
    number = len(SECTIONS) + 1
    first = {entry[0]: entry for entry in record.entry(SAME_CRC[0])}[number]
    second = {entry[0]: entry for entry in record.entry(SAME_CRC[1])}[number]
    assert (first[1], first[2], array("I", first[3]).tolist()) == (3, 1, [0, 36, 44])
    assert (second[1], second[2], array("I", second[3]).tolist()) == (2, 2, [12, 27])
