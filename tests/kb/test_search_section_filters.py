"""The section a hit points at, chosen with the filters written at index time: the same section
and snippet as scanning every section's text, in English, Japanese and Chinese."""

from __future__ import annotations

import random

import pytest

from kb.search import snippets
from kb.search.snippets import (
    WINDOW_CANDIDATES,
    best_filtered_section,
    best_section,
    needles,
    section_filters,
)


@pytest.fixture(autouse=True)
def _every_document_filtered(monkeypatch) -> None:  # noqa: ANN001
    """Short test texts get filters too (in production only long documents do)."""
    monkeypatch.setattr(snippets, "FILTER_MIN_CHARS", 0)


def _both(sections: list[tuple[str, str, str]], query: str) -> tuple[tuple, tuple]:
    words = needles(query)
    filters = section_filters([text for _, _, text in sections])
    assert filters is not None
    return best_section(sections, words), best_filtered_section(sections, filters, words)


VOCABULARY = [
    "the", "The", "THE", "pod", "Pod", "pods", "list", "List", "in", "IN", "too", "long",
    "argument", "x", "_", "-", " ", " ", " ", "\n", "3", "é", "İ", "xpod", "pod_x",
    "巨页", "巨", "页", "面", "页面", "设置", "ノード", "ード", "の", "引数",
    "リスト", "が", "長すぎ", "ます", "仮想", "節点",
]  # fmt: skip
QUERIES = [
    "the list in", "pod", "Argument list too long", "巨页", "巨页面", "页面巨页", "ノードの",
    "引数リストが長すぎます", "pod 巨页", "the 仮想ノード", "巨", "pod の list", "long 3",
]  # fmt: skip


def test_the_table_chooses_the_section_and_snippet_a_scan_chooses_on_random_text() -> None:
    rng = random.Random(20261201)
    for _ in range(400):
        sections = [
            (
                f"s{i}",
                f"S{i}",
                "".join(rng.choice(VOCABULARY) for _ in range(rng.randint(0, 120))),
            )
            for i in range(rng.randint(1, 6))
        ]
        for query in QUERIES:
            scanned, tabled = _both(sections, query)
            assert tabled == scanned, (query, sections)


def test_spellings_count_as_written_with_filters() -> None:
    # "pod POD" has two spellings, "pod pod pod" one: the second section wins with filters too.
    sections = [("many", "Many", "pod pod pod"), ("two", "Two", "pod POD")]
    scanned, tabled = _both(sections, "pod")
    assert tabled[0] == scanned[0] == "two"


def test_equal_counts_go_to_the_earlier_section() -> None:
    sections = [("a", "A", "intro"), ("b", "B", "pod limit"), ("c", "C", "limit pod")]
    scanned, tabled = _both(sections, "pod limit")
    assert tabled[:2] == scanned[:2] == ("b", "B")


def test_a_cjk_bound_never_hides_the_best_section() -> None:
    # Overlapping bigrams: "巨页面" holds 巨页 and 页面, but a scan matches only 巨页 there, so a
    # filter's count is an upper bound; the section with both as separate matches must win.
    sections = [
        ("overlap", "Overlap", "巨页面" * 3),
        ("apart", "Apart", "巨页 和 页面"),
        ("none", "None", "nothing"),
    ]
    scanned, tabled = _both(sections, "巨页面")
    assert tabled == scanned
    assert tabled[0] == "apart"


def test_a_text_whose_lower_case_grows_is_scanned() -> None:
    sections = [("a", "A", "pod"), ("b", "B", "İİ pod POD Pod")]
    scanned, tabled = _both(sections, "pod")
    assert tabled == scanned
    assert tabled[0] == "b"


def test_a_long_section_gives_the_snippet_of_a_full_scan() -> None:
    rng = random.Random(7)
    words = ["the", "The", "list", "in", "filler", "other", "words", "here", "巨页", "设置"]
    for _ in range(20):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(200, 3000)))
        sections = [("intro", "Intro", "the list"), ("long", "Long", text)]
        for query in ("the list in", "巨页 设置", "list"):
            scanned, tabled = _both(sections, query)
            assert tabled == scanned
    assert len(needles("the").spans(text)) > WINDOW_CANDIDATES


def test_a_short_document_gets_no_filter(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(snippets, "FILTER_MIN_CHARS", 100)
    assert section_filters(["x" * 60, "y" * 39]) is None
    assert section_filters(["x" * 60, "y" * 40]) is not None


def test_a_filter_holds_every_word_a_query_can_match() -> None:
    # No false negatives: every section that a scan finds a word in passes the filter.
    rng = random.Random(5)
    for _ in range(200):
        text = "".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 80)))
        (bloom,) = section_filters([text])
        for query in QUERIES:
            words = needles(query)
            if words is None or words.keys is None or not bloom:
                continue
            bits = len(bloom) * snippets.CHAR_BITS
            found = {text[s:e].lower() for s, e in words.spans(text)}
            for term, (hashes, _) in zip(_chosen(query), words.keys, strict=True):
                if term in found:
                    assert snippets._holds(bloom, bits, hashes), (term, text)  # noqa: SLF001


def _chosen(query: str) -> list[str]:
    """The words of `needles(query)`, in its order."""
    from kb.analysis import bigram_spans, fold, has_cjk

    words = {t for t, _, _ in bigram_spans(fold(query)) if len(t) > 1 or has_cjk(t)}
    return sorted(words, key=len, reverse=True)[: snippets.MAX_NEEDLES]


def _scan_answer(hit, query: str) -> tuple[str, str, str]:  # noqa: ANN001
    """The section and snippet of a hit, from its article's text in the database."""
    from kb.models import Article
    from kb.search import prepare_query
    from kb.search.index import _section_records

    article = Article.objects.get(slug=hit.slug, lang=hit.lang)
    return best_section(_section_records(article), needles(prepare_query(query)))


@pytest.fixture(params=["as built", "every document filtered"])
def filtered_index(request, full_index, monkeypatch):  # noqa: ANN001, ANN201
    """The real index as built (only long documents have filters), and rebuilt with filters
    for every document."""
    from kb.search import rebuild_index

    if request.param == "as built":
        monkeypatch.setattr(snippets, "FILTER_MIN_CHARS", 8192)
    else:
        rebuild_index(force=True)
    return full_index


@pytest.mark.parametrize(
    "query",
    [
        "envsubst: Argument list too long",
        "EnableMMAP Off EnableSendfile Off",
        "引数リストが長すぎます",
        "仮想ノード",
        "巨页",
        "获取客户端真实 IP",
        "the pod is pending and the volume is not mounted",
    ],
)
def test_every_hit_of_the_real_index_matches_a_scan_of_its_article(filtered_index, query) -> None:
    from kb.search import caches, search_articles

    caches.results.clear()
    hits = search_articles(query, limit=20)
    assert hits
    for hit in hits:
        section_id, title, snippet = _scan_answer(hit, query)
        assert (hit.section or "", hit.section_title or "") == (section_id, title), hit.slug
        if snippet:
            assert hit.snippet == snippet, hit.slug


@pytest.mark.django_db
@pytest.mark.parametrize("filter_min_chars", [0, 10**9])
def test_a_document_edited_after_indexing_is_shown_from_its_new_text(
    monkeypatch, filter_min_chars: int
) -> None:
    from kb.models import Article
    from kb.search import caches, rebuild_index, search_articles

    monkeypatch.setattr(snippets, "FILTER_MIN_CHARS", filter_min_chars)
    article = Article.objects.create(
        slug="edited-note",
        title="Edited note",
        lang="en",
        markdown="",
        html="<h2 id='before'>Before</h2><p>zebra stripes on the old text</p>"
        "<h2 id='other'>Other</h2><p>nothing</p>",
    )
    rebuild_index()
    caches.results.clear()
    hit = search_articles("zebra stripes")[0]
    assert (hit.section, "<mark>zebra stripes</mark>" in hit.snippet) == ("before", True)

    article.html = (
        "<h2 id='before'>Before</h2><p>nothing left here</p>"
        "<h2 id='after'>After</h2><p>the new text: Zebra stripes and zebra crossings</p>"
    )
    article.save()
    rebuild_index()
    caches.results.clear()
    hit = search_articles("zebra stripes")[0]
    assert hit.section == "after"
    assert (
        hit.snippet == "the new text: <mark>Zebra stripes</mark> and <mark>zebra</mark> crossings"
    )


def test_a_dense_run_after_many_matches_is_still_the_snippet() -> None:
    # 63 lone matches far apart, then one followed within the snippet's reach by four more:
    # the window around the 64th match holds five, so the snippet shows the run.
    text = ("pod " + "filler " * 40) * (WINDOW_CANDIDATES - 1) + "pod " + "x " * 60
    text += "pod pod pod pod" + " tail" * 100
    scanned, tabled = _both([("a", "A", text)], "pod")
    assert tabled == scanned
    assert "<mark>pod pod pod pod</mark>" in tabled[2]


def test_a_section_with_many_spellings_of_one_word_is_not_passed_over() -> None:
    # Seven spellings of "pod" beat six different words; a filter that counted each word once
    # (or a word's spellings only up to SPELLING_KEYS) would skip that section.
    sections = [
        ("words", "Words", "pod limit zebra crossing stripe lamp"),
        ("spellings", "Spellings", "pod POD Pod pOd poD PoD pOD"),
    ]
    scanned, filtered = _both(sections, "pod limit zebra crossing stripe lamp")
    assert filtered == scanned
    assert filtered[0] == "spellings"
    three = [("words", "Words", "pod limit"), ("spellings", "Spellings", "pod POD Pod")]
    scanned, filtered = _both(three, "pod limit")
    assert filtered[0] == scanned[0] == "spellings"
