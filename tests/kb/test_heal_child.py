"""The background heal rebuilds the index in a child process, never in a serving thread.

Each test runs a real Python process with its own SQLite file and index folder (a child
process cannot open the test suite's in-memory database): it imports a few documents, builds
the index, makes it stale, then heals the way a serving worker does (`heal_in_child`), while
a thread keeps searching. The scenario prints one JSON line that the test checks. Failures
are real: a child whose settings module does not exist, and a child that hangs at start-up
(a `sitecustomize` on its PYTHONPATH that first leaves a half-written index folder, as a
rebuild killed mid-way would). Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent

SCENARIO = r"""
import json, logging, os, sys, threading, time
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
folder = Path(os.environ["KB_VAR_DIR"]) / "docs"
folder.mkdir()
for n in range(12):
    (folder / f"doc-{n:02}.md").write_text(f"# Heal test {n}\n\nThe word qqheal{n:02}x is here.\n")
call_command("import_articles", "--quiet", str(folder))
from kb.models import Article
from kb.search import caches, index_dir, search_articles
from kb.search.healing import heal_in_child
messages = []
class Keep(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())
logging.getLogger("kb.search.healing").addHandler(Keep())
logging.getLogger("kb.search.healing").setLevel(logging.INFO)
before = index_dir().resolve()
Article.objects.create(slug="late-one", title="Late one", markdown="x", html="<p>qqlatex</p>")
mode = sys.argv[1]
if mode == "fails":
    os.environ["DJANGO_SETTINGS_MODULE"] = "kb.no_such_settings_module"
elif mode == "hangs":
    os.environ["PYTHONPATH"] = os.environ["HANG_DIR"]
answers, failures, done = [], [], threading.Event()
def search_loop():
    while not done.is_set():
        try:
            caches.results.clear()
            answers.append([h.slug for h in search_articles("qqheal03x")])
        except Exception as error:
            failures.append(repr(error))
        time.sleep(0.01)
    from django.db import connection
    connection.close()
thread = threading.Thread(target=search_loop)
thread.start()
started = time.monotonic()
healed = heal_in_child(timeout=float(sys.argv[2]))
seconds = time.monotonic() - started
done.set()
thread.join(30)
caches.searchers.forget()
caches.results.clear()
after = index_dir().resolve()
print(json.dumps({
    "healed": healed,
    "seconds": seconds,
    "changed": after != before,
    "old_folder_exists": before.exists(),
    "late": [h.slug for h in search_articles("qqlatex")],
    "known": [h.slug for h in search_articles("qqheal03x")],
    "answers": len(answers),
    "wrong": [a for a in answers if a != ["doc-03"]][:3],
    "failures": failures[:3],
    "folders": sorted(p.name for p in after.parent.iterdir() if p.name.startswith("v")),
    "messages": messages,
}))
"""


def run_scenario(tmp_path: Path, mode: str, timeout: float) -> dict:
    var = tmp_path / "var"
    var.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KB_DATABASE_URL", "DATABASE_URL", "PYTHONPATH")
        and not key.startswith("PYTEST")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kb.settings",
            "KB_DEBUG": "0",
            "KB_SECRET_KEY": "heal-test-secret-key-" + "x" * 40,
            "KB_ALLOWED_HOSTS": "127.0.0.1",
            "KB_VAR_DIR": str(var),
            "KB_SQLITE_PATH": str(var / "kb.sqlite3"),
            "KB_INDEX_DIR": str(var / "index"),
            "KB_LOG_LEVEL": "WARNING",
            # Only the scenario's own heal runs: a search finding the index stale must not
            # start a second one.
            "KB_INDEX_SELF_HEAL": "0",
            "HANG_DIR": str(tmp_path / "hang"),
        }
    )
    hang = tmp_path / "hang"
    hang.mkdir()
    # Runs at the start of any Python process with this PYTHONPATH: the heal's child only.
    (hang / "sitecustomize.py").write_text(
        "import os, time\n"
        "from pathlib import Path\n"
        "index = Path(os.environ['KB_INDEX_DIR'])\n"
        "half = index / f'v3.{time.time_ns()}.{os.getpid()}'\n"
        "half.mkdir(parents=True)\n"
        "(half / '_MAIN_1.toc').write_bytes(b'half written')\n"
        "time.sleep(120)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO, mode, str(timeout)],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def test_a_stale_index_is_rebuilt_by_a_child_while_searches_keep_answering(tmp_path):
    result = run_scenario(tmp_path, "heals", timeout=200)
    assert result["healed"] is True
    assert result["changed"] and result["late"] == ["late-one"]
    assert result["known"] == ["doc-03"]
    # The searching thread ran throughout, always with the right answer and never an error.
    assert result["answers"] > 0 and result["wrong"] == [] and result["failures"] == []
    assert any("rebuilt by child" in message for message in result["messages"])
    assert len(result["folders"]) == 2, result["folders"]  # the link and one folder


def test_a_failing_child_leaves_the_old_index_serving(tmp_path):
    result = run_scenario(tmp_path, "fails", timeout=200)
    assert result["healed"] is False
    assert not result["changed"] and result["old_folder_exists"]
    assert result["late"] == []  # still the old index: it does not know the new row yet
    assert result["known"] == ["doc-03"]
    assert result["wrong"] == [] and result["failures"] == []
    failed = [m for m in result["messages"] if "failed with status" in m]
    assert failed and "kb.no_such_settings_module" in failed[0]


@pytest.mark.timeout(300)
def test_a_hanging_child_is_killed_and_its_half_written_folder_never_used(tmp_path):
    result = run_scenario(tmp_path, "hangs", timeout=4)
    assert result["healed"] is False
    assert result["seconds"] < 60, "the bound was not kept"
    assert not result["changed"] and result["late"] == []
    assert result["known"] == ["doc-03"]
    assert result["wrong"] == [] and result["failures"] == []
    assert any("was killed" in message for message in result["messages"])
    # The folder the child had begun is gone: only the link and the serving folder remain.
    assert len(result["folders"]) == 2, result["folders"]
