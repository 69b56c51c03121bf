"""How the diagnosis spells what it reads, texts and the words it looks for alike.

Every text a person pastes and every word, symptom and signature it is compared with goes
through ``reading`` (or ``canonical_cjk`` when already NFKC and lower case), so that two
spellings of one thing compare equal: Traditional and Simplified Chinese (and a few IT words
Taiwan and the mainland write differently), a space or none between CJK and Latin, a katakana
word with or without its closing long-vowel mark.
"""

from __future__ import annotations

import re
import unicodedata

from kb.hanzi import mainland_words, simplified

# Between a CJK character and a Latin letter or digit, Japanese and Chinese writers set a space
# or not as they please ("クライアント IP", "客户端IP"). Every text is read with exactly one
# space there (``canonical_cjk``), and so is every mechanism word: then "ノードのip" finds
# "ノードの IP", and a tree signature's ``\bprovider(create)?failed\b`` finds
# "ProviderFailedのまま" (``\b`` sees no boundary between two word characters, and Python
# counts CJK as word characters). Zero-width at most one character of look-around: linear.
_CJK_LATIN_GAP_RE = re.compile(
    r"(?<=[\u3040-\u30ff\u3400-\u9fff])[ \t]*(?=[0-9a-z])"
    r"|(?<=[0-9a-z])[ \t]*(?=[\u3040-\u30ff\u3400-\u9fff])"
)


# A katakana word's closing long-vowel mark is written or left out by house style ("サーバー"
# and "サーバ", "ロードバランサー" and "ロードバランサ": JIS Z 8301 drops it, the newer
# government style keeps it). It is dropped after two katakana or more, both in texts and in
# mechanism words, so either spelling finds the other ("キー" keeps its mark: one letter alone
# would be found inside too many words). One character of look-ahead, two of look-behind.
_CLOSING_LONG_VOWEL_RE = re.compile("(?<=[\u30a1-\u30fc][\u30a1-\u30fa])\u30fc+(?![\u30a1-\u30fc])")


def canonical_cjk(lowered: str) -> str:
    """``lowered`` (NFKC, lower case) as the diagnosis reads it: Traditional Chinese characters
    in their Simplified form and Taiwan's IT words in the mainland's (kb/hanzi.py: "掛載" finds
    "挂载", "檔案" finds "文件"), one space between each CJK character and a Latin letter or
    digit next to it, and no closing long-vowel mark on a katakana word."""
    chinese = mainland_words(simplified(lowered))
    return _CLOSING_LONG_VOWEL_RE.sub("", _CJK_LATIN_GAP_RE.sub(" ", chinese))


def reading(text: str) -> str:
    """``text`` as the diagnosis reads it: NFKC, lower case, then ``canonical_cjk``."""
    return canonical_cjk(unicodedata.normalize("NFKC", text).lower())
