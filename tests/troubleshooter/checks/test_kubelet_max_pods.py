"""kubelet-max-pods against fixture manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from troubleshooter.analyzer import registry
from troubleshooter.analyzer.analyze import analyze_manifest
from troubleshooter.analyzer.checks import kubelet_max_pods as module

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests" / module.ID


def findings(name: str) -> list:
    """Findings of this check for one fixture, through the real analysis pipeline."""
    report = analyze_manifest(text=(FIXTURES / name).read_text())
    return [finding for finding in report.findings if finding.check == module.ID]


def test_it_is_registered():
    assert registry.get(module.ID) is module


@pytest.mark.parametrize(("prefix", "pods"), [(24, 253), (23, 509), (25, 125), (26, 61), (30, 1)])
def test_it_counts_host_local_addresses(prefix, pods):
    assert module.pod_addresses(prefix) == pods


def test_it_uses_the_smallest_ipv4_node_range_in_the_paste():
    [finding] = findings("fail_max_pods_over_node_cidr.yaml")
    assert (finding.severity, finding.line, finding.column) == ("error", 5, 10)
    assert "253 pod addresses" in finding.message
    assert "(10.244.3.0/24, from Node worker-2 spec.podCIDR)" in finding.message
    assert finding.object.label() == "KubeletConfiguration/?"
    assert "maxPods: 250" in finding.fix
    assert "--node-cidr-mask-size=23" in finding.fix


def test_it_reads_the_kubeadm_mask_and_a_standalone_pod_cidr():
    result = findings("fail_kubeadm_mask_and_standalone.yaml")
    assert [(f.severity, f.line) for f in result] == [("error", 12), ("error", 18)]
    assert "125 pod addresses" in result[0].message
    assert "/25, from node-cidr-mask-size in the kubeadm ClusterConfiguration" in result[0].message
    assert "61 pod addresses" in result[1].message
    assert "maxPods: 61" in result[1].fix


def test_without_a_range_it_states_the_24_assumption():
    result = findings("fail_no_cidr_in_paste.yaml")
    assert [(f.severity, f.line, f.column) for f in result] == [
        ("warning", 3, 10),
        ("info", 9, 10),
    ]
    assert all("assumed" in f.message and "/24" in f.message for f in result)
    assert "110" in result[1].message


@pytest.mark.parametrize(
    "name",
    ["pass_fits_known_range.yaml", "pass_defaults_and_status.yaml", "pass_wrong_types.yaml"],
)
def test_it_leaves_fitting_default_and_junk_configs_alone(name):
    assert findings(name) == []


def test_it_can_be_suppressed_with_a_reason():
    text = (FIXTURES / "fail_no_cidr_in_paste.yaml").read_text()
    text = text.replace(
        "  name: dense\n",
        "  name: dense\n  annotations:\n"
        '    kb.troubleshooter/ignore: "kubelet-max-pods: load-tested at 200 on m6i.4xlarge"\n',
    )
    report = analyze_manifest(text=text)
    ours = [(f.severity, f.suppressed) for f in report.findings if f.check == module.ID]
    assert ours == [("warning", False), ("info", True)]
