"""The index build reads MeCab's words as printed lines (`index_lemmas`): the same lemmas as
fugashi's nodes (`_index_lemmas_by_node`, the way it read them before) and the query side."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import analysis
from kb.analysis import fold

ARTICLES = Path(__file__).resolve().parents[2] / "articles"

# Line breaks MeCab skips or keeps as words, CSV quotes in the text, a NUL (the node path),
# unknown words, empty and blank text.
AWKWARD = [
    "",
    " ",
    "\n\n",
    "コンテナ\r\nの\x0b\x0cメモリ\x1c\x1d\x1e\x85\u2028\u2029が足りない",
    'ログに"oomkilled","exit 137"と出る',
    "設定\tタブ\n改行\u3000全角空白",
    "前半\x00後半のテキスト",
    "ｶﾀｶﾅとＦＵＬＬ－ＷＩＤＴＨとzzqxvの未知語",
    "🙂絵文字のあとにkubectlとhelmfile",
    "ア" * 3000,
]


@pytest.mark.parametrize("text", AWKWARD)
def test_the_lines_give_the_nodes_lemmas_for_awkward_text(text):
    folded = fold(text)
    assert analysis.index_lemmas(folded) == analysis._index_lemmas_by_node(folded)
    assert analysis.index_lemmas(folded) == [t for t, _, _ in analysis.lemma_spans(folded)]


def test_the_lines_give_the_nodes_lemmas_for_this_repositorys_japanese_articles():
    texts = [fold(path.read_text(encoding="utf-8")) for path in sorted(ARTICLES.glob("*.ja.md"))]
    assert texts
    for text in texts:
        lemmas = analysis.index_lemmas(text)
        assert lemmas
        assert lemmas == analysis._index_lemmas_by_node(text)


def test_a_cleared_line_cache_gives_the_same_lemmas(monkeypatch):
    monkeypatch.setattr(analysis, "_LEMMA_CACHE_MAX", 2)
    folded = fold(AWKWARD[3] + AWKWARD[7])
    first = analysis.index_lemmas(folded)
    assert len(analysis._lemma_by_line) > 2  # filled past the limit: the next text clears it
    assert analysis.index_lemmas(folded) == first == analysis._index_lemmas_by_node(folded)
    assert len(analysis._lemma_by_line) <= len(first) + 20
