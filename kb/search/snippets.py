"""Which section of a found article to point at, and the snippet shown from it.

Sections are kept beside the index as (anchor, title, text) as the author wrote them, so a
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
thirds of it in sections not shown. So the rebuild writes a table of each section's words
beside the index (kb/search/sections.py), and `best_recorded_section` counts the query's
matches from it: the same section and snippet as `best_section`, the scan of every section,
which stays for the sections without a table and for queries of one CJK character.
Measured before, and not kept: a Bloom filter per section in the stored fields (scan only
the sections whose bound can win), and an exact table in the stored fields, which every hit
read (found, not only shown) decompressed and unpickled, spending what the scan saved.
"""

from __future__ import annotations

import bisect
import html
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import starmap
from operator import itemgetter

from kb.analysis import bigram_spans, content_terms, fold, has_cjk
from kb.hanzi import simplified

SNIPPET_CHARS = 240
# A snippet's window opens this many characters before the match it is built around.
LEAD_CHARS = 40
# Windows are tried around the first this many matches of the chosen section.
WINDOW_CANDIDATES = 64
# At most this many of the query's words are looked for (the longest first).
MAX_NEEDLES = 200


_SPAN = re.Match.span
# Where a match opens and closes in a snippet before it is escaped (`snippet_at`): control
# characters html.escape leaves alone and that no whitespace class holds.
_OPEN, _CLOSE = "\x00", "\x01"
_ADJACENT_MARKS = re.compile(f"{_CLOSE}(\\s*){_OPEN}")
_ADJACENT_TAGS = re.compile(r"</mark>(\s*)<mark>")


@dataclass(frozen=True)
class Needles:
    """The query's words (Latin words, CJK bigrams) and the patterns that find them.

    The patterns are compiled on first use: with the sections file's tables, most queries
    never scan a section (`best_recorded_section`), and compiling the two alternations of up
    to MAX_NEEDLES words was 4 % of a search page's CPU (cProfile, 200 new queries at 10 011
    real documents), paid by every query.
    """

    lower_source: str  # for lower-cased text: plain literals, boundaries in the pattern
    anycase_source: str  # for text whose lower case changes its length
    # The words in the order of the patterns' alternation, each with True when it is a Latin
    # word (else a CJK bigram), for the tables of the sections file (kb/search/sections.py);
    # None when a word is one CJK character (the tables hold bigrams).
    table: tuple[tuple[str, bool], ...] | None = None

    @cached_property
    def lower(self) -> re.Pattern[str]:
        return re.compile(self.lower_source)

    @cached_property
    def anycase(self) -> re.Pattern[str]:
        return re.compile(self.anycase_source, re.IGNORECASE)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every match in `text`, left to right, offsets into `text` as given."""
        # The query's words are Simplified (kb/hanzi.py); so is what they are looked for in,
        # with the same length, so the spans mark the text as written.
        lowered = simplified(text.lower())
        if len(lowered) != len(text):
            return list(map(_SPAN, self.anycase.finditer(simplified(text))))
        return list(map(_SPAN, self.lower.finditer(lowered)))


def needles(prepared: str) -> Needles | None:
    """The query's words to find in sections, or None when it has none worth marking."""
    words = {
        token for token, _, _ in bigram_spans(fold(prepared)) if len(token) > 1 or has_cjk(token)
    }
    # Marked as the query finds (kb/search/query.py): not by "the" or "how" unless nothing
    # else was asked.
    words = set(content_terms(words))
    if not words:
        return None
    chosen = sorted(words, key=len, reverse=True)[:MAX_NEEDLES]
    latin = frozenset(w for w in chosen if not has_cjk(w))
    lower = [
        (rf"{re.escape(w)}(?<!\w{re.escape(w)})\b" if w in latin else re.escape(w)) for w in chosen
    ]
    anycase = [(rf"\b{re.escape(w)}\b" if w in latin else re.escape(w)) for w in chosen]
    table = None
    if all(len(w) == 2 for w in chosen if w not in latin):  # noqa: PLR2004 - CJK bigrams
        table = tuple((w, w in latin) for w in chosen)
    return Needles(lower_source="|".join(lower), anycase_source="|".join(anycase), table=table)


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


def best_recorded_section(record, words: Needles | None) -> tuple[str, str, str]:  # noqa: ANN001
    """`best_section` from a document's record in the sections file (kb/search/sections.py):
    the same section and snippet, counted from the tables of the query's words, with only
    the chosen section's text read and no section scanned but those without a table.

    Latin words' counts are exact. A section's bigrams may overlap, so their counts are an
    upper bound until its matches are resolved (`_bigram_matches`, a Python step per
    occurrence: 1-2 ms a query for the common bigrams of long Japanese documents); sections
    are resolved best bound first, and only while a bound can still beat the best key found.
    """
    if words is None or not len(record):
        return "", "", ""
    if words.table is None:
        return best_section(record.sections(), words)
    count = len(record)
    # Per section, (distinct words as written, matches): exact for Latin words; with the
    # bigrams' occurrences added, an upper bound.
    exact = [[0, 0] for _ in range(count)]
    bound = [[0, 0] for _ in range(count)]
    latin: dict[int, list[tuple[bytes, int]]] = {}
    bigrams: dict[int, list[tuple[bytes, str]]] = {}
    for word, is_latin in words.table:
        entry = record.entry(word)
        if entry is None:
            continue
        for section, found, spellings, starts in entry:
            counts = bound[section]
            counts[0] += spellings
            counts[1] += found
            if is_latin:
                counts = exact[section]
                counts[0] += spellings
                counts[1] += found
                latin.setdefault(section, []).append((starts, len(word)))
            else:
                bigrams.setdefault(section, []).append((starts, word))
    scanned: dict[int, list[tuple[int, int]]] = {}
    for section, tabled in enumerate(record.tabled):
        if not tabled:
            text = record.text(section)
            found = scanned[section] = words.spans(text)
            distinct = len(set(map(text.__getitem__, starmap(slice, found))))
            exact[section] = bound[section] = [distinct, len(found)]
    best, best_key = -1, (0, 0)
    taken: list[int] = []
    candidates = sorted(
        (-counts[0], -counts[1], section) for section, counts in enumerate(bound) if counts[1]
    )
    for minus_distinct, minus_matches, section in candidates:
        if (-minus_distinct, -minus_matches) < best_key:
            break  # sorted by bound: no section left can be chosen
        distinct, found = exact[section]
        lists = bigrams.get(section)
        starts: list[int] = []
        if lists is not None:
            starts, seen = _bigram_matches(lists)
            distinct, found = distinct + seen, found + len(starts)
        key = (distinct, found)
        if key > best_key or (key == best_key and section < best):
            best, best_key, taken = section, key, starts
    if best < 0:
        return "", "", ""
    found = scanned.get(best)
    if found is None:
        found = [(start, start + 2) for start in reachable(taken)]
        for starts, length in latin.get(best, ()):
            found.extend((start, start + length) for start in array("I", starts))
        found.sort()
    return record.ids[best], record.titles[best], snippet_at(record.text(best), found)


def _bigram_matches(lists: list[tuple[bytes, str]]) -> tuple[list[int], int]:
    """The starts of the bigrams the query's pattern matches in a section, given every start
    of each bigram, and how many distinct bigrams they are.

    The regular expression engine takes the leftmost match and goes on after its end, so of
    two overlapping occurrences (巨页 and 页面 in 巨页面) the first is matched. Two bigrams never
    start at the same place (the two characters there are the bigram)."""
    candidates = sorted((start, word) for starts, word in lists for start in array("I", starts))
    taken: list[int] = []
    seen: set[str] = set()
    free = 0
    for start, word in candidates:
        if start >= free:
            taken.append(start)
            seen.add(word)
            free = start + 2
    return taken, len(seen)


def reachable(starts: list[int]) -> list[int]:
    """Of the sorted starts of one word's matches in a section, those a snippet can read.

    The snippet's windows open around the section's first WINDOW_CANDIDATES matches and read
    SNIPPET_CHARS past the last of them (`snippet_at`). Each of those matches is among its
    own word's first WINDOW_CANDIDATES, and the section's WINDOW_CANDIDATES-th match starts no
    later than any word's own: so a word's later matches, from its own WINDOW_CANDIDATES-th
    start plus SNIPPET_CHARS on, are never read, whatever the other words' matches are.
    """
    if len(starts) <= WINDOW_CANDIDATES:
        return starts
    reach = starts[WINDOW_CANDIDATES - 1] + SNIPPET_CHARS
    return starts[: bisect.bisect_left(starts, reach)]


def snippet_at(text: str, found: Sequence[tuple[int, int]]) -> str:
    """The window of text with the most matches, escaped, matches wrapped in <mark>.

    `found` holds the matches' (start, end) in text order. Each candidate window is counted
    with two pointers that only move forward (each moved by bisection from where it stood),
    so choosing the window costs one pass over the matches.
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
        window_start = position - LEAD_CHARS if position > LEAD_CHARS else 0
        low = bisect.bisect_left(starts, window_start, low)
        high = bisect.bisect_left(starts, window_start + SNIPPET_CHARS, high)
        if high - low > best_count:
            best_count = high - low
            start, anchor = window_start, position
    start = _word_start(text, start, anchor)
    end = min(len(text), start + SNIPPET_CHARS)
    shown = _marked(text, found[bisect.bisect_left(starts, start) :], start, end)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return f"{prefix}{shown.strip()}{suffix}"


def _marked(text: str, found: Sequence[tuple[int, int]], start: int, end: int) -> str:
    """`text[start:end]` escaped, on one line, the matches in `found` (from `start` on, in
    text order) that fit wholly inside wrapped in <mark>, adjacent ones as one.

    The text is written with a mark character before and after each match and escaped once
    (html.escape replaces characters one by one, so escaping the whole is escaping each
    piece), the marks then written as tags: a dozen escapes of short pieces a snippet were
    2 % of a search page's CPU (cProfile, 300 new queries at 10 011 documents). A window
    that holds a mark character itself is escaped piece by piece.
    """
    window = text[start:end]
    plain = _OPEN not in window and _CLOSE not in window
    pieces = []
    cursor = start
    for match_start, match_end in found:
        if match_start >= end:
            break  # this one and every later one end past the window
        if match_start < cursor or match_end > end:
            continue
        if plain:
            pieces += (text[cursor:match_start], _OPEN, text[match_start:match_end], _CLOSE)
        else:
            pieces.append(html.escape(text[cursor:match_start]))
            pieces.append(f"<mark>{html.escape(text[match_start:match_end])}</mark>")
        cursor = match_end
    if not plain:
        pieces.append(html.escape(text[cursor:end]))
        # Adjacent matched words read as one highlighted phrase.
        return _ADJACENT_TAGS.sub(r"\1", "".join(pieces).replace("\n", " "))
    pieces.append(text[cursor:end])
    shown = _ADJACENT_MARKS.sub(r"\1", html.escape("".join(pieces)).replace("\n", " "))
    return shown.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


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
