"""client-source-ip-external-traffic-policy against fixture manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from troubleshooter.analyzer import registry
from troubleshooter.analyzer.analyze import analyze_manifest
from troubleshooter.analyzer.checks import client_source_ip_external_traffic_policy as module

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests" / module.ID


def findings(name: str, text: str | None = None) -> list:
    """Findings of this check for one fixture, through the real analysis pipeline."""
    report = analyze_manifest(text=text if text is not None else (FIXTURES / name).read_text())
    return [finding for finding in report.findings if finding.check == module.ID]


def test_it_is_registered():
    assert registry.get(module.ID) is module


def test_it_flags_external_services_selecting_web_pods():
    result = findings("fail_nodeport_and_lb_to_web_pods.yaml")
    assert [(f.object.label(), f.severity, f.line, f.column) for f in result] == [
        ("Service/shop", "info", 7, 9),
        ("Service/ingress-nginx-controller", "info", 44, 26),
    ]
    assert "Deployment/shop" in result[0].message
    assert "the default Cluster policy" in result[0].message
    assert "externalTrafficPolicy: Cluster" in result[1].message
    assert "externalTrafficPolicy: Local" in result[0].fix
    assert "time out" in result[0].fix and "healthCheckNodePort" in result[1].fix


def test_it_states_its_assumption_when_no_pods_are_in_the_paste():
    [finding] = findings("fail_selector_matches_nothing_in_paste.yaml")
    assert (finding.line, finding.column) == (6, 9)
    assert "none in the paste" in finding.message


def test_an_unmatched_selector_on_a_non_web_port_is_not_flagged():
    text = (FIXTURES / "fail_selector_matches_nothing_in_paste.yaml").read_text()
    assert findings("", text.replace("port: 80", "port: 6379")) == []


@pytest.mark.parametrize("name", ["pass_local_internal_and_non_web.yaml", "pass_wrong_types.yaml"])
def test_it_leaves_local_internal_non_web_and_junk_services_alone(name):
    assert findings(name) == []


def test_a_disabled_proxy_protocol_annotation_does_not_count():
    text = (FIXTURES / "pass_local_internal_and_non_web.yaml").read_text()
    text = text.replace(
        'aws-load-balancer-proxy-protocol: "*"', 'do-loadbalancer-enable-proxy-protocol: "false"'
    )
    assert [f.object.label() for f in findings("", text)] == ["Service/web-nlb"]
