"""Traditional Chinese read as Simplified (kb/hanzi.py): the table, and the search reading
a query in either script against an article in either."""

from __future__ import annotations

import re

import pytest

from kb import hanzi
from kb.search import caches, rebuild_index, search_articles


def test_the_table_is_what_the_pinned_opencc_gives() -> None:
    """kb/data/hanzi_t2s.txt is generated (scripts/hanzi_table.py); a new OpenCC pin or a hand
    edit that was not regenerated fails here."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "hanzi_table.py"
    spec = importlib.util.spec_from_file_location("hanzi_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert hanzi.TABLE_PATH.read_text(encoding="utf-8") == module.table_text()


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("掛載超時", "挂载超时"),
        ("權限不夠", "权限不够"),
        ("鏡像 nginx:1.25 無法啟動", "镜像 nginx:1.25 无法启动"),
        ("总线错误", "总线错误"),  # Simplified already
        ("ボリュームのマウント", "ボリュームのマウント"),  # kana and Latin untouched
        ("Permission denied", "Permission denied"),
    ],
)
def test_each_traditional_character_is_read_as_its_simplified_form(written, read) -> None:
    assert hanzi.simplified(written) == read


def test_the_fold_keeps_every_length_and_every_character_outside_the_table() -> None:
    """Offsets into a folded text are offsets into the text before it (snippets mark the
    text as written); what is not Traditional Chinese comes out as it went in."""
    sample = "".join(chr(c) for c in range(0x20, 0xA000, 7))
    folded = hanzi.simplified(sample)
    assert len(folded) == len(sample)
    changed = [(a, b) for a, b in zip(sample, folded, strict=True) if a != b]
    assert changed and all(ord(a) in hanzi._TABLE for a, _b in changed)
    assert all(0x3400 <= ord(b) < 0xA000 for _a, b in changed)


def test_each_taiwan_word_of_the_list_is_read_the_mainland_way() -> None:
    """Every pair of kb/data/zh_tw_words.txt, written in Traditional characters as in Taiwan,
    reads as the mainland word, inside a sentence too (no shorter word of the list cuts a
    longer one: 設定檔 is 配置文件, not 设定文件)."""
    pairs = [
        line.split(" ")[:2]
        for line in hanzi.WORDS_PATH.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(pairs) > 20
    for taiwan, mainland in pairs:
        assert hanzi.mainland_words(hanzi.simplified(f"看到{taiwan}了")) == f"看到{mainland}了"


@pytest.mark.django_db
def test_a_query_in_either_script_finds_an_article_in_either_and_marks_its_words() -> None:
    from kb.models import Article

    Article.objects.bulk_create(
        Article(slug=slug, title=title, lang="zh", markdown="", html=f"<p>{body}</p>")
        for slug, title, body in [
            ("simplified-nfs", "NFS 卷挂载超时", "节点重启后 NFS 挂载一直超时，Pod 无法启动。"),
            ("traditional-upload", "上傳檔案失敗", "PHP 無法寫入臨時目錄，表單上傳一律失敗。"),
            ("other", "网络", "连接被拒绝"),
        ]
    )
    rebuild_index()
    for query, slug, marked in [
        ("掛載超時", "simplified-nfs", {"挂载", "超时"}),
        ("挂载超时", "simplified-nfs", {"挂载", "超时"}),
        ("临时目录 无法写入", "traditional-upload", {"無法寫入臨時目錄"}),
        ("臨時目錄 無法寫入", "traditional-upload", {"無法寫入臨時目錄"}),
    ]:
        caches.results.clear()
        hits = search_articles(query)
        assert [h.slug for h in hits] == [slug], query
        # The article's own characters are marked, whichever script the query used.
        assert set(re.findall(r"<mark>(.*?)</mark>", hits[0].snippet)) == marked, query
