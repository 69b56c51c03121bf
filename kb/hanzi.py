"""Traditional Chinese read as Simplified, one character for one.

Chinese readers in Taiwan and Hong Kong write Traditional characters (掛載, 權限, 鏡像); the
curated articles, their reports and mechanism words are written in Simplified (挂载, 权限,
镜像). A reader that compared characters would see two unrelated texts: before this module,
56 of the 187 Chinese reports of the articles whose Traditional spelling differs lost their
answer in the troubleshooter (OpenCC's s2tw conversion of each report, 2026-12-04).

So every reader that compares Chinese (the diagnosis, the search index's bigrams) folds each
Traditional character to its Simplified form before it compares. The fold is per character
and keeps the text's length, so offsets into a folded text stay offsets into the text before
it. Where Taiwan and the mainland differ in vocabulary rather than in glyphs (伺服器 for 服务器,
檔案 for 文件), ``mainland_words`` reads a short list of IT words (kb/data/zh_tw_words.txt)
the mainland way; that changes lengths, so only the diagnosis uses it, not the search index.

Japanese is folded too, wherever Chinese is: a Japanese kanji that OpenCC treats as
Traditional (開, 時間) becomes its Simplified form on both sides of every comparison, so a
match that held before still holds; the Japanese lemma field of the search index reads the
text unfolded, as MeCab needs it.

The table (kb/data/hanzi_t2s.txt, 2 966 characters) is generated from OpenCC by
scripts/hanzi_table.py; tests/kb/test_hanzi.py checks it is current with the pinned OpenCC.
"""

from __future__ import annotations

import re
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent / "data" / "hanzi_t2s.txt"


def _load(path: Path) -> dict[int, str]:
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            traditional, simplified = line.split(" ")
            table[ord(traditional)] = simplified
    return table


_TABLE = _load(TABLE_PATH)
# Whether a text holds a Traditional character at all is one scan of one character class, in
# C: Simplified Chinese costs 3 ns a character and goes no further. A text that does is folded
# by ``str.translate``, 54-64 ns a character however dense its Traditional characters are; a
# regex substitution with a callback per character cost 29 ns on Japanese (a kanji in seven
# or so is OpenCC's Traditional: 設, 開) but 141 ns on dense Traditional text, which made the
# worst case of a 1 MB paste of Traditional error lines 125-146 ms against 91-103 ms for the
# same text in Simplified (2026-12-04, best of three over 84 000-840 000 characters).
_TRADITIONAL_RE = re.compile("[" + re.escape("".join(map(chr, _TABLE))) + "]")


def simplified(text: str) -> str:
    """``text`` with each Traditional Chinese character of the table in its Simplified form;
    the same length, every other character as it was."""
    if text.isascii() or _TRADITIONAL_RE.search(text) is None:
        return text
    return text.translate(_TABLE)


WORDS_PATH = Path(__file__).resolve().parent / "data" / "zh_tw_words.txt"


def _load_words(path: Path) -> dict[str, str]:
    words = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            taiwan, mainland = line.split(" ")[:2]
            words[simplified(taiwan)] = mainland
    return words


_MAINLAND = _load_words(WORDS_PATH)
# Longest first, so 设定档 is read before a shorter word inside it could be.
_TAIWAN_RE = re.compile("|".join(map(re.escape, sorted(_MAINLAND, key=len, reverse=True))))


def _mainland(match: re.Match[str]) -> str:
    return _MAINLAND[match.group()]


def mainland_words(folded: str) -> str:
    """``folded`` (through ``simplified``) with Taiwan's IT words in their mainland form
    (kb/data/zh_tw_words.txt: 档案 -> 文件, 逾时 -> 超时). Lengths change."""
    if folded.isascii():
        return folded
    return _TAIWAN_RE.sub(_mainland, folded)
