"""An unchanged re-import does not digest every article again, yet still follows the
database: the index is rebuilt when anything changed since it was built."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kb.models import Article
from kb.search.index import current_folder, storage

FIXTURES = Path(__file__).parent / "fixtures" / "docs"

pytestmark = pytest.mark.django_db


def _import(root: Path) -> str:
    out = StringIO()
    call_command("import_articles", str(root), "--quiet", stdout=out, stderr=StringIO())
    return out.getvalue()


def _digest_queries(queries: list[dict]) -> list[str]:
    """The digest's query: every article's HTML, in id order."""
    return [q["sql"] for q in queries if '"html"' in q["sql"] and "ORDER BY" in q["sql"]]


def _stored_summary(slug: str) -> str:
    with storage(current_folder()).open_index().searcher() as searcher:
        return searcher.document(slug=slug, lang="en")["summary"]


def test_unchanged_reimport_keeps_the_index_without_digesting_and_follows_an_edit(tmp_path):
    root = tmp_path / "docs"
    shutil.copytree(FIXTURES / "good", root)
    assert "created 7" in _import(root)
    built = current_folder()

    with CaptureQueriesContext(connection) as queries:
        assert "unchanged 7" in _import(root)
    assert current_folder() == built  # nothing rebuilt
    assert _digest_queries(queries.captured_queries) == []

    # An edit saved since the index was built (as the admin saves one) moves the database's
    # generation: the next import of the same unchanged files checks and rebuilds.
    article = Article.objects.filter(lang="en", translation_of__isnull=True).order_by("pk")[0]
    article.summary = "a summary only the database knows"
    article.save()
    with CaptureQueriesContext(connection) as queries:
        assert "unchanged 7" in _import(root)
    assert _digest_queries(queries.captured_queries) != []
    assert current_folder() != built
    assert _stored_summary(article.slug) == "a summary only the database knows"

    # A forced import digests and rewrites as before.
    with CaptureQueriesContext(connection) as queries:
        call_command("import_articles", str(root), "--quiet", "--force", stdout=StringIO())
    assert _digest_queries(queries.captured_queries) != []
