"""Each article's sections, kept beside the index with a table of the words each one holds.

A hit shown points at its best section (the most distinct query words as written, then the
most matches, then the earliest) with a snippet around its densest window of matches
(kb/search/snippets.py). Found by scanning the text, that cost about 19 ns a character, and
the text came out of Whoosh's stored fields, which decompress every section of a document
for every hit read. cProfile of the slowest tenth of the benchmark's queries (10 000 real
documents) put 5.5 of their 17 ms in choosing sections and snippets (the scan 2.0 ms) and
3.3 ms in stored fields (zlib of whole long documents).

So the rebuild writes, per document, one record in a file of its own beside the segment
(`SECTIONS_FILE`), read only for the hits shown:

- each section's anchor, title and text (UTF-8): a hit reads only the section it shows;
- a table of the words a query can match in each section, looked up by the query's words:
  for a Latin word (a whole run of word characters of the lower-cased text, which is what
  the query's pattern matches), its matches, its spellings as written ("The" and "the" are
  two) and where it starts; for a CJK bigram, where it starts. Latin matches never overlap,
  so their counts are exact; bigrams can ("巨页面" holds 巨页 and 页面, and the pattern takes
  the first), so the matches are resolved from the starts, left to right, as the regular
  expression engine takes them. The section and snippet are then exactly a scan's, with
  no scan: `best_recorded_section`.
- A Latin word's starts are kept only as far as a snippet can read them, whatever the
  other words of the query (`reachable` in kb/search/snippets.py); its count is of all.

A section whose lower case has another length (a few characters such as "İ" grow) has no
table: it is scanned case-insensitively, as before. A record is found by the document's
number, from a table at the end of the file read once per reader; inside a record, words
are found by bisection in their sorted CRC-32s and checked against the word stored with
the entry, so only the query's words are decoded.

Layout (integers in this machine's byte order, marked in the file's magic: the index is
built where it is read):
    record  = prefix, header, hashes, entry ends, entries, texts
    prefix  = struct <IIII: header, words, entries and texts lengths in bytes
    header  = marshal of (anchors, titles, each text's end in texts, per section 1 if tabled)
    hashes  = array I of each word's CRC-32, sorted; entry ends: array I, same order
    entry   = marshal of (word, ((section, matches, spellings, starts as array I bytes), ...))
    file    = records, array Q of each record's start (one more: the end), array I of each
              record's length up to its entries, the articles' versions (array I of each
              document's article, array I of the documents article by article, array I of
              where each article's documents start there, one more: the end), trailer <QQQ8s
              (records, articles, where the tables start, magic)
"""

from __future__ import annotations

import bisect
import marshal
import os
import re
import struct
import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Sequence
from itertools import accumulate, count, repeat
from operator import add, itemgetter
from pathlib import Path

from whoosh.reading import ReaderClosed

from kb.analysis import _CJK
from kb.hanzi import simplified
from kb.search.snippets import WINDOW_CANDIDATES, reachable

SECTIONS_FILE = "sections.kb"
_MAGIC = b"kbsect1" + sys.byteorder[0].encode("ascii")
_PREFIX = struct.Struct("<IIII")
_TRAILER = struct.Struct("<QQQ8s")
_ENCODING = ("utf-8", "surrogatepass")

_RUN_SPLIT = re.compile(r"(\w+)")  # `split` gives the word runs and the text between them
_CJK_RUN = re.compile(rf"[{_CJK}]{{2,}}")
# A Latin word of a query: what `bigram_spans` yields outside CJK runs (`_WORD_RE`).
_LATIN_WORD = re.compile(rf"[^\W_{_CJK}]{{2,}}")


# The hash of a word's encoded bytes: the one rule the writer sorts entries by and the
# reader looks words up by (a name of its own, so a test can make every word collide).
_crc = zlib.crc32


def _hash(word: str) -> int:
    return _crc(word.encode(*_ENCODING))


def _add_section(
    table: dict[str, list[tuple]], number: int, text: str, latin_words: dict[str, bool]
) -> bool:
    """Add section `number`'s words to the record's table: word -> [(section, matches,
    spellings, starts as array I bytes), ...]. False (nothing added) when the section's
    lower case has another length: no table, scanned at search time."""
    # Keyed as the query's words are (Traditional Chinese folded, kb/hanzi.py: same length).
    lowered = simplified(text.lower())
    if len(lowered) != len(text):
        return False
    # The runs and what lies between them, alternately: where each run starts and ends
    # follows from the lengths, without a Match object per run (finditer was a quarter of
    # building a record: 0.97 of about 4 ms an article, 2 003 real articles).
    parts = _RUN_SPLIT.split(lowered)
    offsets = [0, *accumulate(map(len, parts))]
    runs = parts[1::2]
    run_starts = offsets[1:-1:2]
    starts: dict[str, list[int]] = {}
    for run, start in zip(runs, run_starts, strict=True):
        found = starts.get(run)
        if found is None:
            starts[run] = [start]
        else:
            found.append(start)
    # A word's spellings as written ("The" and "the" are two), counted from the set of
    # distinct (run, as written) pairs, built in C; when there are as many pairs as runs,
    # every run is written one way.
    spelled: Counter[str] | None = None
    if lowered != text:  # otherwise every word is written in lower case: one spelling each
        written = map(text.__getitem__, map(slice, run_starts, offsets[2::2]))
        pairs = set(zip(runs, written, strict=True))
        if len(pairs) != len(starts):
            spelled = Counter(map(_first, pairs))
    one_start = _ONE_START.pack
    for run, found in starts.items():
        wanted = latin_words.get(run)
        if wanted is None:
            wanted = latin_words[run] = _LATIN_WORD.fullmatch(run) is not None
        if not wanted:
            continue
        # Nothing else may hold the starts' bytes: marshal flags an object for
        # back-references by its reference count, so a name still bound to the last bytes
        # object would change the record's bytes.
        matches = len(found)
        if matches == 1:
            entry = (number, 1, 1, one_start(found[0]))
        else:
            entry = (
                number,
                matches,
                spelled[run] if spelled is not None else 1,
                array("I", found if matches <= WINDOW_CANDIDATES else reachable(found)).tobytes(),
            )
        entries = table.get(run)
        if entries is None:
            table[run] = [entry]
        else:
            entries.append(entry)
    if lowered.isascii():  # a flag of the string, read in constant time: no CJK run
        return True
    # CJK bigrams: every start (they can overlap, the search resolves the matches).
    bigrams: dict[str, list[int]] = {}
    for match in _CJK_RUN.finditer(lowered):
        run = match.group()
        # Each bigram as one character plus the next, in C.
        for bigram, start in zip(map(add, run, run[1:]), count(match.start())):
            found = bigrams.get(bigram)
            if found is None:
                bigrams[bigram] = [start]
            else:
                found.append(start)
    for bigram, found in bigrams.items():
        matches = len(found)
        entry = (
            number,
            matches,
            1,
            one_start(found[0]) if matches == 1 else array("I", found).tobytes(),
        )
        entries = table.get(bigram)
        if entries is None:
            table[bigram] = [entry]
        else:
            entries.append(entry)
    return True


_ONE_START = struct.Struct("=I")  # what array("I", [start]).tobytes() gives, without the array
_first = itemgetter(0)


def section_record(sections: Sequence[tuple[str, str, str]]) -> bytes:
    """One document's record in the sections file: its sections and their words' table."""
    texts = [text.encode(*_ENCODING) for _, _, text in sections]
    ends = list(accumulate(map(len, texts)))
    table: dict[str, list[tuple]] = {}
    latin_words: dict[str, bool] = {}
    tabled = bytes(
        _add_section(table, number, text, latin_words)
        for number, (_, _, text) in enumerate(sections)
    )
    # The entries go in order of (CRC-32, word). Without two words of one CRC (nearly
    # always), sorting the CRCs alone gives that order: integers compare in C, pairs do not
    # (sorting the pairs was a tenth of building a record).
    # The hash is `_hash`'s, the one rule the reader looks words up by, computed in C.
    encoded = map(str.encode, table, repeat(_ENCODING[0]), repeat(_ENCODING[1]))
    by_hash = dict(zip(map(_crc, encoded), table, strict=True))
    if len(by_hash) == len(table):
        hashes = sorted(by_hash)
        ordered_words = list(map(by_hash.__getitem__, hashes))
    else:
        pairs = sorted((_hash(word), word) for word in table)
        hashes = [h for h, _ in pairs]
        ordered_words = [word for _, word in pairs]
    # Each entry (word, (its sections' entries, ...)) marshalled on its own: a hit reads
    # only the query's words. The pairs come from zip, which hands the same tuple back while
    # nobody else holds it: marshal marks each one for back-references, the same way for
    # every entry.
    entries = list(
        map(
            marshal.dumps,
            zip(ordered_words, map(tuple, map(table.__getitem__, ordered_words)), strict=True),
        )
    )
    entry_ends = array("I", accumulate(map(len, entries)))
    # Anchors and titles interned, every one: marshal writes a string as interned or not,
    # and a one-character string is one object per process, interned or not by whatever the
    # worker ran before (a literal or a string built at run time differs the same way).
    # Interned, equal strings are one object, each held by the caller's tuples or by whoever
    # interned it first as well as by the header: marshal then marks every one of them for
    # back-references and writes a repeated one as a reference, whatever the history. The
    # entries' words are new strings of two characters or more, never interned.
    intern = sys.intern
    header = marshal.dumps(
        (
            tuple(intern(section_id) for section_id, _, _ in sections),
            tuple(intern(title) for _, title, _ in sections),
            tuple(ends),
            tabled,
        )
    )
    entries_data = b"".join(entries)
    texts_data = b"".join(texts)
    return b"".join(
        (
            _PREFIX.pack(len(header), len(hashes), len(entries_data), len(texts_data)),
            header,
            array("I", hashes).tobytes(),
            entry_ends.tobytes(),
            entries_data,
            texts_data,
        )
    )


class SectionsWriter:
    """Writes the sections file of a rebuild: `add` each document's record in document order,
    then `close`."""

    def __init__(self, folder: Path) -> None:
        self._file = open(Path(folder) / SECTIONS_FILE, "wb")  # noqa: SIM115 - closed in close()
        self._starts = array("Q", [0])
        self._heads = array("I")
        self._versions: dict[str, list[int]] = {}

    def add(self, record: bytes, *, slug: str) -> None:
        """Append the next document's record (`section_record`); `slug` is its article's."""
        header, words, _, _ = _PREFIX.unpack_from(record)
        self._versions.setdefault(slug, []).append(len(self._heads))
        self._file.write(record)
        self._starts.append(self._starts[-1] + len(record))
        self._heads.append(_PREFIX.size + header + 8 * words)

    def close(self) -> None:
        """Write the table of records, the articles' versions and the trailer; the file is
        complete."""
        table = self._starts[-1]
        group_of = array("I", bytes(4 * len(self._heads)))
        flat = array("I")
        group_starts = array("I", [0])
        for group, docnums in enumerate(self._versions.values()):
            for docnum in docnums:
                group_of[docnum] = group
            flat.extend(docnums)
            group_starts.append(len(flat))
        for part in (self._starts, self._heads, group_of, flat, group_starts):
            self._file.write(part.tobytes())
        self._file.write(_TRAILER.pack(len(self._heads), len(self._versions), table, _MAGIC))
        self._file.close()

    def cancel(self) -> None:
        """Close without completing (the rebuild failed; its folder is removed)."""
        self._file.close()


class SectionsFile:
    """The sections file of one index folder, read by position (`os.pread`)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - lives with the reader
        fd = self._file.fileno()
        size = os.fstat(fd).st_size
        if size < _TRAILER.size:
            raise ValueError(f"{path} is truncated")
        count, groups, table, magic = _TRAILER.unpack(
            os.pread(fd, _TRAILER.size, size - _TRAILER.size)
        )
        length = 8 * (count + 1) + 12 * count + 4 * (groups + 1)
        if magic != _MAGIC or table + length + _TRAILER.size != size:
            raise ValueError(f"{path} is not a complete sections file of this machine")
        self.count = count
        data = os.pread(fd, length, table)
        at = 8 * (count + 1)
        self._starts = array("Q", data[:at])
        self._heads = array("I", data[at : at + 4 * count])
        self._group_of = array("I", data[at + 4 * count : at + 8 * count])
        self._flat = array("I", data[at + 8 * count : at + 12 * count])
        self._group_starts = array("I", data[at + 12 * count :])
        self._fd = fd

    def close(self) -> None:
        """Close the file (its reader was closed)."""
        self._file.close()

    def versions(self, docnum: int) -> list[int]:
        """The documents of the same article as `docnum` (its language versions, itself
        included), in document order: what the slug's postings give, from memory."""
        group = self._group_of[docnum]
        return self._flat[self._group_starts[group] : self._group_starts[group + 1]].tolist()

    def record(self, docnum: int) -> SectionsRecord:
        """The record of document `docnum`: its head read now, the rest when asked for."""
        if self._file.closed:
            raise ValueError("I/O operation on closed file")
        start = self._starts[docnum]
        return SectionsRecord(self, start, os.pread(self._fd, self._heads[docnum], start))


class SectionsRecord:
    """One document's sections: anchors and titles, each text and each word's entry on demand."""

    def __init__(self, sections_file: SectionsFile, start: int, head: bytes) -> None:
        header, words, entries, _ = _PREFIX.unpack_from(head)
        self.ids, self.titles, self._text_ends, self.tabled = marshal.loads(
            head[_PREFIX.size : _PREFIX.size + header]
        )
        at = _PREFIX.size + header
        self._hashes = array("I", head[at : at + 4 * words])
        self._entry_ends = array("I", head[at + 4 * words : at + 8 * words])
        self._file = sections_file  # kept open while a record is read
        self._fd = sections_file._fd  # noqa: SLF001
        self._entries = start + len(head)
        self._texts = self._entries + entries

    def __len__(self) -> int:
        return len(self.ids)

    def text(self, number: int) -> str:
        """The text of section `number`, as written."""
        ends = self._text_ends
        begin = ends[number - 1] if number else 0
        data = os.pread(self._fd, ends[number] - begin, self._texts + begin)
        return data.decode(*_ENCODING)

    def sections(self) -> list[tuple[str, str, str]]:
        """Every section as (anchor, title, text), read in one piece."""
        ends = self._text_ends
        data = os.pread(self._fd, ends[-1] if ends else 0, self._texts)
        texts = [
            data[begin:end].decode(*_ENCODING) for begin, end in zip((0, *ends), ends, strict=False)
        ]
        return list(zip(self.ids, self.titles, texts, strict=True))

    def entry(self, word: str) -> tuple | None:
        """((section, matches, spellings, starts as array I bytes), ...) of `word`, or None."""
        hashes = self._hashes
        key = _hash(word)
        position = bisect.bisect_left(hashes, key)
        ends = self._entry_ends
        while position < len(hashes) and hashes[position] == key:
            begin = ends[position - 1] if position else 0
            data = os.pread(self._fd, ends[position] - begin, self._entries + begin)
            found, sections = marshal.loads(data)
            if found == word:
                return sections
            position += 1
        return None


def sections_file(searcher) -> SectionsFile:  # noqa: ANN001
    """The sections file of the searcher's index, opened once per reader."""
    reader = searcher.reader()
    if reader.is_closed:
        raise ReaderClosed
    opened = getattr(reader, "_kb_sections", None)
    if opened is None:
        folder = searcher._ix.storage.folder  # noqa: SLF001
        opened = SectionsFile(Path(folder) / SECTIONS_FILE)
        if opened.count != reader.doc_count_all():
            opened.close()
            raise ValueError(f"{folder}: the sections file does not match the index")
        reader._kb_sections = opened  # noqa: SLF001
    return opened
