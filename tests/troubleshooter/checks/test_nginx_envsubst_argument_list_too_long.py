"""nginx-envsubst-argument-list-too-long against fixtures and generated namespace dumps."""

from pathlib import Path

from troubleshooter.analyzer import analyze_manifest
from troubleshooter.analyzer.checks.nginx_envsubst_argument_list_too_long import (
    ARGUMENT_LIMIT,
    IMAGE_ENV,
    KUBERNETES_ENV,
)

CHECK = "nginx-envsubst-argument-list-too-long"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "manifests" / CHECK
TEMPLATED = (FIXTURES / "fail_templates_no_services_in_paste.yaml").read_text()


def services(count: int, *, width: int, namespace: str = "shop", headless: bool = False) -> str:
    """A `kubectl get svc -o yaml`-like dump of Services with names `width` characters long."""
    docs = []
    for number in range(count):
        name = f"svc-{number:05d}".ljust(width, "x")
        cluster_ip = "None" if headless else f"10.0.{number // 250}.{number % 250 + 1}"
        docs.append(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n"
            f"  namespace: {namespace}\nspec:\n  clusterIP: {cluster_ip}\n"
            "  ports:\n    - port: 80\n"
        )
    return "---\n".join(docs)


def findings(text: str):
    report = analyze_manifest(text=text)
    assert report.errors == []
    return [finding for finding in report.findings if finding.check == CHECK]


def test_it_errors_for_600_services_and_gives_the_byte_count():
    [finding] = findings(services(600, width=20) + "---\n" + TEMPLATED)
    assert finding.severity == "error"
    assert (finding.line, finding.column) == (600 * 10 + 15, 18)  # the image line
    # 600 Services x 7 names; each name is the 20-char prefix plus a suffix, + 4 bytes each.
    per_service = sum(
        20 + len(suffix) + 4
        for suffix in (
            "_SERVICE_HOST", "_SERVICE_PORT", "_PORT", "_PORT_80_TCP",
            "_PORT_80_TCP_PROTO", "_PORT_80_TCP_PORT", "_PORT_80_TCP_ADDR",
        )
    )  # fmt: skip
    assert 600 * per_service > ARGUMENT_LIMIT
    others = sum(len(name) + 4 for name in (*KUBERNETES_ENV, *IMAGE_ENV, "BACKEND_HOST"))
    assert f"{600 * per_service + others:,} bytes" in finding.message
    assert "enableServiceLinks: false" in finding.fix
    assert finding.fix.startswith("spec:\n  template:\n    spec:\n      enableServiceLinks")


def test_it_warns_for_350_services_of_20_characters():
    [finding] = findings(services(350, width=20) + "---\n" + TEMPLATED)
    assert finding.severity == "warning"


def test_it_notes_its_assumption_when_no_services_are_pasted():
    [finding] = findings(TEMPLATED)
    assert (finding.severity, finding.line, finding.column) == ("info", 15, 18)
    assert "no Services of namespace 'shop'" in finding.message


def test_it_does_not_count_headless_or_other_namespaces():
    text = (
        services(600, width=20, headless=True)
        + "---\n"
        + services(600, width=20, namespace="elsewhere")
        + "---\n"
        + TEMPLATED
    )
    [finding] = findings(text)
    assert finding.severity == "info"


def test_it_stays_silent_when_service_links_are_off():
    text = TEMPLATED.replace(
        "    spec:\n      containers:",
        "    spec:\n      enableServiceLinks: false\n      containers:",
    )
    assert "enableServiceLinks" in text
    assert findings(services(600, width=20) + "---\n" + text) == []


def test_it_stays_silent_with_a_filter_or_without_templates():
    assert (
        findings(
            services(600, width=20, namespace="default")
            + "---\n"
            + (FIXTURES / "pass_filter_set.yaml").read_text()
        )
        == []
    )
    assert (
        findings(
            services(600, width=20, namespace="default")
            + "---\n"
            + (FIXTURES / "pass_no_templates.yaml").read_text()
        )
        == []
    )
