"""evaluate_diagnosis --cv: every held-back item counted once, and the figures per language
and per kind add up to the totals."""

from io import StringIO

import yaml
from django.core.management import call_command

from troubleshooter.management.commands.evaluate_diagnosis import is_held_out

ITEMS = [
    {"id": "a", "text": "0/3 nodes are available: 3 Too many pods.", "lang": "en",
     "expect": "kubelet-max-pods", "kind": "error", "source": "https://example.org/a"},
    {"id": "b", "text": "修改 ConfigMap 后配置不生效", "lang": "zh",
     "expect": "configmap-subpath-no-update", "kind": "description", "source": "https://example.org/b"},
    {"id": "c", "text": "0/3 nodes are available: 3 Insufficient cpu.", "lang": "en",
     "expect": None, "kind": "log", "source": "https://example.org/c"},
    {"id": "d", "text": "コンテナが root で動かないと起動できない", "lang": "ja",
     "expect": "run-as-non-root", "kind": "description", "source": "https://example.org/d"},
]  # fmt: skip


def test_the_cross_validation_counts_every_item_once_per_language_and_kind(articles, tmp_path):
    items = [
        {**item, "id": f"{item['id']}{n}", "source": f"{item['source']}/{n}"}
        for item in ITEMS
        for n in range(6)
        if not is_held_out(f"{item['source']}/{n}")
    ]
    path = tmp_path / "tuning.yaml"
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    out = StringIO()
    call_command(
        "evaluate_diagnosis", str(path), "--part", "tuning", "--articles", "articles", "--cv", "3",
        stdout=out,
    )  # fmt: skip
    lines = out.getvalue().split("cross-validation")[1].splitlines()
    for key, values in (("lang", ("en", "ja", "zh")), ("kind", ("error", "log", "description"))):
        start = next(i for i, x in enumerate(lines) if x.startswith(f"By {key}, held-back"))
        on_total = off_total = 0
        for line in lines[start + 1 : start + 1 + len(values)]:
            value, figures = line.split(":", 1)
            own, other = figures.split()
            expected_own = [i for i in items if i["expect"] and i[key] == value.strip()]
            expected_other = [i for i in items if not i["expect"] and i[key] == value.strip()]
            assert own.endswith(f"/{len(expected_own)}"), line
            assert other.endswith(f"/{len(expected_other)}"), line
            on_total += len(expected_own)
            off_total += len(expected_other)
        assert on_total + off_total == len(items)
