"""Each workload shape the model reads, per check it matters to: a failing and a passing
fixture with the exact lines (claim templates, generic ephemeral volumes, projected volumes,
envFrom, sidecars, ephemeral containers, CronJobs, `kind: List`, duplicate objects, Helm and
kustomize output, php-apache's DocumentRoot). Every kind × every check: the registry test."""

from __future__ import annotations

import pytest
from check_support import MANIFESTS, runners, summary

from troubleshooter.analyzer import analyze_manifest, registry

# (check, failing fixture, expected (line, column, severity, object), passing fixture)
SHAPES = [
    (
        "aks-virtual-node-azure-files-pvc",
        "fail_statefulset_claim_template_and_ephemeral.yaml",
        [(25, 15, "error", "StatefulSet/cache"), (50, 9, "warning", "Pod/scratch-job")],
        "pass_statefulset_inline_share.yaml",
    ),
    (
        "aks-virtual-node-azure-files-pvc",
        "fail_list_and_duplicate.yaml",
        [(42, 11, "error", "Deployment/burst")],
        "pass_list_replaced_by_later_copy.yaml",
    ),
    (
        "httpd-network-docroot-sendfile-mmap",
        "fail_php_apache_conf_mounted_and_claim_template.yaml",
        [(30, 26, "warning", "StatefulSet/shop"), (58, 22, "warning", "Pod/preview")],
        "pass_php_apache_docroot_moved_and_local_claims.yaml",
    ),
    (
        "httpd-network-docroot-sendfile-mmap",
        "fail_projected_conf_sidecar.yaml",
        [(28, 22, "error", "Pod/report-builder")],
        "pass_projected_conf_sidecar_off.yaml",
    ),
    (
        "php-upload-tmp-dir",
        "fail_projected_ini_statefulset.yaml",
        [(10, 5, "warning", "StatefulSet/cms")],
        "pass_claim_template_holds_upload_dir.yaml",
    ),
    (
        "php-opcache-hugepages",
        "fail_projected_ini_cronjob.yaml",
        [(10, 5, "warning", "CronJob/reindex")],
        "pass_projected_ini_off.yaml",
    ),
    (
        "nginx-envsubst-argument-list-too-long",
        "fail_envfrom_without_filter.yaml",
        [(34, 18, "info", "Deployment/front")],
        "pass_filter_from_envfrom.yaml",
    ),
    (
        "run-as-non-root",
        "fail_ephemeral_and_sidecar_containers.yaml",
        [(15, 20, "error", "Pod/api"), (25, 21, "error", "Pod/api")],
        "pass_ephemeral_and_sidecar_containers.yaml",
    ),
    (
        "configmap-subpath-no-update",
        "fail_sidecar_subpath.yaml",
        [(28, 15, "warning", "Deployment/api")],
        "pass_sidecar_subpath_with_checksum.yaml",
    ),
    (
        "configmap-subpath-no-update",
        "fail_helm_and_kustomize_output.yaml",
        [(33, 15, "warning", "Deployment/storefront"), (74, 11, "warning", "StatefulSet/worker")],
        "pass_helm_checksum_and_kustomize_hash.yaml",
    ),
]


@pytest.mark.parametrize("check,failing,expected,passing", SHAPES, ids=lambda v: str(v)[:40])
def test_each_shape_fails_and_passes_at_the_exact_lines(check, failing, expected, passing):
    _, fixture = runners(registry.get(check))
    assert summary(fixture(failing)) == expected
    assert fixture(passing) == []
    # Through the whole pipeline too: nothing else breaks on these files.
    for name in (failing, passing):
        report = analyze_manifest(text=(MANIFESTS / check / name).read_text())
        assert report.parse_errors() == []


def read(check: str, name: str) -> str:
    return (MANIFESTS / check / name).read_text()


def test_a_claim_template_names_the_claims_the_statefulset_creates():
    [template, ephemeral] = runners(registry.get("aks-virtual-node-azure-files-pvc"))[1](
        "fail_statefulset_claim_template_and_ephemeral.yaml"
    )
    assert "claim template 'data' (claims data-cache-0, ...)" in template.message
    assert "generic ephemeral volume 'scratch' (claim scratch-job-scratch)" in ephemeral.message


def test_a_claim_of_the_same_name_in_the_paste_wins_over_the_template_class():
    check = "httpd-network-docroot-sendfile-mmap"
    run, _ = runners(registry.get(check))
    text = read(check, "fail_php_apache_conf_mounted_and_claim_template.yaml")
    # The StatefulSet's first claim, as `kubectl get pvc -o yaml` shows it, on a disk class.
    bound = (
        "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: docroot-shop-0\n"
        "spec:\n  storageClassName: managed-csi\n"
        "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: managed-csi\n"
        "provisioner: disk.csi.azure.com\n"
    )
    assert [f.object.label() for f in run(text + bound)] == ["Pod/preview"]


def test_the_php_apache_root_moves_only_with_a_document_root_in_the_mounted_files():
    check = "httpd-network-docroot-sendfile-mmap"
    run, _ = runners(registry.get(check))
    text = read(check, "pass_php_apache_docroot_moved_and_local_claims.yaml")
    unmoved = text.replace(
        "        DocumentRoot /srv/public\n", "        ServerAdmin ops@example.org\n"
    )
    [finding] = run(unmoved)
    assert (finding.line, finding.object.label()) == (30, "StatefulSet/shop")
    assert "DocumentRoot /var/www/html" in finding.message


def test_envfrom_variables_count_and_an_unknown_source_adds_nothing():
    check = "nginx-envsubst-argument-list-too-long"
    run, _ = runners(registry.get(check))
    text = read(check, "fail_envfrom_without_filter.yaml")
    [finding] = run(text)
    # 8 kubernetes + 8 image variables + NGINX_ENVSUBST_OUTPUT_DIR, BACKEND_HOST, API_TOKEN.
    assert "passes 19 variable names" in finding.message
    # Without the ConfigMap in the paste, its variables (and the template switch) are unknown.
    without = text.split("---\n", 1)[1]
    assert run(without) == []
    # A filter from envFrom is honoured only under its exact name.
    passing = read(check, "pass_filter_from_envfrom.yaml")
    renamed = passing.replace("prefix: NGINX_ENVSUBST_", "prefix: EDGE_")
    assert [f.line for f in run(renamed)] == [42]


def test_a_one_shot_init_container_is_not_a_sidecar():
    check = "configmap-subpath-no-update"
    run, _ = runners(registry.get(check))
    text = read(check, "fail_sidecar_subpath.yaml").replace("          restartPolicy: Always\n", "")
    assert run(text) == []


def test_helm_findings_keep_the_source_template():
    _, fixture = runners(registry.get("configmap-subpath-no-update"))
    sources = [f.object.source for f in fixture("fail_helm_and_kustomize_output.yaml")]
    assert sources == ["storefront/templates/deployment.yaml", None]


def test_a_replaced_duplicate_leaves_a_note_not_an_error():
    report = analyze_manifest(
        text=read("aks-virtual-node-azure-files-pvc", "pass_list_replaced_by_later_copy.yaml")
    )
    [note] = report.errors
    assert (note.severity, note.line) == ("note", 5)  # the List item
    assert "duplicate object Deployment/burst in namespace default" in note.message


def test_an_envfrom_source_missing_from_the_paste_is_named_in_the_message():
    check = "nginx-envsubst-argument-list-too-long"
    run, _ = runners(registry.get(check))
    text = read(check, "pass_filter_from_envfrom.yaml").split("---\n", 1)[1]
    [finding] = run(text)  # the ConfigMap with the filter is not pasted; the Secret is
    assert finding.line == 23  # the image line, in the text without the ConfigMap
    assert "Not in the paste, so not counted: envFrom ConfigMap front-env" in finding.message


def test_a_database_init_script_is_not_reported_but_a_config_file_beside_it_is():
    _, fixture = runners(registry.get("configmap-subpath-no-update"))
    [finding] = fixture("fail_config_beside_database_init_script.yaml")
    assert (finding.line, finding.column) == (24, 15)
    assert "/etc/postgresql/extra.conf" in finding.message


def test_a_tailscale_load_balancer_is_not_reported_but_a_cloud_one_is():
    check = "client-source-ip-external-traffic-policy"
    run, fixture = runners(registry.get(check))
    assert fixture("pass_tailscale_load_balancer_class.yaml") == []
    text = read(check, "pass_tailscale_load_balancer_class.yaml")
    [finding] = run(text.replace("  loadBalancerClass: tailscale\n", ""))
    assert (finding.line, finding.object.label()) == (8, "Service/search-ts")
