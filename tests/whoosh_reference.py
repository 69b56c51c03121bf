"""Whoosh's own answers, to compare the search's kept posting blocks and top N against
(tests/kb/test_search_common_blocks.py, tests/kb/test_page29_kept_stores.py), and a walk
over any matcher's postings (tests/kb/test_search_block_values.py, test_search_codec.py)."""

from __future__ import annotations

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query.compound import PreloadedOr


def whoosh_blocks(reader, fieldname: str, text: str) -> dict[int, tuple[list, list]]:  # noqa: ANN001
    """{block data offset: (ids, weights)} as Whoosh's own posting reader decodes them."""
    terms = reader._terms  # noqa: SLF001 - Whoosh's dictionary (outside one_query)
    info = terms.term_info(fieldname, text.encode())
    offset, length = info.extent()
    postings = W3LeafMatcher(
        terms._postfile,  # noqa: SLF001
        offset,
        length,
        reader.schema[fieldname].format,
        term=(fieldname, text.encode()),
    )
    blocks = {}
    while postings.is_active():
        postings._read_ids()  # noqa: SLF001
        postings._read_weights()  # noqa: SLF001
        blocks[postings._dataoffset] = (list(postings._ids), list(postings._weights))  # noqa: SLF001
        postings._i = postings._blocklength - 1  # noqa: SLF001
        postings.next()
    return blocks


def top_against_whoosh(searcher, clauses: list, limit: int) -> tuple[list, list]:  # noqa: ANN001
    """(docnum, score) of our top N for an OR of ``clauses``, and of Whoosh's collector."""
    from kb.search.lookup import top_hits
    from kb.search.union import SparseUnionOr

    ours = [(h.docnum, h.score) for h in top_hits(searcher, SparseUnionOr(clauses), limit=limit)]
    whoosh = [(h.docnum, h.score) for h in searcher.search(PreloadedOr(clauses), limit=limit)]
    return ours, whoosh


def walk(matcher) -> list[tuple[int, float, bytes]]:  # noqa: ANN001
    """Every posting a matcher yields, as (document number, weight, value)."""
    found = []
    while matcher.is_active():
        found.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return found
