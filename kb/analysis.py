"""Text analysis for the search index: CJK bigrams for every document, Japanese lemmas.

Whoosh pickles the schema, analyzers included, into the index. So the classes here live in
this stable module, keep no engine state (the MeCab tagger is created lazily, per thread,
outside the instances), and any change to what they emit must bump `SCHEMA_VERSION` in
kb/search/index.py so the index is rebuilt (RESEARCH.md, "Search engine: Whoosh").

Why this design: measured on 17 ja/zh/en queries, a bigram field for all documents plus a
Japanese lemma field, searched together with phrases, found 17/17; either alone missed
(RESEARCH.md, "CJK text").
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import unicodedata
from collections.abc import Iterator

from whoosh.analysis import Token, Tokenizer

# A "word" is a run of Latin letters/digits (error strings keep their words: `mmap(HUGETLB)
# failed` → mmap hugetlb failed) or a run of CJK characters (Han, kana incl. the prolonged
# sound mark, Hangul). Everything else (punctuation, spaces, symbols) separates tokens.
_CJK = (
    "\u3040-\u309f"  # Hiragana
    "\u30a0-\u30ff"  # Katakana (includes ー)
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uac00-\ud7af"  # Hangul syllables
)
_WORD_RE = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)
_CJK_RE = re.compile(rf"[{_CJK}]")
_KANA_RE = re.compile("[\u3040-\u30ff]")

# Parts of speech (UniDic pos1) that carry no meaning for search.
_SKIP_POS = {"助詞", "助動詞", "補助記号", "記号", "空白"}


def fold(text: str) -> str:
    """NFKC and lower case: full-width letters, half-width kana and case stop mattering."""
    return unicodedata.normalize("NFKC", text).lower()


def has_kana(text: str) -> bool:
    """True when the text holds hiragana or katakana, the mark of Japanese."""
    return _KANA_RE.search(text) is not None


def has_cjk(text: str) -> bool:
    """True when the text holds any CJK character."""
    return _CJK_RE.search(text) is not None


def bigram_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield (token, start, end): Latin words whole, CJK runs as overlapping bigrams.

    A CJK run of one character is yielded as itself, so a one-character query has a term.
    Offsets are into `text` as given; callers fold the text first.
    """
    for match in _WORD_RE.finditer(text):
        word = match.group(0)
        start = match.start()
        if _CJK_RE.match(word):
            if len(word) == 1:
                yield word, start, start + 1
            else:
                for i in range(len(word) - 1):
                    yield word[i : i + 2], start + i, start + i + 2
        else:
            yield word, start, match.end()


def bigram_terms(text: str) -> list[str]:
    """The terms the bigram field indexes for `text`, in order."""
    return [token for token, _, _ in bigram_spans(fold(text))]


# Taggers lent to one caller at a time: a MeCab tagger keeps parse state between calls, so
# two threads must never use one at once, but one thread after another may. A tagger holds
# about 9 MB; one per thread made a gunicorn worker of 16 threads grow to 16 of them once
# Japanese queries had reached every thread (78 -> 203-218 MB per worker, 10 s of serving
# queries, 3 011 documents). Lent from a pool, a worker whose searches take turns keeps one.
_pool_lock = threading.Lock()
_free_taggers: list = []
_pool_pid: int | None = None


@contextlib.contextmanager
def _borrowed_tagger() -> Iterator:
    """A tagger for this caller alone while the block runs (never shared across a fork)."""
    global _pool_pid  # noqa: PLW0603 - the pool belongs to one process
    with _pool_lock:
        if _pool_pid != os.getpid():
            _free_taggers.clear()
            _pool_pid = os.getpid()
        tagger = _free_taggers.pop() if _free_taggers else None
    if tagger is None:
        import fugashi

        tagger = fugashi.Tagger()
    try:
        yield tagger
    finally:
        with _pool_lock:
            if _pool_pid == os.getpid():
                _free_taggers.append(tagger)


def _lemma(word) -> str:  # noqa: ANN001
    lemma = getattr(word.feature, "lemma", None) or word.surface
    # UniDic writes loanwords as "リスト-list"; keep the Japanese form.
    return lemma.split("-", 1)[0]


def lemma_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield (lemma, start, end) for Japanese text, particles and symbols dropped."""
    # Read everything from the parse before the tagger goes back: its nodes are its own.
    with _borrowed_tagger() as tagger:
        words = [
            (word.surface, pos1, "" if pos1 in _SKIP_POS else _lemma(word))
            for word in tagger(text)
            for pos1 in (getattr(word.feature, "pos1", None),)
        ]
    offset = 0
    for surface, pos1, base in words:
        found = text.find(surface, offset)
        start = found if found >= 0 else offset
        end = start + len(surface)
        offset = end
        if pos1 in _SKIP_POS:
            continue
        lemma = fold(base).strip()
        if lemma:
            yield lemma, start, end


def lemma_terms(text: str) -> list[str]:
    """The terms the Japanese lemma field indexes for `text`, in order."""
    return [token for token, _, _ in lemma_spans(fold(text))]


class _SpanTokenizer(Tokenizer):
    """Adapts a span function to Whoosh's tokenizer protocol (positions and chars)."""

    def spans(self, text: str) -> Iterator[tuple[str, int, int]]:
        raise NotImplementedError

    def __call__(  # noqa: PLR0913 - Whoosh's signature
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        folded = fold(value)
        for pos, (text, start, end) in enumerate(self.spans(folded)):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class BigramTokenizer(_SpanTokenizer):
    """Latin words whole, CJK runs as overlapping bigrams, NFKC-folded and lower-cased."""

    def spans(self, text: str) -> Iterator[tuple[str, int, int]]:
        return bigram_spans(text)


class JapaneseLemmaTokenizer(_SpanTokenizer):
    """MeCab (fugashi + unidic-lite) lemmas; particles, auxiliaries and symbols dropped."""

    def spans(self, text: str) -> Iterator[tuple[str, int, int]]:
        return lemma_spans(text)


def bigram_analyzer() -> BigramTokenizer:
    """The analyzer of the fields every document fills."""
    return BigramTokenizer()


def japanese_analyzer() -> JapaneseLemmaTokenizer:
    """The analyzer of the Japanese lemma field."""
    return JapaneseLemmaTokenizer()
