"""The section a hit points at, chosen from the tables of the sections file written at index
time (kb/search/sections.py): the same section and snippet as scanning every section's text,
in English, Japanese and Chinese, on random texts and on real indexes in temporary folders."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kb.search import sections as sections_module
from kb.search.sections import SECTIONS_FILE, SectionsFile, SectionsWriter, section_record
from kb.search.snippets import WINDOW_CANDIDATES, best_recorded_section, best_section, needles


def _records(folder: Path, documents: list[list[tuple[str, str, str]]]) -> SectionsFile:
    """The documents written to a sections file in `folder`, and that file opened."""
    writer = SectionsWriter(folder)
    for number, sections in enumerate(documents):
        writer.add(section_record(sections), slug=f"doc-{number}")
    writer.close()
    return SectionsFile(folder / SECTIONS_FILE)


@pytest.fixture
def both(tmp_path: Path):  # noqa: ANN201
    """(scan of every section, choice from the document's record) for sections and a query."""
    written = iter(range(10**6))

    def choose(sections: list[tuple[str, str, str]], query: str) -> tuple[tuple, tuple]:
        folder = tmp_path / str(next(written))
        folder.mkdir()
        record = _records(folder, [sections]).record(0)
        words = needles(query)
        return best_section(sections, words), best_recorded_section(record, words)

    return choose


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


def test_the_tables_choose_the_section_and_snippet_a_scan_chooses_on_random_text(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261201)
    documents = [
        [
            (f"s{i}", f"S{i}", "".join(rng.choice(VOCABULARY) for _ in range(rng.randint(0, size))))
            for i in range(rng.randint(0, 6))
        ]
        for size in rng.choices([10, 120, 2500], k=300)
    ]
    recorded = _records(tmp_path, documents)
    assert recorded.count == len(documents)
    for number, sections in enumerate(documents):
        record = recorded.record(number)
        assert record.sections() == sections
        for query in QUERIES:
            words = needles(query)
            assert best_recorded_section(record, words) == best_section(sections, words), (
                query,
                sections,
            )


def test_spellings_count_as_written(both) -> None:  # noqa: ANN001
    # "pod POD" has two spellings, "pod pod pod" one: the second section wins.
    scanned, recorded = both([("many", "Many", "pod pod pod"), ("two", "Two", "pod POD")], "pod")
    assert recorded == scanned
    assert recorded[0] == "two"


def test_a_section_with_many_spellings_of_one_word_wins(both) -> None:  # noqa: ANN001
    # Seven spellings of "pod" beat six different words.
    sections = [
        ("words", "Words", "pod limit zebra crossing stripe lamp"),
        ("spellings", "Spellings", "pod POD Pod pOd poD PoD pOD"),
    ]
    scanned, recorded = both(sections, "pod limit zebra crossing stripe lamp")
    assert recorded == scanned
    assert recorded[0] == "spellings"


def test_equal_counts_go_to_the_earlier_section(both) -> None:  # noqa: ANN001
    sections = [("a", "A", "intro"), ("b", "B", "pod limit"), ("c", "C", "limit pod")]
    scanned, recorded = both(sections, "pod limit")
    assert recorded == scanned
    assert recorded[:2] == ("b", "B")


def test_overlapping_bigrams_are_matched_as_the_pattern_matches_them(both) -> None:  # noqa: ANN001
    # "巨页面" holds 巨页 and 页面, but the pattern matches only 巨页 there: the section with
    # both as separate matches wins, and the snippet marks what the pattern marks.
    sections = [
        ("overlap", "Overlap", "巨页面" * 3),
        ("apart", "Apart", "巨页 和 页面"),
        ("none", "None", "nothing"),
    ]
    scanned, recorded = both(sections, "巨页面")
    assert recorded == scanned
    assert recorded[0] == "apart"
    scanned, recorded = both([("run", "Run", "页页页页页 巨页页面")], "页页 巨页 页面")
    assert recorded == scanned
    # 页页 twice, then 巨页 and 页面 (页页 between them overlaps both); adjacent marks join.
    assert recorded[2] == "<mark>页页页页</mark>页 <mark>巨页页面</mark>"


def test_a_text_whose_lower_case_grows_is_scanned(both) -> None:  # noqa: ANN001
    sections = [("a", "A", "pod"), ("b", "B", "İİ pod POD Pod"), ("c", "C", "pod Pod")]
    scanned, recorded = both(sections, "pod")
    assert recorded == scanned
    assert recorded[0] == "b"


def test_a_query_of_one_cjk_character_scans_the_sections(both) -> None:  # noqa: ANN001
    sections = [("a", "A", "巨页面"), ("b", "B", "巨 巨 页")]
    assert needles("巨").table is None
    scanned, recorded = both(sections, "巨")
    assert recorded == scanned
    assert recorded[0] == "b"


def test_a_long_section_gives_the_snippet_of_a_full_scan(both) -> None:  # noqa: ANN001
    rng = random.Random(7)
    words = ["the", "The", "list", "in", "filler", "other", "words", "here", "巨页", "设置"]
    for _ in range(20):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(200, 3000)))
        sections = [("intro", "Intro", "the list"), ("long", "Long", text)]
        for query in ("the list in", "巨页 设置", "list"):
            scanned, recorded = both(sections, query)
            assert recorded == scanned
    assert len(needles("the").spans(text)) > WINDOW_CANDIDATES


def test_a_dense_run_after_many_matches_is_still_the_snippet(both) -> None:  # noqa: ANN001
    # 63 lone matches far apart, then one followed within the snippet's reach by four more:
    # the window around the 64th match holds five, so the snippet shows the run. The run
    # starts past the first WINDOW_CANDIDATES starts of "pod": kept by the reach.
    text = ("pod " + "filler " * 40) * (WINDOW_CANDIDATES - 1) + "pod " + "x " * 60
    text += "pod pod pod pod" + " tail" * 100 + " pod" * 50
    scanned, recorded = both([("a", "A", text)], "pod")
    assert recorded == scanned
    assert "<mark>pod pod pod pod</mark>" in recorded[2]


def test_a_word_is_checked_against_its_entry_when_hashes_collide(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    # Every word gets the same hash, in the writer and the reader: only the word stored with
    # each entry tells them apart.
    monkeypatch.setattr(sections_module, "_crc", lambda data: 7)
    sections = [("a", "A", "alpha beta"), ("b", "B", "gamma gamma delta")]
    record = _records(tmp_path, [sections]).record(0)
    assert record.entry("epsilon") is None
    assert [(s, n) for s, n, _, _ in record.entry("gamma")] == [(1, 2)]
    words = needles("gamma beta delta")
    assert best_recorded_section(record, words) == best_section(sections, words)


def test_a_truncated_sections_file_is_refused(tmp_path: Path) -> None:
    _records(tmp_path, [[("a", "A", "pod")]])
    path = tmp_path / SECTIONS_FILE
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="not a complete sections file"):
        SectionsFile(path)


# --- the real index ----------------------------------------------------------------------------


def _scan_answer(hit, query: str) -> tuple[str, str, str]:  # noqa: ANN001
    """The section and snippet of a hit, from its article's text in the database."""
    from kb.models import Article
    from kb.search import prepare_query
    from kb.search.index import _section_records

    article = Article.objects.get(slug=hit.slug, lang=hit.lang)
    return best_section(_section_records(article), needles(prepare_query(query)))


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
def test_every_hit_of_the_real_index_matches_a_scan_of_its_article(full_index, query) -> None:  # noqa: ANN001
    from kb.search import caches, search_articles

    caches.results.clear()
    hits = search_articles(query, limit=20)
    assert hits
    assert {hit.source for hit in hits} == {"index"}
    for hit in hits:
        section_id, title, snippet = _scan_answer(hit, query)
        assert (hit.section or "", hit.section_title or "") == (section_id, title), hit.slug
        if snippet:
            assert hit.snippet == snippet, hit.slug


@pytest.mark.django_db
def test_a_document_edited_after_indexing_is_shown_from_its_new_text() -> None:
    from kb.models import Article
    from kb.search import caches, rebuild_index, search_articles

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


def _articles(count: int) -> None:
    from kb.models import Article

    words = ["pod", "Pod", "volume", "pending", "巨页", "设置", "ノード", "the", "in", "list"]
    rng = random.Random(count)
    documents = []
    for i in range(count):
        parts = [
            (j, " ".join(rng.choice(words) for _ in range(rng.randint(0, 300))))
            for j in range(1 + i % 4)
        ]
        documents.append(
            Article(
                # Two articles in three languages (en, ja, zh), then three in one.
                slug=f"doc-{i // 3}" if i % 9 < 6 else f"solo-{i}",
                title=f"Doc {i}",
                lang=("en", "ja", "zh")[i % 3],
                summary=f"summary {i}",
                markdown="\n\n".join(f"## Part {j}\n\n{text}" for j, text in parts),
                html="".join(f"<h2 id='s{j}'>Part {j}</h2><p>{text}</p>" for j, text in parts),
            )
        )
    Article.objects.bulk_create(documents)


@pytest.mark.django_db
def test_a_parallel_rebuild_writes_the_same_sections_file(tmp_path, settings) -> None:  # noqa: ANN001
    from kb.search.index import PARALLEL_MIN_ARTICLES, index_dir, rebuild_index

    _articles(PARALLEL_MIN_ARTICLES + 5)
    written = []
    for workers in (1, 2):
        settings.KB_INDEX_DIR = tmp_path / f"index-{workers}"
        assert rebuild_index(force=True, workers=workers) == PARALLEL_MIN_ARTICLES + 5
        written.append((index_dir().resolve() / SECTIONS_FILE).read_bytes())
    assert written[0] == written[1]


@pytest.mark.django_db
def test_a_damaged_sections_file_is_answered_by_the_database_then_rebuilt() -> None:
    from kb.search import caches, rebuild_index, search_articles
    from kb.search.index import current_folder

    _articles(12)
    rebuild_index()
    caches.results.clear()
    assert search_articles("volume pending")[0].source == "index"
    damaged = current_folder()
    path = damaged / SECTIONS_FILE
    path.write_bytes(path.read_bytes()[:100])
    caches.searchers.forget()
    caches.results.clear()
    hits = search_articles("volume pending")
    assert hits and {hit.source for hit in hits} == {"database"}
    # The articles did not change, but the damaged index is not kept.
    rebuild_index()
    assert current_folder() != damaged
    caches.searchers.forget()
    caches.results.clear()
    assert search_articles("volume pending")[0].source == "index"


@pytest.mark.django_db
def test_an_articles_versions_are_the_documents_of_its_slug() -> None:
    from kb.search import caches, rebuild_index
    from kb.search.reading import documents_with, stored_fields
    from kb.search.sections import sections_file

    _articles(40)
    rebuild_index()
    searcher = caches.searchers.get()
    versions = sections_file(searcher).versions
    several = 0
    for docnum in range(searcher.doc_count_all()):
        slug = stored_fields(searcher, docnum)["slug"]
        assert versions(docnum) == documents_with(searcher, "slug", slug), slug
        several += len(versions(docnum)) > 1
    assert several > 10  # articles in two or three languages among them


def test_a_query_answered_from_the_tables_compiles_no_pattern(tmp_path: Path) -> None:
    # Compiling the query's alternations cost every search page 4 % of its CPU; with every
    # section tabled they are never used, so they are never compiled.
    sections = [("a", "A", "pods stay Pending: too many pods"), ("b", "B", "the list is long")]
    record = _records(tmp_path, [sections]).record(0)
    words = needles("too many pods")
    assert best_recorded_section(record, words)[0] == "a"
    assert "lower" not in vars(words) and "anycase" not in vars(words)
    assert best_section(sections, words)[0] == "a"  # a scan compiles what it needs
    assert "lower" in vars(words)
