"""Which section of a found article to point at, and the snippet shown from it.

Sections are stored in the index as (anchor, title, text) as the author wrote them, so a
snippet shows the author's words; matching ignores case. Snippets are HTML: the text is
escaped and only our own <mark> tags are added.

Finding the query's words in every section of every hit is most of the work after the
engine, so it is done the way Python's regular expressions are fast
(CPython `Lib/re/_compiler.py`, `_get_charset_prefix`): one alternation of plain lower-case
literals over the lower-cased text. Such a pattern starts with a set of first characters,
and the matcher skips in C every position whose character is not in it; `re.IGNORECASE` or
a leading `\\b` takes that skip away, and every position then tries every word. Latin words
must start and end on a word boundary: the end is `\\b` after the word, the start a
look-behind placed after it (`word(?<!\\wword)`: no word character before the word), so the
pattern still starts with the word's letters and keeps the skip, and every match the regex
engine returns is a match: nothing is checked per match in Python. CJK bigrams match
anywhere: Japanese and Chinese put no space between words. A text whose lower case has
another length (a few characters such as "İ" grow) is searched with the case-insensitive
pattern instead, so offsets always point into the text as written. Measured on the
benchmark's 153 queries over 3 011 real documents: the same matches as the
case-insensitive pattern with `\\b` on both sides, found in a third of the time.

Matches are kept as (start, end) spans taken in C (`map(re.Match.span, ...)`), and a
section's distinct words are counted from slices made in C too: the slowest queries find
thousands of matches of common words ("the", "in") in 300 KB of sections, and a Python step
per match was most of their time.

Even so the scan costs about 19 ns a character, and a hit's best section is chosen among all
its sections: at 10 000 real documents the slowest queries scanned 200-350 KB a query, two
thirds of it in sections not shown. So long documents carry, per section, a Bloom filter of
the words a query can match there (`section_filters`, written at index time). It bounds a
section's distinct words from above; sections are scanned best bound first and the scan stops
when no bound left can reach the best count found: the same section and snippet as a scan of
every section, scanning a few of them. Measured, and not kept: an exact table of every
section's words (counts and spellings) chose the section without any scan, but it is about as
large as the text, and the stored fields of every hit read (found, not only shown) grew by
that much: what the scan saved was spent decompressing and unpickling it.
"""

from __future__ import annotations

import bisect
import html
import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import starmap
from operator import itemgetter

from kb.analysis import _CJK, bigram_spans, fold, has_cjk

SNIPPET_CHARS = 240
# A snippet's window opens this many characters before the match it is built around.
LEAD_CHARS = 40
# Windows are tried around the first this many matches of the chosen section.
WINDOW_CANDIDATES = 64
# At most this many of the query's words are looked for (the longest first).
MAX_NEEDLES = 200


_SPAN = re.Match.span


@dataclass(frozen=True)
class Needles:
    """The query's words (Latin words, CJK bigrams) and the patterns that find them."""

    lower: re.Pattern[str]  # for lower-cased text: plain literals, boundaries in the pattern
    anycase: re.Pattern[str]  # for text whose lower case changes its length
    # Per word, the hashes of its key in a section filter (`section_filters`) and of its
    # second, third... spelling; None when a word is one CJK character (filters hold bigrams).
    keys: tuple[tuple[tuple[int, int], tuple[tuple[int, int], ...]], ...] | None = None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every match in `text`, left to right, offsets into `text` as given."""
        lowered = text.lower()
        if len(lowered) != len(text):
            return list(map(_SPAN, self.anycase.finditer(text)))
        return list(map(_SPAN, self.lower.finditer(lowered)))


def needles(prepared: str) -> Needles | None:
    """The query's words to find in sections, or None when it has none worth marking."""
    words = {
        token for token, _, _ in bigram_spans(fold(prepared)) if len(token) > 1 or has_cjk(token)
    }
    if not words:
        return None
    chosen = sorted(words, key=len, reverse=True)[:MAX_NEEDLES]
    latin = frozenset(w for w in chosen if not has_cjk(w))
    lower = [
        (rf"{re.escape(w)}(?<!\w{re.escape(w)})\b" if w in latin else re.escape(w)) for w in chosen
    ]
    anycase = [(rf"\b{re.escape(w)}\b" if w in latin else re.escape(w)) for w in chosen]
    keys = None
    if all(len(w) == 2 for w in chosen if w not in latin):  # noqa: PLR2004 - CJK bigrams
        keys = tuple(
            (
                _key_hashes(w),
                tuple(_key_hashes(f"{w}\x01{n}") for n in range(2, 2 + SPELLING_KEYS))
                if w in latin
                else (),
            )
            for w in chosen
        )
    return Needles(
        lower=re.compile("|".join(lower)),
        anycase=re.compile("|".join(anycase), re.IGNORECASE),
        keys=keys,
    )


def best_section(
    sections: Sequence[tuple[str, str, str]], words: Needles | None
) -> tuple[str, str, str]:
    """Pick the section with the most distinct matched words; return (id, title, snippet).

    Ties go to the section with more matches, then to the earlier one.
    """
    if words is None or not sections:
        return "", "", ""
    best = None
    best_key = (0, 0)
    for section_id, title, text in sections:
        found = words.spans(text)
        if not found:
            continue
        # Distinct words as written (case counts): slices made and collected in C.
        key = (len(set(map(text.__getitem__, starmap(slice, found)))), len(found))
        if key > best_key:
            best_key = key
            best = (section_id, title, text, found)
    if best is None:
        return "", "", ""
    section_id, title, text, found = best
    return section_id, title, snippet_at(text, found)


# --- which sections can hold the best match: filters written at index time ------------------

# Documents with fewer characters in their sections get no filters: scanning them all costs
# at most about 0.15 ms (19 ns a character).
FILTER_MIN_CHARS = 8192
FILTER_BITS_PER_KEY = 12  # two hashes: about 2 % of absent words pass
CHAR_BITS = 7  # a filter is a str of code points below 128: pickled as one byte each
SPELLING_KEYS = 4  # spellings of a word counted exactly, beyond that "many"
_RUN = re.compile(r"\w+")
_CJK_RUN = re.compile(rf"[{_CJK}]{{2,}}")
# A Latin word of a query: what `bigram_spans` yields outside CJK runs (`_WORD_RE`).
_LATIN_WORD = re.compile(rf"[^\W_{_CJK}]{{2,}}")


def _key_hashes(key: str) -> tuple[int, int]:
    """Two hashes of a filter key that every process agrees on (str hashes are salted)."""
    data = key.encode("utf-8")
    return zlib.crc32(data), zlib.adler32(data) | 1


def section_filters(texts: Sequence[str]) -> list[str] | None:
    """For a long document, one Bloom filter per section of what a query word can match
    there, so that a search scans only the sections that can hold its best match.

    A section's keys: each Latin word (a maximal run of word characters of the lower-cased
    text, as `Needles` matches them) a query word can equal; `word\x01n` when the section
    writes it in n >= 2 ways; each CJK bigram. An empty filter marks a section whose lower
    case has another length (searched case-insensitively): always scanned. None for a
    document shorter than FILTER_MIN_CHARS.
    """
    if sum(map(len, texts)) < FILTER_MIN_CHARS:
        return None
    filters = []
    latin: dict[str, bool] = {}
    for text in texts:
        lowered = text.lower()
        if len(lowered) != len(text):
            filters.append("")
            continue
        runs = _RUN.findall(lowered)
        keys = set()
        for term in set(runs):
            wanted = latin.get(term)
            if wanted is None:
                wanted = latin[term] = _LATIN_WORD.fullmatch(term) is not None
            if wanted:
                keys.add(term)
        if lowered != text:  # otherwise every word is written in lower case: one spelling
            written = _RUN.findall(text)
            if list(map(str.lower, written)) != runs:
                slices = list(starmap(slice, map(_SPAN, _RUN.finditer(lowered))))
                written = list(map(text.__getitem__, slices))
            spellings = Counter(map(itemgetter(0), set(zip(runs, written, strict=True))))
            for term, count in spellings.items():
                if count > 1 and term in keys:
                    keys.update(f"{term}\x01{n}" for n in range(2, count + 1))
        for run in _CJK_RUN.findall(lowered):
            keys.update(
                map(run.__getitem__, map(slice, range(len(run) - 1), range(2, len(run) + 1)))
            )
        filters.append(_bloom(keys))
    return filters


def _bloom(keys: set[str]) -> str:
    size = max(1, -(-len(keys) * FILTER_BITS_PER_KEY // CHAR_BITS))
    bits = size * CHAR_BITS
    cells = bytearray(size)
    # `_key_hashes` of every key, computed in C.
    data = list(map(str.encode, keys))
    for first, step in zip(map(zlib.crc32, data), map(zlib.adler32, data), strict=True):
        position = first % bits
        cells[position // CHAR_BITS] |= 1 << (position % CHAR_BITS)
        position = (first + (step | 1)) % bits
        cells[position // CHAR_BITS] |= 1 << (position % CHAR_BITS)
    return cells.decode("ascii")


def _holds(bloom: str, bits: int, hashes: tuple[int, int]) -> bool:
    first, step = hashes
    position = first % bits
    if not ord(bloom[position // CHAR_BITS]) >> (position % CHAR_BITS) & 1:
        return False
    position = (first + step) % bits
    return bool(ord(bloom[position // CHAR_BITS]) >> (position % CHAR_BITS) & 1)


def best_filtered_section(
    sections: Sequence[tuple[str, str, str]], filters: Sequence[str] | None, words: Needles | None
) -> tuple[str, str, str]:
    """`best_section`, scanning only the sections whose filters say they can win.

    A filter gives each section an upper bound of its distinct words (a Bloom filter has no
    false negatives, and a word's spellings are keys of their own). Sections are scanned in
    the order of their bounds; once a bound is below the best distinct count found, no
    section left can be chosen. Matches are not in the filter, so every section whose bound
    equals the best count is scanned (more matches would win).
    """
    if filters is None or words is None or words.keys is None or not sections:
        return best_section(sections, words)
    bounds = _bounds(filters, words.keys)
    best, best_key, best_found = None, (0, 0), None
    for position in sorted(range(len(sections)), key=lambda i: (-bounds[i], i)):
        if bounds[position] == 0 or bounds[position] < best_key[0]:
            break  # sorted by bound: no section left can be chosen
        text = sections[position][2]
        found = words.spans(text)
        if not found:
            continue
        key = (len(set(map(text.__getitem__, starmap(slice, found)))), len(found))
        if key > best_key or (key == best_key and position < best):
            best, best_key, best_found = position, key, found
    if best is None:
        return "", "", ""
    section_id, title, text = sections[best]
    return section_id, title, snippet_at(text, best_found)


def _bounds(
    filters: Sequence[str], keys: tuple[tuple[tuple[int, int], tuple[tuple[int, int], ...]], ...]
) -> list[float]:
    """Each section's upper bound of distinct words: `_holds` of every key, inlined.

    The bounds of every section of a long document are computed for each hit shown (at
    10 000 documents, about 1 000 filter look-ups a query); a function call per look-up was
    half their cost. A filter is read as bytes, whose items are ints already.
    """
    many = math.inf  # a section the filter does not describe, or a word of many spellings
    bounds: list[float] = []
    for bloom in filters:
        if not bloom:
            bounds.append(many)
            continue
        cells = bloom.encode("ascii")
        bits = len(cells) * CHAR_BITS
        bound: float = 0
        for (first, step), spellings in keys:
            position = first % bits
            if not cells[position // CHAR_BITS] >> position % CHAR_BITS & 1:
                continue
            position = (first + step) % bits
            if not cells[position // CHAR_BITS] >> position % CHAR_BITS & 1:
                continue
            bound += 1
            for first, step in spellings:  # noqa: B020, PLW2901 - the spelling's own hashes
                position = first % bits
                if not cells[position // CHAR_BITS] >> position % CHAR_BITS & 1:
                    break
                position = (first + step) % bits
                if not cells[position // CHAR_BITS] >> position % CHAR_BITS & 1:
                    break
                bound += 1
            else:
                if spellings:
                    bound = many
        bounds.append(bound)
    return bounds


def snippet_at(text: str, found: Sequence[tuple[int, int]]) -> str:
    """The window of text with the most matches, escaped, matches wrapped in <mark>.

    `found` holds the matches' (start, end) in text order. Each candidate window is counted
    with two pointers that only move forward, so choosing the window costs one pass over the
    matches.
    """
    if len(found) > WINDOW_CANDIDATES:
        # The windows open around the first WINDOW_CANDIDATES matches and end at most
        # SNIPPET_CHARS after the last of them: later matches change nothing, and a section
        # of common words holds thousands.
        reach = found[WINDOW_CANDIDATES - 1][0] + SNIPPET_CHARS
        found = found[: bisect.bisect_left(found, (reach,))]
    starts = list(map(itemgetter(0), found))
    start = anchor = 0
    best_count = -1
    low = high = 0
    for position in starts[:WINDOW_CANDIDATES]:
        window_start = max(0, position - LEAD_CHARS)
        while low < len(starts) and starts[low] < window_start:
            low += 1
        while high < len(starts) and starts[high] < window_start + SNIPPET_CHARS:
            high += 1
        if high - low > best_count:
            best_count = high - low
            start, anchor = window_start, position
    start = _word_start(text, start, anchor)
    end = min(len(text), start + SNIPPET_CHARS)
    pieces = []
    cursor = start
    # Only the matches inside the window are marked; those before it are skipped by bisection.
    for match_start, match_end in found[bisect.bisect_left(starts, start) :]:
        if match_start >= end:
            break  # this one and every later one end past the window
        if match_start < cursor or match_end > end:
            continue
        pieces.append(html.escape(text[cursor:match_start]))
        pieces.append(f"<mark>{html.escape(text[match_start:match_end])}</mark>")
        cursor = match_end
    pieces.append(html.escape(text[cursor:end]))
    shown = "".join(pieces).replace("\n", " ")
    # Adjacent matched words read as one highlighted phrase.
    shown = re.sub(r"</mark>(\s*)<mark>", r"\1", shown)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return f"{prefix}{shown.strip()}{suffix}"


def _is_latin_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def _word_start(text: str, start: int, anchor: int) -> int:
    """Move a snippet's start off the middle of a Latin word (never past the match it shows).

    CJK text has no spaces between words; it is left as it is.
    """
    if start <= 0 or start >= len(text):
        return start
    if not (_is_latin_word_char(text[start - 1]) and _is_latin_word_char(text[start])):
        return start
    position = start
    while position < anchor and _is_latin_word_char(text[position]):
        position += 1
    while position < anchor and text[position].isspace():
        position += 1
    return position


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
