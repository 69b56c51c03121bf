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
from collections import Counter
from collections.abc import Iterable, Iterator

from whoosh.analysis import Token, Tokenizer

from kb.hanzi import simplified

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
    Traditional Chinese characters are yielded in their Simplified form (kb/hanzi.py: a query
    in either script finds an article in either). Offsets are into `text` as given (the fold
    keeps lengths); callers fold the text first.
    """
    for match in _WORD_RE.finditer(simplified(text)):
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


# English words that carry no subject: Whoosh's own stop list (whoosh.analysis.STOP_WORDS)
# and the other pronouns, question words and auxiliaries of a question typed in plain English.
# They stay in the index and in phrase matches (an error string is matched as it is written);
# a query does not find, rank or mark articles by them alone (kb/search/query.py, snippets.py).
# Negations (not, no, cannot) are in Whoosh's list only as "not"; they are kept out of it here,
# since "no such file" and "not found" say what went wrong.
QUERY_STOP_WORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "if"),
        *("in", "is", "it", "may", "of", "on", "or", "that", "the", "this", "to", "us", "we"),
        *("when", "will", "with", "yet", "you", "your", "i", "me", "my", "our", "its", "they"),
        *("them", "their", "how", "what", "why", "which", "who", "do", "does", "did", "has"),
        *("had", "was", "were", "been", "am", "but", "so", "there", "these", "those", "into"),
        *("than", "then", "would", "should", "could", "about", "also", "just"),
    }
)


def content_terms(terms: Iterable[str]) -> list[str]:
    """`terms` without the stop words, or all of them when nothing else is left (in order)."""
    terms = list(terms)
    kept = [t for t in terms if t not in QUERY_STOP_WORDS]
    return kept or terms


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


def word_term(pos1: str | None, lemma: str | None, surface: str) -> str:
    """The term one MeCab word gives the lemma field, "" for none: nothing for a particle,
    auxiliary or symbol (`pos1` in _SKIP_POS), else UniDic's lemma (the surface when it has
    none) in its Japanese form, folded. The one rule `lemma_spans` and `index_lemmas` share."""
    if pos1 in _SKIP_POS:
        return ""
    # UniDic writes loanwords as "リスト-list"; keep the Japanese form.
    return fold((lemma or surface).split("-", 1)[0]).strip()


def lemma_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield (lemma, start, end) for Japanese text, particles and symbols dropped."""
    # Read everything from the parse before the tagger goes back: its nodes are its own.
    with _borrowed_tagger() as tagger:
        words = [
            (
                word.surface,
                word_term(
                    getattr(word.feature, "pos1", None),
                    getattr(word.feature, "lemma", None),
                    word.surface,
                ),
            )
            for word in tagger(text)
        ]
    offset = 0
    for surface, term in words:
        found = text.find(surface, offset)
        start = found if found >= 0 else offset
        end = start + len(surface)
        offset = end
        if term:
            yield term, start, end


def lemma_terms(text: str) -> list[str]:
    """The terms the Japanese lemma field indexes for `text`, in order."""
    return [token for token, _, _ in lemma_spans(fold(text))]


# --- the index build's path -----------------------------------------------------------------
#
# A rebuild analyses every article's fields once; Whoosh's `field.index()` does it through a
# Token object per word (our tokenizer's generator, Whoosh's `unstopped` filter, the format's
# `word_values` loop). cProfile of `analyse_chunk` over 1 002 real articles (every tenth of
# 10 011): 28.2 s profiled, 16.9 s of it in `word_values`, of which the bigram spans 4.5 s
# and MeCab's words 6.7 s. `index_terms` gives the same tuples from plain lists.


def index_bigrams(folded: str) -> list[str]:
    """The tokens `bigram_spans` yields for already-folded text, without their offsets."""
    folded = simplified(folded)
    if _CJK_RE.search(folded) is None:
        return _WORD_RE.findall(folded)  # no CJK run: every match is a whole word
    tokens: list[str] = []
    for word in _WORD_RE.findall(folded):
        if len(word) > 1 and _CJK_RE.match(word):
            tokens.extend(
                map(word.__getitem__, map(slice, range(len(word) - 1), range(2, len(word) + 1)))
            )
        else:
            tokens.append(word)
    return tokens


# MeCab's feature string of a word -> its folded lemma ("" when skipped). UniDic's features
# are a pure function of that string (fugashi parses it into a named tuple on each access,
# which cost three times MeCab's own parse: 53 against 18 ms for 3 000 words), and the words
# of technical Japanese repeat across articles. Bounded: cleared when it grows past this.
_LEMMA_CACHE_MAX = 200_000
_lemma_by_feature: dict[str, str] = {}
_lemma_by_surface: dict[str, str] = {}
# In `_lemma_by_feature`: the word's features hold no lemma, so its term depends on its surface.
_BY_SURFACE = "\x00by surface"


def index_lemmas(folded: str) -> list[str]:
    """The lemmas `lemma_spans` yields for already-folded text, without their offsets."""
    by_feature = _lemma_by_feature
    by_surface = _lemma_by_surface
    if len(by_feature) > _LEMMA_CACHE_MAX or len(by_surface) > _LEMMA_CACHE_MAX:
        by_feature.clear()
        by_surface.clear()
    lemmas: list[str] = []
    with _borrowed_tagger() as tagger:
        for word in tagger(folded):
            raw = word.feature_raw
            lemma = by_feature.get(raw)
            if lemma is None:
                feature = word.feature
                pos1 = getattr(feature, "pos1", None)
                given = getattr(feature, "lemma", None)
                if pos1 in _SKIP_POS or given:
                    lemma = by_feature[raw] = word_term(pos1, given, "")
                else:
                    lemma = _BY_SURFACE  # no lemma: the surface stands in
                    by_feature[raw] = lemma
            if lemma is _BY_SURFACE:
                # Only kept words get here (a skipped one gave "" above): no pos1 to pass.
                surface = word.surface
                lemma = by_surface.get(surface)
                if lemma is None:
                    lemma = by_surface[surface] = word_term(None, None, surface)
            if lemma:
                lemmas.append(lemma)
    return lemmas


def index_terms(field, value: str) -> list[tuple[bytes, int, float, bytes]]:  # noqa: ANN001
    """`list(field.index(value))` for a rebuild: (term bytes, frequency, weight, encoded
    value) per distinct term, in order of first occurrence, computed without Whoosh's Token
    loop for our own two analyzers in Frequency and Positions formats (anything else goes
    through Whoosh). tests/kb/test_import_analysis.py compares both on real articles."""
    from whoosh.formats import Frequency, Positions
    from whoosh.system import pack_uint

    analyzer = field.analyzer
    kind = type(field.format)
    if not isinstance(value, str) or kind not in (Frequency, Positions):
        return list(field.index(value))
    if type(analyzer) is BigramTokenizer:
        tokens = index_bigrams(fold(value))
    elif type(analyzer) is JapaneseLemmaTokenizer:
        tokens = index_lemmas(fold(value))
    else:
        return list(field.index(value))
    boost = field.format.field_boost
    if kind is Frequency:
        # Counted in C, in order of first occurrence like the loop it replaced.
        counts = Counter(tokens)
        # Whoosh sums a boost of 1.0 per token: float(n) exactly.
        return [
            (token.encode("utf-8"), n, float(n) * boost, pack_uint(n))
            for token, n in counts.items()
        ]
    positions: dict[str, list[int]] = {}
    for number, token in enumerate(tokens):
        found = positions.get(token)
        if found is None:
            positions[token] = [number]
        else:
            found.append(number)
    encode = field.format.encode
    return [
        (token.encode("utf-8"), len(found), float(len(found)) * boost, encode(found))
        for token, found in positions.items()
    ]


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
