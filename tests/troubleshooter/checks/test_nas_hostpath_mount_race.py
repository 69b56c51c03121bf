"""nas-hostpath-mount-race against fixture manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from troubleshooter.analyzer import registry
from troubleshooter.analyzer.analyze import analyze_manifest
from troubleshooter.analyzer.checks import nas_hostpath_mount_race as module

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests" / module.ID


def findings(name: str) -> list:
    """Findings of this check for one fixture, through the real analysis pipeline."""
    report = analyze_manifest(text=(FIXTURES / name).read_text())
    return [finding for finding in report.findings if finding.check == module.ID]


def test_it_is_registered():
    assert registry.get(module.ID) is module


def test_it_flags_the_path_line_of_pod_hostpaths_on_shares():
    result = findings("fail_rc_local_nas_deployment.yaml")
    assert [(f.object.label(), f.line, f.column) for f in result] == [
        ("Deployment/shop", 27, 19),
        ("DaemonSet/media-sync", 56, 19),
    ]
    assert all(f.severity == "warning" and f.article == module.ARTICLE for f in result)
    assert "DirectoryOrCreate" in result[0].message
    assert "mountPropagation: HostToContainer" in result[1].message
    assert "nfs:" in result[0].fix and "claimName: uploads" in result[0].fix


def test_it_flags_persistent_volumes_with_a_hostpath_source():
    result = findings("fail_pv_hostpath_on_efs.yaml")
    assert [(f.object.label(), f.line, f.column) for f in result] == [
        ("PersistentVolume/efs-uploads", 11, 11),
        ("Pod/wordpress", 46, 15),
    ]
    assert "/mnt/efs/uploads" in result[0].message


@pytest.mark.parametrize(
    "name",
    ["pass_ordinary_node_paths.yaml", "pass_nfs_pv_and_stopgap.yaml", "pass_wrong_types.yaml"],
)
def test_it_leaves_local_paths_nfs_volumes_and_junk_alone(name):
    assert findings(name) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/mnt/nas", True),
        ("/nas/www", True),
        ("/mnt/nfs", True),
        ("/nfs", True),
        ("/data/nfs", True),
        ("/efs", True),
        ("/mnt/cifs/x", True),
        ("/mnt/smb", True),
        ("/mnt/azurefiles", True),
        ("/srv/netapp/vol1", True),
        ("/mnt/nas01/www", True),
        ("/mnt/share", True),
        ("/var/log", False),
        ("/var/lib/nfs", False),
        ("/usr/share/nginx/html", False),
        ("/mnt/disks/ssd0", False),
        ("/data/snapshots", False),
        ("/var/run/docker.sock", False),
        ("relative/nas", False),
    ],
)
def test_it_recognises_share_like_paths(path, expected):
    assert module.network_looking_host_path(path) is expected


def test_a_stopgap_on_only_some_mounts_is_not_enough():
    text = (
        (FIXTURES / "pass_nfs_pv_and_stopgap.yaml")
        .read_text()
        .replace(
            "            - name: www\n",
            "            - name: uploads\n"
            "              mountPath: /cache\n"
            "            - name: www\n",
        )
    )
    report = analyze_manifest(text=text)
    assert [(f.check, f.line) for f in report.findings if f.check == module.ID] == [(module.ID, 56)]


def test_it_can_be_suppressed_with_a_reason():
    text = (
        (FIXTURES / "fail_pv_hostpath_on_efs.yaml")
        .read_text()
        .replace(
            "  hostPath:\n    path: /mnt/efs/uploads",
            "  hostPath:\n    # kb-ignore: nas-hostpath-mount-race fstab orders kubelet after EFS\n"
            "    path: /mnt/efs/uploads",
        )
    )
    report = analyze_manifest(text=text)
    ours = [f for f in report.findings if f.check == module.ID]
    assert [(f.line, f.suppressed) for f in ours] == [(12, True), (47, False)]


def test_it_leaves_share_servers_and_storage_node_plugins_alone():
    assert findings("pass_share_server_and_csi_node_plugin.yaml") == []


def test_the_same_paths_in_an_ordinary_pod_are_reported():
    text = (FIXTURES / "pass_share_server_and_csi_node_plugin.yaml").read_text()
    text = text.replace("containerPort: 2049\n", "containerPort: 8080\n")
    text = text.replace("path: /var/lib/kubelet\n", "path: /var/lib/plugin\n")
    report = analyze_manifest(text=text)
    result = [finding for finding in report.findings if finding.check == module.ID]
    assert [(f.object.label(), f.line) for f in result] == [
        ("Deployment/share-server", 25),
        ("DaemonSet/storage-node-plugin", 55),
    ]
