"""nfs-efs-mount-options against fixture manifests."""

from __future__ import annotations

import pytest
from check_support import MANIFESTS, runners, summary

from troubleshooter.analyzer import registry
from troubleshooter.analyzer.analyze import analyze_manifest
from troubleshooter.analyzer.checks import nfs_efs_mount_options as module

run, fixture = runners(module)


def test_it_flags_soft_as_error_and_low_efs_timeo():
    findings = fixture("fail_soft_mount_options.yaml")
    assert summary(findings) == [
        (11, 7, "error", "PersistentVolume/legacy-nas"),
        (28, 5, "error", "StorageClass/efs-sc"),
        (28, 5, "warning", "StorageClass/efs-sc"),
    ]
    assert "silently corrupt" in findings[0].message
    assert "- hard" in findings[0].fix
    assert "timeo=50" in findings[2].message and "5 s" in findings[2].message
    # The soft item of the EFS StorageClass gets the full recommended set as its fix.
    assert "- noresvport" in findings[1].fix


def test_it_flags_efs_over_plain_nfs_without_noresvport_and_inline_efs():
    findings = fixture("fail_efs_server_without_options.yaml")
    assert summary(findings) == [
        (9, 3, "warning", "PersistentVolume/media"),
        (10, 7, "warning", "PersistentVolume/media"),
        (12, 7, "warning", "PersistentVolume/media"),
        (25, 3, "warning", "PersistentVolume/reports"),
        (49, 11, "warning", "Deployment/worker"),
    ]
    messages = [f.message for f in findings]
    assert "lack `noresvport`" in messages[0]
    assert "NFS version 3" in messages[1]
    assert "retrans=1" in messages[2]
    assert "no mountOptions" in messages[3]
    assert "inline" in messages[4] and "cannot carry mount options" in messages[4]
    assert "server: fs-0123456789abcdef0.efs.eu-west-1.amazonaws.com" in findings[4].fix


def test_it_accepts_recommended_options_plain_nfs_efs_csi_and_smb():
    assert fixture("pass_recommended_and_plain_nfs.yaml") == []


def test_it_does_not_crash_on_wrong_types():
    assert fixture("pass_wrong_types.yaml") == []


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("fs-0123456789abcdef0.efs.us-east-1.amazonaws.com", True),
        ("us-east-1a.fs-0123456789abcdef0.efs.us-east-1.amazonaws.com", True),
        ("fs-0123456789abcdef0.efs.cn-north-1.amazonaws.com.cn", True),
        ("efs.example.com", False),
        ("10.0.1.25", False),
        ("myefs.internal", False),
    ],
)
def test_it_recognises_efs_endpoints(server, expected):
    assert module.is_efs_host(server) is expected


def test_it_flags_nfs_csi_storage_class_pointing_at_efs():
    text = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: nfs-csi
provisioner: nfs.csi.k8s.io
parameters:
  server: fs-0123456789abcdef0.efs.us-east-1.amazonaws.com
  share: /
mountOptions:
  - nfsvers=4.1
"""
    assert summary(run(text)) == [(9, 1, "warning", "StorageClass/nfs-csi")]


def test_the_examples_behave_as_documented():
    assert run(module.FAILING_EXAMPLE)
    assert run(module.PASSING_EXAMPLE) == []


def test_an_inline_comment_suppresses_the_finding():
    if module.ID not in registry.CHECKS:
        pytest.skip("not registered yet")
    text = (MANIFESTS / module.ID / "fail_soft_mount_options.yaml").read_text()
    text = text.replace(
        "    - soft\n", "    # kb-ignore: nfs-efs-mount-options read-only cache\n    - soft\n"
    )
    report = analyze_manifest(text=text)
    ours = [f for f in report.findings if f.check == module.ID and f.line == 12]
    assert [f.suppressed for f in ours] == [True]
    assert ours[0].suppression_reason == "read-only cache"
