"""The importer survives every hostile document, as a body and as front matter.

A bad file is reported with a reason and the others still import; nothing a YAML tag asks
for is ever constructed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hostile_corpus import corpus, dangerous_markup, with_marker

from kb.importer import import_paths
from kb.models import Article

pytestmark = pytest.mark.django_db


def _front_matter(body: bytes) -> bytes:
    return b"---\n" + body + b"\n---\n# A title\n\nSome text about envsubst.\n"


@pytest.fixture
def hostile_docs(tmp_path: Path) -> tuple[Path, Path]:
    """Every case as a Markdown body, as a plain-text file and inside front matter."""
    folder = tmp_path / "docs"
    folder.mkdir()
    marker = tmp_path / "pwned"
    for found in corpus():
        data = with_marker(found, str(marker))
        slug = found.name.lower()
        (folder / f"{slug}.md").write_bytes(data)
        (folder / f"{slug}-plain.txt").write_bytes(data)
        (folder / f"{slug}-front-matter.md").write_bytes(_front_matter(data))
    return folder, marker


def test_it_reports_or_imports_every_hostile_document(hostile_docs):
    folder, marker = hostile_docs
    files = sorted(folder.iterdir())
    started = time.perf_counter()
    report = import_paths([folder])
    elapsed = time.perf_counter() - started
    print(f"{len(files)} hostile documents imported or refused in {elapsed:.1f} s")

    accounted = [
        *report.created,
        *(p.path for p in report.failed),
        *(p.path for p in report.skipped),
    ]
    assert sorted(accounted) == files
    assert not marker.exists()
    # Each refusal says why, in words.
    assert all(len(problem.reason) > 10 for problem in report.failed)
    reasons = {problem.path.name: problem.reason for problem in report.failed}
    assert "NUL" in reasons["nul-bytes.md"]
    assert "UTF-8" in reasons["invalid-utf8.md"]
    assert "empty" in reasons["empty.md"]
    assert "front matter" in reasons["python-object-apply-front-matter.md"]
    assert "front matter" in reasons["billion-laughs-front-matter.md"]
    # What was imported is stored as sanitized HTML.
    assert Article.objects.count() == len(report.created)
    for article in Article.objects.all():
        assert dangerous_markup(article.html) == [], article.slug
    assert elapsed < 10 * 60, "bounded, loosely"
