"""`manage.py analyze`: formats and exit codes, in-process and as a real subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from troubleshooter.analyzer import registry

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "faces"
AKS_CHECK = "aks-virtual-node-azure-files-pvc"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run the command in-process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    options = {"stdout": out, "stderr": err}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    try:
        call_command("analyze", *args, **options)
    except CommandError as error:
        err.write(str(error))
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def test_it_exits_0_for_a_clean_manifest():
    code, out, _ = run(fixture("clean.yaml"))
    assert code == 0
    assert "1 objects: 0 errors, 0 warnings, 0 info, 0 suppressed, 0 parse errors" in out


def test_it_exits_1_and_prints_the_finding_with_its_position():
    code, out, err = run(fixture("aks-pvc.yaml"))
    assert code == 1
    assert f"30:11 error {AKS_CHECK} Deployment/report-burst:" in out
    assert "1 finding(s) at or above error" in err


def test_it_exits_0_when_the_only_finding_is_suppressed():
    code, out, _ = run(fixture("suppressed.yaml"), "--fail-on", "info")
    assert code == 0
    assert "[suppressed: claim is replaced by an init job before rollout]" in out


def test_it_compares_findings_with_the_fail_on_threshold(tmp_path):
    # Only a toleration: the pod *may* land on a virtual node, so the claim is a warning.
    manifest = (
        Path(fixture("aks-pvc.yaml"))
        .read_text()
        .replace("      nodeSelector:\n        type: virtual-kubelet\n", "")
    )
    path = tmp_path / "tolerated.yaml"
    path.write_text(manifest)
    code, out, _ = run(str(path), "--fail-on", "error")
    assert " warning " in out
    assert code == 0
    assert run(str(path), "--fail-on", "warning")[0] == 1
    assert run(str(path), "--fail-on", "info")[0] == 1


def test_it_counts_parse_errors_as_errors():
    code, out, _ = run(fixture("malformed.yaml"))
    assert code == 1
    assert "7:8 parse-error:" in out


def test_it_turns_checks_off_with_disable():
    code, out, _ = run(fixture("aks-pvc.yaml"), "--disable", AKS_CHECK)
    assert code == 0
    assert AKS_CHECK not in out


def test_it_exits_2_for_an_unknown_check_in_disable():
    code, _, err = run(fixture("clean.yaml"), "--disable", "no-such-check")
    assert code == 2
    assert "no-such-check" in err


def test_it_exits_2_for_a_missing_file():
    code, _, err = run(fixture("does-not-exist.yaml"))
    assert code == 2
    assert "cannot read" in err and "does-not-exist.yaml" in err


def test_it_exits_2_for_a_binary_file():
    code, _, err = run(fixture("binary.yaml"))
    assert code == 2
    assert "NUL bytes" in err


def test_it_exits_2_for_a_directory():
    code, _, err = run(str(FIXTURES))
    assert code == 2
    assert "cannot read" in err


def test_it_exits_2_for_a_file_over_the_limit(tmp_path, settings):
    settings.KB_MAX_MANIFEST_BYTES = 1_024
    path = tmp_path / "big.yaml"
    path.write_text("# padding\n" * 200)
    code, _, err = run(str(path))
    assert code == 2
    assert "the limit is 1,024 bytes" in err


def test_it_exits_2_for_empty_input():
    code, _, err = run("-", stdin="")
    assert code == 2
    assert "standard input refused" in err


def test_it_prefers_exit_2_over_1_and_still_reports_the_readable_files():
    code, out, err = run(fixture("aks-pvc.yaml"), fixture("does-not-exist.yaml"))
    assert code == 2
    assert AKS_CHECK in out
    assert "does-not-exist.yaml" in err


def test_it_reads_standard_input():
    code, out, _ = run("-", "--format", "json", stdin=Path(fixture("aks-pvc.yaml")).read_text())
    assert code == 1
    payload = json.loads(out)
    assert [(f["check"], f["line"]) for f in payload["findings"]] == [(AKS_CHECK, 30)]


def test_it_prints_the_api_object_for_one_file_in_json():
    code, out, _ = run(fixture("clean.yaml"), "--format", "json")
    assert code == 0
    assert json.loads(out) == {"objects": 1, "findings": [], "errors": []}


def test_it_prints_a_list_with_file_names_for_several_files_in_json():
    _, out, _ = run(fixture("clean.yaml"), fixture("aks-pvc.yaml"), "--format", "json")
    payload = json.loads(out)
    assert [entry["file"] for entry in payload] == [fixture("clean.yaml"), fixture("aks-pvc.yaml")]
    assert payload[0]["findings"] == []
    assert payload[1]["findings"][0]["check"] == AKS_CHECK


def test_it_prints_one_report_per_file_in_text():
    _, out, _ = run(fixture("clean.yaml"), fixture("aks-pvc.yaml"))
    clean_part, aks_part = out.split(f"==> {fixture('aks-pvc.yaml')} <==")
    assert f"==> {fixture('clean.yaml')} <==" in clean_part
    assert AKS_CHECK not in clean_part
    assert AKS_CHECK in aks_part


def test_it_prints_sarif_with_one_run_per_file():
    code, out, _ = run(
        fixture("aks-pvc.yaml"),
        fixture("clean.yaml"),
        "--format",
        "sarif",
        "--base-url",
        "https://kb.example.org/",
    )
    assert code == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    aks_run, clean_run = log["runs"]
    assert clean_run["results"] == []
    [result] = aks_run["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == fixture("aks-pvc.yaml")
    assert location["region"]["startLine"] == 30
    rules = {rule["id"]: rule for rule in aks_run["tool"]["driver"]["rules"]}
    assert set(rules) == {module.ID for module in registry.all_checks()}
    assert rules[AKS_CHECK]["helpUri"] == f"https://kb.example.org/checks/{AKS_CHECK}/"


def test_it_documents_every_flag_in_help():
    out = subprocess.run(
        [sys.executable, "manage.py", "analyze", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in ("--format", "--fail-on", "--disable", "--base-url"):
        assert flag in out
    assert "Exit status: 0" in " ".join(out.split())


@pytest.mark.parametrize(
    ("name", "expected_code"), [("clean.yaml", 0), ("aks-pvc.yaml", 1), ("binary.yaml", 2)]
)
def test_it_exits_with_documented_codes_as_a_real_process_reading_stdin(name, expected_code):
    completed = subprocess.run(
        [sys.executable, "manage.py", "analyze", "-", "--format", "json"],
        cwd=REPO,
        input=(FIXTURES / name).read_bytes(),
        capture_output=True,
        check=False,
    )
    assert completed.returncode == expected_code, completed.stderr
    if expected_code == 2:
        assert b"NUL bytes" in completed.stderr
        assert completed.stdout == b""
    else:
        payload = json.loads(completed.stdout)
        assert len(payload["findings"]) == expected_code


def test_it_reads_the_same_limits_with_and_without_django(settings, monkeypatch):
    from troubleshooter.analyzer.cli import LIMIT_VARIABLES, limits_from_env
    from troubleshooter.forms import manifest_limits

    # Defaults agree...
    for variable in LIMIT_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    assert limits_from_env() == manifest_limits()
    # ...and so do configured values.
    environ = {variable: str(1000 + i) for i, variable in enumerate(LIMIT_VARIABLES.values())}
    for variable, value in environ.items():
        setattr(settings, variable, int(value))
    assert limits_from_env(environ) == manifest_limits()


def test_it_honours_the_size_limit_from_the_environment_as_a_real_process():
    completed = subprocess.run(
        [sys.executable, "manage.py", "analyze", "-"],
        cwd=REPO,
        input=(FIXTURES / "clean.yaml").read_bytes(),
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "KB_MAX_MANIFEST_BYTES": "10"},
        check=False,
    )
    assert completed.returncode == 2
    assert b"the limit is 10 bytes" in completed.stderr


def test_it_takes_the_django_route_for_django_options():
    completed = subprocess.run(
        [sys.executable, "manage.py", "analyze", "-", "--verbosity", "0"],
        cwd=REPO,
        input=(FIXTURES / "clean.yaml").read_bytes(),
        capture_output=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert b"0 errors" in completed.stdout
