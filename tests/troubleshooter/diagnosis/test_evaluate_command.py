"""manage.py evaluate_diagnosis on a small fixture development set, with the real imported
articles: figures per cause, refusals, questions, confusion pairs and the calibration table."""

import hashlib
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from troubleshooter.management.commands.evaluate_diagnosis import is_held_out

ITEMS = [
    {"id": "a", "text": "0/3 nodes are available: 3 Too many pods.", "lang": "en",
     "expect": "kubelet-max-pods", "kind": "error", "source": "https://example.org/a"},
    {"id": "b", "text": "修改 ConfigMap 后配置不生效", "lang": "zh",
     "expect": "configmap-subpath-no-update", "kind": "description", "source": "https://example.org/b"},
    {"id": "c", "text": "0/3 nodes are available: 3 Insufficient cpu.", "lang": "en",
     "expect": None, "kind": "error", "source": "https://example.org/c"},
    {"id": "d", "text": "Bus error (core dumped)", "lang": "en",
     "expect": "php-opcache-hugepages", "kind": "error", "source": "https://example.org/d"},
    {"id": "e", "text": "everything is fine", "lang": "en",
     "expect": "nfs-efs-mount-options", "kind": "description", "source": "https://example.org/e"},
]  # fmt: skip


@pytest.fixture
def devset(tmp_path):
    path = tmp_path / "devset.yaml"
    path.write_text(yaml.safe_dump(ITEMS, allow_unicode=True), encoding="utf-8")
    return path


def run(*args) -> str:
    out = StringIO()
    call_command("evaluate_diagnosis", *args, stdout=out)
    return out.getvalue()


def test_it_prints_every_figure_for_the_whole_set(articles, devset):
    output = run(str(devset), "--part", "all")
    assert "5 items (4 on-topic, 1 unrelated)" in output
    assert "right cause first 2/4 = 50.0%" in output
    assert "question 1 (25.0%)" in output
    assert "unrelated: refused 1/1 = 100.0%" in output
    assert "kubelet-max-pods" in output and "1/1" in output
    assert "php-opcache-hugepages -> (question)" in output
    assert "nfs-efs-mount-options -> (refused)" in output
    assert "Calibration" in output and "observed" in output
    assert "zh:      1/1" in output


def test_the_split_follows_the_contract():
    for item in ITEMS:
        value = int(hashlib.sha256(item["source"].encode()).hexdigest(), 16) % 10
        assert is_held_out(item["source"]) is (value < 4)


def test_it_evaluates_one_part(articles, devset):
    held_out = [i for i in ITEMS if is_held_out(i["source"])]
    if held_out:
        assert f"part: held-out; {len(held_out)} items" in run(str(devset), "--part", "held-out")
    else:
        with pytest.raises(CommandError, match="no items"):
            run(str(devset), "--part", "held-out")


def test_it_never_fits_or_prints_texts_of_the_held_out_part(devset):
    with pytest.raises(CommandError, match="only work on --part tuning"):
        run(str(devset), "--part", "held-out", "--fit")
    with pytest.raises(CommandError, match="only work on --part tuning"):
        run(str(devset), "--part", "all", "--show-errors")


def test_it_refuses_items_without_a_source(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump([{"id": "x", "text": "t", "expect": None}]), encoding="utf-8")
    with pytest.raises(CommandError, match="needs a 'source'"):
        run(str(path))


def _tuning_copies(items: list[dict], path) -> list[dict]:  # noqa: ANN001
    """Each item under several sources, kept only where the source is a tuning one, written
    to ``path``."""
    copies = [
        {**item, "id": f"{item['id']}{n}", "source": f"{item['source']}/{n}"}
        for item in items
        for n in range(6)
        if not is_held_out(f"{item['source']}/{n}")
    ]
    path.write_text(yaml.safe_dump(copies, allow_unicode=True), encoding="utf-8")
    return copies


def test_it_cross_validates_on_the_tuning_part(articles, tmp_path):
    path = tmp_path / "tuning.yaml"
    items = _tuning_copies(ITEMS, path)
    output = run(str(path), "--part", "tuning", "--articles", "articles", "--cv", "3")
    on_topic = sum(1 for i in items if i["expect"])
    unrelated = len(items) - on_topic
    line = next(x for x in output.splitlines() if x.startswith("3-fold cross-validation"))
    assert f"/{on_topic} = " in line and "refused " in line and f"/{unrelated} = " in line
    # The kubelet's exact max-pods event is right in every fold, however small the fold.
    right = int(line.split("right cause first ")[1].split("/")[0])
    assert right >= sum(1 for i in items if i["id"][0] == "a")
    with pytest.raises(CommandError, match="only work on --part tuning"):
        run(str(path), "--part", "held-out", "--cv", "3")
    with pytest.raises(CommandError, match="from 2 to 20"):
        run(str(path), "--part", "tuning", "--cv", "1")


# Every language and every kind among the on-topic and the unrelated items.
CV_ITEMS = [
    ITEMS[0],
    ITEMS[1],
    {**ITEMS[2], "kind": "log"},
    {"id": "f", "text": "コンテナが root で動かないと起動できない", "lang": "ja",
     "expect": "run-as-non-root", "kind": "description", "source": "https://example.org/f"},
]  # fmt: skip


def test_the_cross_validation_counts_every_item_once_per_language_and_kind(articles, tmp_path):
    path = tmp_path / "tuning.yaml"
    items = _tuning_copies(CV_ITEMS, path)
    output = run(str(path), "--part", "tuning", "--articles", "articles", "--cv", "3")
    lines = output.split("cross-validation")[1].splitlines()
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


def test_the_fit_counts_exact_leads_and_fits_rows_of_articles_only():
    from troubleshooter.management.commands.evaluate_diagnosis import fit_parameters

    exact = {"symptom": 1.0, "exact": 1.0, "symptom_lead": 0.9, "near_miss": 0.0, "bm25": 0.9}
    weak = {"symptom": 0.0, "exact": 0.0, "symptom_lead": 0.0, "near_miss": 0.0, "bm25": 0.1}
    results = [
        {
            "item": {"source": f"https://example.org/{i}"},
            "expect": "an-article",
            "features": {"an-article": exact, "not-covered/a-neighbour": exact, "other": weak},
        }
        for i in range(3)
    ]
    fitted = fit_parameters(results, [])
    # The neighbour's exact message is not an article answer: it neither counts as a wrong
    # exact lead nor enters the fit as a row.
    assert fitted.exact_counts == (3, 3)
    assert fitted.rows == 6
