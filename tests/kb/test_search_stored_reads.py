"""A document's stored fields read by position (kb/search/reading.py `stored_fields`): the
same dictionaries as Whoosh's reader, on a real index in a temporary folder."""

from __future__ import annotations

import pytest
from whoosh.reading import ReaderClosed

from kb.search import caches, rebuild_index


def _corpus(count: int) -> None:
    from kb.models import Article

    Article.objects.bulk_create(
        Article(
            slug=f"doc-{i}",
            title=f"Doc {i}",
            lang=("en", "ja", "zh")[i % 3],
            summary="" if i % 4 else f"summary {i}",
            markdown="",
            html="".join(
                f"<h2 id='s{j}'>Part {j}</h2><p>{'pod restarts ' * (i % 7 * 400)} {i}-{j}</p>"
                for j in range(1 + i % 5)
            ),
        )
        for i in range(count)
    )


@pytest.mark.django_db
def test_every_document_reads_as_whoosh_reads_it() -> None:
    from kb.search.reading import stored_fields

    _corpus(240)
    rebuild_index()
    searcher = caches.searchers.get()
    summaries = 0
    for docnum in range(searcher.doc_count_all()):
        fields = stored_fields(searcher, docnum)
        assert fields == searcher.stored_fields(docnum), docnum
        summaries += bool(fields["summary"])
    column = searcher.reader()._perdoc._cached_reader("_stored", None)  # noqa: SLF001
    assert column._kb_read  # noqa: SLF001 - read by position, not through Whoosh's files
    assert 50 < summaries < 240  # empty and non-empty values among them


@pytest.mark.django_db
def test_a_closed_reader_refuses_as_whoosh_does() -> None:
    from kb.search.reading import stored_fields

    _corpus(3)
    rebuild_index()
    searcher = caches.searchers.get()
    assert stored_fields(searcher, 0)["slug"] == "doc-0"
    searcher.reader().close()
    with pytest.raises(ReaderClosed):
        stored_fields(searcher, 0)
    caches.searchers.forget()
