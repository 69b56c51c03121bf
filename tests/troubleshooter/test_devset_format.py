"""The development set's files: the format `evaluate_diagnosis` reads, and the split's premises.

Each item is a real report (a source URL), labelled with the article it is about (the file's
slug) or with nothing (`-unrelated` files). The split into tuning and held-out parts is by a
hash of the source, so a source that came back in a later collection would put a report the
model was tuned on into a "fresh" measurement: from the third collection on, no collection
reuses an earlier one's source (the first two shared a few, before that rule).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEVSET = ROOT / "troubleshooter" / "data" / "devset"
FIELDS = {"id", "text", "lang", "expect", "kind", "source"}
OPTIONAL = {"note"}


def _collection(path: Path) -> int:
    match = re.match(r"devset(\d*)-", path.name)
    assert match, path.name
    return int(match.group(1) or 1)


def _files() -> list[Path]:
    return sorted(DEVSET.glob("*.yaml"))


def _article_slugs() -> set[str]:
    return {p.stem for p in (ROOT / "articles").glob("*.md") if p.name.count(".") == 1}


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_every_item_has_the_format_the_evaluation_reads(path: Path) -> None:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(items, list) and items, path.name
    slug = path.stem.split("-", 1)[1]
    expected = None if slug == "unrelated" else slug
    for item in items:
        assert FIELDS <= set(item) <= FIELDS | OPTIONAL, (path.name, item.get("id"))
        assert isinstance(item["text"], str) and item["text"].strip(), item["id"]
        assert item["lang"] in {"en", "ja", "zh"}, item["id"]
        assert item["kind"] in {"error", "log", "description"}, item["id"]
        assert item["expect"] == expected, item["id"]
        assert re.match(r"https?://\S+$", item["source"]), item["id"]


def test_labels_name_existing_articles_and_ids_are_unique() -> None:
    slugs = _article_slugs()
    seen: set[str] = set()
    for path in _files():
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            assert item["id"] not in seen, item["id"]
            seen.add(item["id"])
            assert item["expect"] is None or item["expect"] in slugs, item["id"]
    assert len(seen) > 1000


def test_later_collections_never_reuse_an_earlier_source() -> None:
    first_seen: dict[str, int] = {}
    reused = defaultdict(list)
    for path in sorted(_files(), key=_collection):
        number = _collection(path)
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            source = item["source"]
            earlier = first_seen.setdefault(source, number)
            if earlier < number and number >= 3:
                reused[path.name].append(source)
    assert not reused, dict(reused)
