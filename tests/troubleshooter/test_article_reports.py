"""The reports and near misses in the curated articles' front matter stay well formed.

Each English article that describes a cause carries reports in en, ja and zh; a text is
never both a report and a near miss of the same article, and no report is listed twice.
"""

from pathlib import Path

import pytest
import yaml

ARTICLES = Path(__file__).resolve().parents[2] / "articles"


def _front_matter(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), path
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


CAUSES = sorted(p for p in ARTICLES.glob("*.md") if p.name.count(".") == 1)


@pytest.mark.parametrize("path", CAUSES, ids=lambda p: p.stem)
def test_reports_in_three_languages_no_duplicates(path):
    meta = _front_matter(path)
    reports = meta.get("reports") or {}
    assert set(reports) == {"en", "ja", "zh"}, path.name
    seen = set()
    for lang, items in reports.items():
        assert items, (path.name, lang)
        for item in items:
            assert isinstance(item, str) and item.strip(), (path.name, lang)
            key = " ".join(item.lower().split())
            assert key not in seen, (path.name, item)
            seen.add(key)
    near = {" ".join(n.lower().split()) for n in meta.get("near_misses") or []}
    assert not seen & near, (path.name, sorted(seen & near))
