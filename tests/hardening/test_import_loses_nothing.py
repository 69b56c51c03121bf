"""Imports lose nothing: one bad document in the middle of a run costs only itself, prune
stays within its root, and a conflict is reported by the command."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kb.importer import import_paths
from kb.models import Article

pytestmark = pytest.mark.django_db


def _doc(title: str, extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n# {title}\n\nSome text about envsubst.\n"


# Each passes the file checks but carries a value a database refuses or cannot store well.
BAD_IN_THE_MIDDLE = {
    "nul-in-title": _doc('"with \\0 a NUL"'),
    "nul-in-tag": _doc("tags", 'tags: ["a\\0b"]\n'),
    "control-in-keyword": _doc("keywords", 'keywords: ["\\x01"]\n'),
    "title-too-long": _doc("t" * 400),
}


@pytest.mark.parametrize("bad", sorted(BAD_IN_THE_MIDDLE))
def test_one_bad_document_in_the_middle_costs_only_itself(tmp_path: Path, bad):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a-first.md").write_text(_doc("First"))
    (root / f"m-{bad}.md").write_text(BAD_IN_THE_MIDDLE[bad])
    (root / "z-last.md").write_text(_doc("Last"))
    report = import_paths([root])
    assert sorted(p.name for p in report.created) == ["a-first.md", "z-last.md"]
    assert [p.path.name for p in report.failed] == [f"m-{bad}.md"]
    assert "front matter" in report.failed[0].reason
    assert set(Article.objects.values_list("slug", flat=True)) == {"a-first", "z-last"}


def test_a_path_too_long_for_the_database_costs_only_itself(tmp_path: Path):
    root = tmp_path / "docs"
    deep = root.joinpath(*(["d" * 60] * 8))  # source_path holds 500 characters
    deep.mkdir(parents=True)
    (root / "a-first.md").write_text(_doc("First"))
    (deep / "m-deep.md").write_text(_doc("Deep"))
    (root / "z-last.md").write_text(_doc("Last"))
    report = import_paths([root])
    assert {"a-first.md", "z-last.md"} <= {p.name for p in report.created}
    # SQLite stores any length; PostgreSQL refuses, and that is reported, not raised.
    for problem in report.failed:
        assert problem.path.name == "m-deep.md"
        assert "database refused" in problem.reason
    assert Article.objects.filter(slug__in=["a-first", "z-last"]).count() == 2


def test_prune_of_one_root_leaves_another_roots_documents(tmp_path: Path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "from-a.md").write_text(_doc("From A"))
    (first / "gone-from-a.md").write_text(_doc("Gone"))
    (second / "from-b.md").write_text(_doc("From B"))
    import_paths([first, second])
    (first / "gone-from-a.md").unlink()
    report = import_paths([first], prune=True)
    assert report.pruned == ["gone-from-a"]
    assert set(Article.objects.values_list("slug", flat=True)) == {"from-a", "from-b"}


def test_prune_keeps_a_document_that_is_unreadable_this_time(tmp_path: Path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "keep.md").write_text(_doc("Keep"))
    (root / "other.md").write_text(_doc("Other"))
    import_paths([root])
    (root / "keep.md").write_bytes(b"\xff\xfe broken now")
    report = import_paths([root], prune=True)
    assert [p.path.name for p in report.failed] == ["keep.md"]
    assert report.pruned == []
    assert Article.objects.filter(slug="keep").exists()


def test_the_command_reports_a_conflict_and_a_failure_and_exits_1(tmp_path: Path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "edited.md").write_text(_doc("Edited"))
    (root / "fine.md").write_text(_doc("Fine"))
    call_command("import_articles", str(root), "--no-index", stdout=io.StringIO())
    Article.objects.filter(slug="edited").update(title="Changed in the admin")
    (root / "edited.md").write_text(_doc("Edited", "tags: [new]\n"))
    (root / "broken.md").write_bytes(b"\x00binary")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_articles", str(root), "--no-index", stdout=out, stderr=err)
    assert raised.value.returncode == 1
    assert f"conflict  {root / 'edited.md'}: edited in the admin" in err.getvalue()
    assert f"failed    {root / 'broken.md'}: binary file" in err.getvalue()
    assert "conflicts 1" in out.getvalue() and "failed 1" in out.getvalue()
    assert Article.objects.get(slug="edited").title == "Changed in the admin"
