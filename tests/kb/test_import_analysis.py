"""A rebuild's own path through the analyzers gives what Whoosh's `field.index()` gives.

`kb.analysis.index_terms` computes a field's terms without Whoosh's Token loop, and caches
MeCab's lemmas by a word's feature string. These tests feed it and Whoosh the same texts,
real articles of this repository among them, field by field of the real schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import analysis
from kb.analysis import index_terms
from kb.importer import read_document
from kb.search.index import schema

ARTICLES = Path(__file__).resolve().parents[2] / "articles"

TEXTS = [
    "",
    "Back-off restarting failed container; mmap(HUGETLB) failed: ENOMEM ENOMEM enomem",
    "ＦＵＬＬ－ＷＩＤＴＨ Letters and ｶﾀｶﾅ half-width kana",
    "snake_case_names __init__ and_trailing_ 3.14 v1.2.3",
    "ボリュームがマウントできない。コンテナのメモリ制限を超えるとプロセスが強制終了されます。",
    "リストを見る: テスト テスト テスト、xyzzyqwerty を実行 (未知語)",
    "容器内存不足被杀死 OOMKilled 退出码 137",
    "一 二 字 쿠버네티스 파드가 재시작됩니다",
    "İstanbul ǅ ß ﬁle ⅷ",
]


def indexed_fields() -> list[tuple[str, object]]:
    fields = schema()
    return [(name, fields[name]) for name in sorted(fields.names()) if fields[name].indexed]


def article_texts() -> list[str]:
    texts = []
    for path in sorted(ARTICLES.glob("*.md")):
        document = read_document(path)
        texts += [document.title, document.summary, document.html, document.body]
    return texts


@pytest.mark.parametrize("text", TEXTS)
def test_it_gives_whooshs_terms_for_every_field(text):
    for name, field in indexed_fields():
        expected = list(field.index(text))
        assert index_terms(field, text) == expected, name
        assert index_terms(field, text) == expected, name  # again, from the lemma cache


def test_it_gives_whooshs_terms_for_this_repositorys_articles():
    texts = article_texts()
    assert any(analysis.has_kana(text) for text in texts)
    for text in texts:
        for name, field in indexed_fields():
            assert index_terms(field, text) == list(field.index(text)), name


def test_it_gives_the_same_lemmas_when_the_cache_is_cleared_between_texts(monkeypatch):
    monkeypatch.setattr(analysis, "_LEMMA_CACHE_MAX", 3)
    field = schema()["ja_text"]
    for text in TEXTS * 2:
        assert index_terms(field, text) == list(field.index(text))
    assert len(analysis._lemma_by_feature) <= 3 + 40  # cleared before a text, then filled


def test_it_gives_the_tokens_of_the_span_functions():
    for text in TEXTS:
        folded = analysis.fold(text)
        assert analysis.index_bigrams(folded) == [t for t, _, _ in analysis.bigram_spans(folded)]
        assert analysis.index_lemmas(folded) == [t for t, _, _ in analysis.lemma_spans(folded)]


def encode_all(tmp_path: Path, texts: list[str]) -> tuple[bytes, list]:
    """Analyse `texts` as articles and encode all their postings in this process."""
    from kb.search import bulk

    rows = [
        {
            "slug": f"doc-{n}",
            "title": text[:40] or "untitled",
            "lang": "ja" if analysis.has_kana(text) else "en",
            "summary": text[:200],
            "html": f"<h2 id='s'>Section</h2><p>{text}</p>",
            "keywords": ["memory", "oom"],
            "tags": ["kubernetes"],
            "symptoms": [text[:30]],
        }
        for n, text in enumerate(texts)
    ]
    runs = []
    for start in range(0, len(rows), 4):
        # The run file and its pages come last (with search7's sections file, analyse_chunk
        # also returns each document's sections record).
        *_, path, pages = bulk.analyse_chunk(rows[start : start + 4], start, str(tmp_path))
        runs.append((path, pages))
    out, terms = bulk.encode_range(runs, None, None, str(tmp_path))
    return Path(out).read_bytes(), terms


def test_it_writes_the_same_postings_with_and_without_the_repeated_lists_cache(
    tmp_path, monkeypatch
):
    from kb.search import bulk

    texts = [t for t in article_texts() if t.strip()][:24] + TEXTS[1:]
    cached = encode_all(tmp_path, texts)
    monkeypatch.setattr(bulk, "_REPEATED_MAX_POSTINGS", 0)  # every term encoded on its own
    encoded = encode_all(tmp_path, texts)
    monkeypatch.setattr(bulk, "_REPEATED_MAX_POSTINGS", 8)
    monkeypatch.setattr(bulk, "_REPEATED_MAX", 2)  # cleared again and again
    cleared = encode_all(tmp_path, texts)
    assert len(cached[1]) > 1000
    assert cached == encoded == cleared
