"""Which section of a found article to point at, and the snippet shown from it.

Sections are stored in the index as (anchor, title, text) as the author wrote them, so a
snippet shows the author's words; matching ignores case. The query's words are found with
one regular expression (`needles`): Latin words on word boundaries, CJK bigrams anywhere
(Japanese and Chinese put no spaces between words). Snippets are HTML: the text is escaped
and only our own <mark> tags are added.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from kb.analysis import bigram_spans, fold, has_cjk

SNIPPET_CHARS = 240


def needles(prepared: str) -> re.Pattern[str] | None:
    """A pattern finding the query's words (Latin words, CJK bigrams) in folded text."""
    words = {
        token for token, _, _ in bigram_spans(fold(prepared)) if len(token) > 1 or has_cjk(token)
    }
    if not words:
        return None
    alternatives = sorted((re.escape(w) for w in words), key=len, reverse=True)[:200]
    # Latin words match on word boundaries; CJK bigrams anywhere.
    parts = [a if has_cjk(a) else rf"\b{a}\b" for a in alternatives]
    return re.compile("|".join(parts), re.IGNORECASE)


def best_section(
    sections: Sequence[tuple[str, str, str]], pattern: re.Pattern[str] | None
) -> tuple[str, str, str]:
    """Pick the section with the most distinct matched words; return (id, title, snippet)."""
    if pattern is None or not sections:
        return "", "", ""
    best = None
    best_key = (0, 0)
    for section_id, title, text in sections:
        found = list(pattern.finditer(text))
        if not found:
            continue
        key = (len({m.group(0) for m in found}), len(found))
        if key > best_key:
            best_key = key
            best = (section_id, title, text, found)
    if best is None:
        return "", "", ""
    section_id, title, text, found = best
    return section_id, title, snippet(text, found)


def snippet(text: str, found: list[re.Match[str]]) -> str:
    """The window of text with the most matches, escaped, matches wrapped in <mark>."""
    start = 0
    anchor = 0
    best_count = -1
    for match in found[:64]:
        window_start = max(0, match.start() - 40)
        count = sum(1 for m in found if window_start <= m.start() < window_start + SNIPPET_CHARS)
        if count > best_count:
            best_count = count
            start = window_start
            anchor = match.start()
    start = _word_start(text, start, anchor)
    end = min(len(text), start + SNIPPET_CHARS)
    pieces = []
    cursor = start
    for match in found:
        if match.start() < cursor or match.end() > end:
            continue
        pieces.append(html.escape(text[cursor : match.start()]))
        pieces.append(f"<mark>{html.escape(match.group(0))}</mark>")
        cursor = match.end()
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
