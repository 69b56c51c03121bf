"""evidence.setting_lines: which lines of a paste describe where the problem happened.

Those lines are shown and numbered like any other, but none of their words is evidence
(tests/troubleshooter/diagnosis/test_diagnose.py checks that on every article's reports).
"""

import pytest

from troubleshooter.diagnosis.evidence import prepare, setting_lines


def found(text: str) -> list[str]:
    lines = [line.strip().lower() for line in text.splitlines() if line.strip()]
    return [lines[i] for i in sorted(setting_lines(lines))]


@pytest.mark.parametrize(
    "line",
    [
        "Environment: Ubuntu 22.04, containerd 1.7, Helm 3.14",
        "OS: Windows 11 with WSL2",
        "- Kubernetes version: v1.28.3",
        "* **Cloud provider**: bare metal",
        "Container runtime: containerd://1.7.2",
        "Kubelet Version:            v1.29.4",
        "環境: Ubuntu 22.04、Kubernetes 1.28",
        "系统版本：CentOS 7",
        "运行环境: k3s v1.26",
    ],
)
def test_a_labelled_line_about_the_setup_is_a_setting(line):
    assert found(line) == [line.lower()]


@pytest.mark.parametrize(
    "line",
    [
        # An error word: the line reports, whatever its label.
        "OS: Ubuntu 22.04, and the mount fails with permission denied",
        "Kernel: nfs: server 10.0.0.4 not responding, still trying",
        # A log line's timestamp after the program's name.
        "kernel: [16068718.482673] mount.nfs       D    0 22247  22246 0x00000000",
        # A Kubernetes label key, a clause, a label that is not about the setup.
        "beta.kubernetes.io/os: linux",
        "init db, db version:13",
        "Mount options: nfsvers=4.1,hard",
        "What happened: the uploads vanish",
        # No label at all.
        "We run Ubuntu 22.04 with containerd 1.7",
    ],
)
def test_other_lines_are_not(line):
    assert found(line) == []


def test_a_headers_block_runs_over_its_bullets_to_a_blank_line():
    text = (
        "**Environment**:\n"
        "- Kubernetes version (use `kubectl version`): v1.28\n"
        "- Kernel (e.g. `uname -a`): 5.15.0-91-generic\n"
        "- Install tools: kubeadm\n"
        "\n"
        "- the pods keep the old file after the edit\n"
    )
    prepared = prepare(text)
    lines = [line.lower() for line in prepared.originals]
    assert sorted(setting_lines(lines, prepared.numbers)) == [0, 1, 2, 3]
    # The report's bullet after the blank line is read: its words are evidence.
    assert prepared.line_tokens[4] and not any(prepared.line_tokens[:4])
    assert prepared.originals[4] == "- the pods keep the old file after the edit"


def test_a_block_ends_at_a_line_that_is_neither_a_bullet_nor_labelled():
    text = "Versions:\n- kubectl: v1.30.1\nServer: v1.30.0\nthe pod is stuck in ContainerCreating"
    assert found(text) == ["versions:", "- kubectl: v1.30.1"]


def test_an_error_line_ends_a_block():
    text = "Environment:\n- OS: Ubuntu 22.04\n- Error: mount failed\n- Helm 3.14"
    assert found(text) == ["environment:", "- os: ubuntu 22.04"]


def test_a_containers_variables_under_env_or_environment_are_read():
    """A manifest's env: and a compose file's environment: head a container's variables,
    evidence of their own (thousands of *_SERVICE_HOST variables); a template's
    "**Environment**:" heads the setup."""
    manifest = "env:\n  - name: SHOP_SERVICE_HOST\n    value: 10.0.0.12\n  - name: SHOP_PORT"
    compose = "environment:\n  - UPLOAD_TMP_DIR=/tmp/uploads\n  - PHP_MEMORY_LIMIT=512M"
    for text in (manifest, compose):
        prepared = prepare(text)
        assert all(prepared.line_tokens[1:]), text
    template = "**Environment**:\n- Others: three workers\n- OS: Debian 12"
    prepared = prepare(template)
    assert not any(prepared.line_tokens)
