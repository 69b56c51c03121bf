"""One rule turns a MeCab word into the lemma field's term (`kb.analysis.word_term`), for
the query side (`lemma_spans`) and the index build (`index_lemmas`, with its caches)."""

from __future__ import annotations

import pytest

from kb import analysis
from kb.analysis import fold, index_lemmas, lemma_spans, word_term

# Unknown words (kubectl, helmfile, zzqxv) share one feature string without a lemma: each
# must keep its own surface, whatever the cache holds already.
TEXTS = [
    "kubectlとhelmfileとzzqxvのエラー",
    "zzqxvとkubectlのエラーリストを見る",
    "ボリュームがマウントできない。コンテナのメモリ制限を超えるとプロセスが強制終了されます。",
    "ＦＵＬＬ－ＷＩＤＴＨ ｶﾀｶﾅ テスト テスト、（未知語）!!",
]


def test_it_drops_particles_and_symbols_and_keeps_the_japanese_form():
    assert word_term("助詞", "は", "は") == ""
    assert word_term("補助記号", "、", "、") == ""
    assert word_term("名詞", "エラー-error", "エラー") == "エラー"
    assert word_term("名詞", None, "Ｋｕｂｅｃｔｌ") == "kubectl"  # no lemma: the surface
    assert word_term("名詞", "", "ab-cd") == "ab"
    assert word_term(None, None, " ") == ""


def test_it_gives_the_unknown_words_their_own_surfaces():
    folded = fold(TEXTS[0])
    assert index_lemmas(folded) == ["kubectl", "helmfile", "zzqxv", "エラー"]
    assert index_lemmas(fold(TEXTS[1]))[:2] == ["zzqxv", "kubectl"]


@pytest.mark.parametrize("cache_max", [0, 200_000])
def test_it_gives_the_query_sides_terms_with_a_cold_or_warm_cache(monkeypatch, cache_max):
    monkeypatch.setattr(analysis, "_LEMMA_CACHE_MAX", cache_max)
    for text in TEXTS * 2:
        folded = fold(text)
        expected = [term for term, _, _ in lemma_spans(folded)]
        assert expected
        assert index_lemmas(folded) == expected
