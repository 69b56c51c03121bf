"""Japanese lemmas come from taggers lent one caller at a time, not one tagger per thread."""

from __future__ import annotations

import threading

from kb import analysis

TEXTS = [
    "ファイルシステムのバージョンを表示して終了する",
    "コンテナが再起動を繰り返すのはメモリ不足のためです",
    "ノードに十分なリソースがないのでポッドはスケジュールされません",
]


def _run_in_threads(count: int, *, together: bool) -> list[list[str]]:
    results: list[list[str]] = [[] for _ in range(count)]
    start = threading.Barrier(count) if together else None

    def work(i: int) -> None:
        if start is not None:
            start.wait(timeout=30)
        results[i] = [term for text in TEXTS for term in analysis.lemma_terms(text)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
        if not together:
            thread.join(timeout=60)
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_threads_one_after_another_share_one_tagger():
    expected = [term for text in TEXTS for term in analysis.lemma_terms(text)]
    assert "表示" in expected
    assert "為る" in expected  # UniDic's lemma of して
    assert "の" not in expected  # particles dropped
    analysis._free_taggers.clear()
    results = _run_in_threads(8, together=False)
    assert results == [expected] * 8
    # Per thread, eight taggers (about 9 MB each) would now be alive; lent, one is.
    assert len(analysis._free_taggers) == 1


def test_threads_at_once_each_get_their_own_tagger_and_the_same_lemmas():
    expected = [term for text in TEXTS for term in analysis.lemma_terms(text)]
    analysis._free_taggers.clear()
    results = _run_in_threads(6, together=True)
    assert results == [expected] * 6
    assert 1 <= len(analysis._free_taggers) <= 6


def test_spans_point_at_the_words_in_the_text():
    text = analysis.fold(TEXTS[0])
    for lemma, start, end in analysis.lemma_spans(text):
        assert 0 <= start < end <= len(text)
        assert lemma
