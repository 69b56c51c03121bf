"""Hardening tests: the hostile corpus on sys.path, and `manage.py` as a real process.

The tests folders are not packages, so tests/ (where hostile_corpus.py lives) is put on
sys.path here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent.parent
REPO = TESTS_DIR.parent
PYTHON = REPO / ".venv" / "bin" / "python"
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))


@pytest.fixture
def run_manage(tmp_path: Path):
    """Run `manage.py` in a real process with its own var/ folder; output decoded as text."""

    def run(*args: str, stdin: bytes = b"", timeout: float = 60, env: dict | None = None):
        environment = {**os.environ, "KB_VAR_DIR": str(tmp_path / "cli-var"), **(env or {})}
        done = subprocess.run(
            [str(PYTHON), str(REPO / "manage.py"), *args],
            input=stdin,
            capture_output=True,
            timeout=timeout,
            cwd=REPO,
            env=environment,
            check=False,
        )
        return subprocess.CompletedProcess(
            done.args,
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    return run
