"""A worker unmaps the MeCab dictionary's pages every few Japanese queries, answers unchanged.

Every page a look-up touches in unidic-lite's mapped dictionary stays in the worker's resident
set, so a worker's peak RSS grew with the Japanese it had tagged (kb/dictionary_pages.py).
Checked in a fresh production interpreter through the search page and the JSON API, reading
the mappings' resident size from /proc/self/smaps.
"""

from __future__ import annotations

_SERVE = r"""
import json, os, re, sys
os.environ.update(EXTRA)
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
from django.test import Client
from kb import analysis
from kb.dictionary_pages import dictionary_folder, dictionary_pages, resident_kilobytes

folder = dictionary_folder() + "/"

def resident_kb():
    return resident_kilobytes(folder)

TEXTS = [
    "コンテナが再起動を繰り返すのはメモリ不足のためです",
    "ノードに十分なリソースがないのでポッドはスケジュールされません",
    "ファイルシステムのバージョンを表示して終了する",
    "設定ファイルの読み込みに失敗しました",
]
lemmas = lambda: [analysis.lemma_terms(text) for text in TEXTS]
client = Client(HTTP_HOST="testserver")
report = {"lemmas_before": lemmas(), "resident_after_tagging": resident_kb()}
pages = dictionary_pages()
report["every"] = pages.every
statuses = []
for text in TEXTS[:3]:
    statuses.append(client.get("/search/", {"q": text}, secure=True).status_code)
    analysis.lemma_terms(text)  # as the query does once the index holds articles
statuses.append(client.get("/search/", {"q": "envsubst argument list"}, secure=True).status_code)
report["releases_after_three_japanese_one_latin"] = pages.releases
report["resident_before_the_fourth"] = resident_kb()
statuses.append(client.get("/search/", {"q": TEXTS[3]}, secure=True).status_code)
report["releases_after_the_fourth"] = pages.releases
report["resident_after_release"] = resident_kb()
report["lemmas_after"] = lemmas()
report["resident_after_tagging_again"] = resident_kb()
for text in TEXTS:
    statuses.append(client.get("/api/search/", {"q": text}, secure=True).status_code)
report["releases_after_api"] = pages.releases
report["statuses"] = sorted(set(statuses))
print(json.dumps(report))
"""


def _serve(run_in_production, **extra: str) -> dict:
    return run_in_production(_SERVE.replace("EXTRA", repr(extra)))


def test_every_fourth_japanese_query_unmaps_the_dictionary(run_in_production):
    report = _serve(run_in_production, KB_DICTIONARY_RELEASE_EVERY="4")
    assert report["statuses"] == [200]
    assert report["every"] == 4
    assert report["resident_after_tagging"] > 0
    # Three Japanese queries and a Latin one: not yet.
    assert report["releases_after_three_japanese_one_latin"] == 0
    assert report["resident_before_the_fourth"] > 0
    # The fourth Japanese query releases every page of the dictionary this process mapped.
    assert report["releases_after_the_fourth"] == 1
    assert report["resident_after_release"] == 0
    # The same lemmas afterwards: the pages come back from the file as they were.
    assert report["lemmas_after"] == report["lemmas_before"]
    assert "起動" in report["lemmas_before"][0]
    assert report["resident_after_tagging_again"] > 0
    # The JSON API counts too.
    assert report["releases_after_api"] == 2


def test_zero_never_releases(run_in_production):
    report = _serve(run_in_production, KB_DICTIONARY_RELEASE_EVERY="0")
    assert report["statuses"] == [200]
    assert report["every"] == 0
    assert report["releases_after_the_fourth"] == 0
    assert report["releases_after_api"] == 0
    assert report["resident_after_release"] > 0
    assert report["lemmas_after"] == report["lemmas_before"]


def test_by_default_every_japanese_query_unmaps_the_dictionary(run_in_production):
    """The default since 2026-12-04 (bench/RESULTS.md): a worker's peak RSS 127-130 MB
    against 137-141 MB with a release every fourth query, on the same serving benchmark."""
    report = _serve(run_in_production)
    assert report["statuses"] == [200]
    assert report["every"] == 1
    # Three Japanese queries, three releases; the Latin one none.
    assert report["releases_after_three_japanese_one_latin"] == 3
    assert report["releases_after_the_fourth"] == 4
    assert report["resident_after_release"] == 0
    assert report["lemmas_after"] == report["lemmas_before"]
    assert report["releases_after_api"] == 8
