"""configmap-subpath-no-update against fixture manifests."""

from __future__ import annotations

from check_support import runners, summary

from troubleshooter.analyzer.checks import configmap_subpath_no_update as module

run, fixture = runners(module)


def test_it_flags_configmap_and_secret_subpath_mounts_without_a_trigger():
    findings = fixture("fail_subpath_files_without_trigger.yaml")
    assert summary(findings) == [
        (30, 15, "warning", "Deployment/web"),
        (39, 15, "warning", "Deployment/web"),
    ]
    assert "ConfigMap nginx-conf at /etc/nginx/conf.d/default.conf" in findings[0].message
    assert "never receives updates" in findings[0].message
    assert "Secret app-secrets" in findings[1].message
    assert "sha256 of nginx-conf" in findings[0].fix
    assert "sha256sum" in findings[0].fix


def test_it_flags_projected_subpathexpr_and_mutable_configmaps():
    findings = fixture("fail_projected_and_mutable.yaml")
    assert summary(findings) == [
        (26, 15, "warning", "StatefulSet/db"),
        (59, 58, "warning", "DaemonSet/agent"),
    ]
    assert "ConfigMap db-config, Secret db-tls" in findings[0].message
    assert "with subPathExpr" in findings[0].message


def test_it_accepts_checksums_restarts_reloader_immutable_and_versioned_names():
    assert fixture("pass_rollout_triggers.yaml") == []


def test_it_ignores_bare_pods_jobs_directory_mounts_and_other_volumes():
    assert fixture("pass_not_rolled_or_whole_directory.yaml") == []


def test_it_does_not_crash_on_wrong_types():
    assert fixture("pass_wrong_types.yaml") == []


def test_the_examples_behave_as_documented():
    assert run(module.FAILING_EXAMPLE)
    assert run(module.PASSING_EXAMPLE) == []
