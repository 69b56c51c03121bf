"""Settings come from KB_* variables; production mode refuses to start half-configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Only what the test gives: no KB_* from the caller, nor the browser tests' async switch.
    dropped = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KB_") and k not in dropped}
    clean.update({"KB_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=clean, capture_output=True, text=True, timeout=120
    )


def _settings_value(expression: str, env: dict[str, str], tmp_path: Path) -> str:
    code = f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'kb.settings'); from django.conf import settings; print({expression})"  # noqa: E501
    result = _run("-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_it_defaults_to_sqlite_under_the_var_folder(tmp_path) -> None:
    value = _settings_value("settings.DATABASES['default']['NAME']", {}, tmp_path)
    assert value == str(tmp_path / "kb.sqlite3")
    assert _settings_value("settings.KB_INDEX_DIR", {}, tmp_path) == str(tmp_path / "index")


@pytest.mark.parametrize("variable", ["KB_DATABASE_URL", "DATABASE_URL"])
def test_it_selects_postgresql_from_a_database_url(tmp_path, variable) -> None:
    env = {variable: "postgres://kb:secret@127.0.0.1:5432/kbdb"}
    engine = _settings_value("settings.DATABASES['default']['ENGINE']", env, tmp_path)
    assert engine == "django.db.backends.postgresql"
    assert _settings_value("settings.DATABASES['default']['NAME']", env, tmp_path) == "kbdb"


def test_it_prefers_the_kb_database_url(tmp_path) -> None:
    env = {
        "KB_DATABASE_URL": "postgres://a@127.0.0.1/first",
        "DATABASE_URL": "postgres://b@127.0.0.1/second",
    }
    assert _settings_value("settings.DATABASES['default']['NAME']", env, tmp_path) == "first"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KB_DEBUG": "0"}, "KB_SECRET_KEY is required"),
        ({"KB_DEBUG": "0", "KB_SECRET_KEY": "x" * 60}, "KB_ALLOWED_HOSTS is required"),
        ({"KB_DEBUG": "maybe"}, "is not a boolean"),
        ({"KB_MAX_MANIFEST_BYTES": "lots"}, "is not an integer"),
    ],
)
def test_it_refuses_to_start_misconfigured(tmp_path, env, message) -> None:
    result = _run("manage.py", "check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_it_passes_the_deployment_checklist_in_production_mode(tmp_path) -> None:
    env = {
        "KB_DEBUG": "0",
        "KB_SECRET_KEY": "k8s-pitfalls-" + "q7Zr2vX9pL4mN8bT1wY6cJ3hF5dS0aE" * 2,
        "KB_ALLOWED_HOSTS": "kb.example.org",
    }
    result = _run(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_runs_against_the_configured_database(db) -> None:
    from django.db import connection

    expected = "postgresql" if os.environ.get("KB_DATABASE_URL") else "sqlite"
    assert connection.vendor == expected
