"""run-as-non-root against fixture manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from troubleshooter.analyzer import registry
from troubleshooter.analyzer.analyze import analyze_manifest
from troubleshooter.analyzer.checks import run_as_non_root as module

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests" / module.ID


def findings(name: str, text: str | None = None) -> list:
    """Findings of this check for one fixture, through the real analysis pipeline."""
    report = analyze_manifest(text=text if text is not None else (FIXTURES / name).read_text())
    return [finding for finding in report.findings if finding.check == module.ID]


def test_it_is_registered():
    assert registry.get(module.ID) is module


def test_it_flags_root_uid_under_run_as_non_root_and_privileged_non_root():
    result = findings("fail_root_user_and_privileged.yaml")
    assert [(f.severity, f.line, f.column) for f in result] == [
        ("error", 15, 20),
        ("error", 27, 25),
    ]
    assert "breaks non-root policy" in result[0].message
    assert result[0].message.startswith("Containers php, fix-perms: runAsNonRoot: true")
    assert result[1].message.startswith("Container nginx: privileged: true")
    assert "allowPrivilegeEscalation: false" in result[1].fix


def test_it_flags_what_the_api_rejects_but_not_a_missing_allow_privilege_escalation():
    # Pod/worker runs as user 1000 without allowPrivilegeEscalation: false: hardening advice,
    # not a contradiction, so (as the docstring and the README say) it is not reported.
    result = findings("fail_rejected_by_api_and_setuid.yaml")
    assert [(f.object.label(), f.severity, f.line, f.column) for f in result] == [
        ("DaemonSet/node-tools", "error", 17, 39),
        ("DaemonSet/node-tools", "error", 21, 39),
    ]
    assert "`privileged` to true" in result[0].message
    assert "CAP_SYS_ADMIN" in result[1].message


@pytest.mark.parametrize("name", ["pass_consistent_and_absent.yaml", "pass_wrong_types.yaml"])
def test_it_leaves_consistent_missing_and_junk_settings_alone(name):
    assert findings(name) == []


def test_a_container_override_removes_the_contradiction():
    text = (FIXTURES / "fail_root_user_and_privileged.yaml").read_text()
    text = text.replace(
        "        - name: php\n          image: php:8.3-fpm\n",
        "        - name: php\n          image: php:8.3-fpm\n"
        "          securityContext:\n"
        "            runAsUser: 33\n"
        "            allowPrivilegeEscalation: false\n",
    )
    result = findings("", text)
    assert [(f.line, f.message.split(":", 1)[0]) for f in result] == [
        (15, "Container fix-perms"),
        (30, "Container nginx"),
    ]
