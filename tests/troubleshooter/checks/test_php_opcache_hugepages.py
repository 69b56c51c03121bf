"""php-opcache-hugepages against fixture manifests."""

from __future__ import annotations

import pytest
from check_support import runners, summary

from troubleshooter.analyzer.checks import php_opcache_hugepages as module

run, fixture = runners(module)


def test_it_warns_at_the_php_ini_line_when_no_hugepages_are_requested():
    findings = fixture("fail_huge_code_pages_without_hugepages.yaml")
    assert summary(findings) == [(11, 5, "warning", "Deployment/shop")]
    assert "/usr/local/etc/php/php.ini (ConfigMap php-conf)" in findings[0].message
    assert "Bus error" in findings[0].message
    assert findings[0].fix == "opcache.huge_code_pages=0\n"


def test_it_flags_resources_the_api_rejects_and_volumes_the_kubelet_cannot_mount():
    findings = fixture("fail_resources_and_volumes.yaml")
    assert summary(findings) == [
        (12, 11, "error", "Pod/mismatched"),
        (20, 11, "error", "Pod/mismatched"),
        (23, 22, "error", "Pod/mismatched"),
        (30, 17, "error", "Pod/mismatched"),
        (43, 11, "error", "Pod/no-limit"),
        (70, 21, "error", "StatefulSet/no-pages"),
    ]
    messages = [f.message for f in findings]
    assert "must be equal to hugepages-2Mi limit" in messages[0]
    assert "HugePages require cpu or memory" in messages[1]
    assert "SIGBUS" in messages[2] and "'only-pages'" in messages[2]
    assert "several page sizes (hugepages-1Gi, hugepages-2Mi)" in messages[3]
    assert "Limit must be set" in messages[4]
    assert "ContainerCreating" in messages[5]
    assert "hugepages-2Mi: 128Mi" in findings[0].fix


def test_it_accepts_correct_hugepages_and_huge_code_pages_off():
    assert fixture("pass_correct_hugepages.yaml") == []


def test_it_does_not_crash_on_wrong_types():
    assert fixture("pass_wrong_types.yaml") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64Mi", 64 * 2**20),
        ("67108864", 64 * 2**20),
        ("1Gi", 2**30),
        ("2M", 2_000_000),
        ("1e3", 1000),
        ("500m", 0.5),
        ("lots", None),
        ("", None),
    ],
)
def test_it_parses_quantities(text, expected):
    assert module.quantity(text) == expected


def test_the_examples_behave_as_documented():
    assert run(module.FAILING_EXAMPLE)
    assert run(module.PASSING_EXAMPLE) == []
