"""php-upload-tmp-dir against fixture manifests."""

from __future__ import annotations

from check_support import runners, summary

from troubleshooter.analyzer.checks import php_upload_tmp_dir as module

run, fixture = runners(module)


def test_it_flags_ini_paths_without_a_writable_volume():
    findings = fixture("fail_inherited_paths.yaml")
    assert summary(findings) == [
        (9, 5, "warning", "Deployment/legacy"),
        (39, 5, "warning", "Deployment/hardened"),
        (40, 5, "warning", "Deployment/hardened"),
    ]
    legacy, upload, sys_temp = (f.message for f in findings)
    assert "upload_tmp_dir = /var/lib/php/uploads" in legacy
    assert "exists only if the image created it" in legacy
    assert "falls back to /tmp" in legacy
    assert "root filesystem is read-only" in upload
    assert "fallback /var/tmp/php is not writable either" in upload
    assert "'scratch' mounted at /var/tmp is read-only" in sys_temp
    assert "mountPath: /var/lib/php/uploads" in findings[0].fix
    assert "emptyDir:" in findings[0].fix


def test_it_flags_a_read_only_php_container_without_tmp():
    findings = fixture("fail_read_only_root_without_tmp.yaml")
    assert summary(findings) == [
        (17, 13, "warning", "Deployment/blog"),
        (33, 25, "warning", "Pod/api"),
    ]
    assert "'wordpress'" in findings[0].message
    assert "mountPath: /tmp" in findings[1].fix


def test_it_accepts_writable_temp_dirs_and_non_php_containers():
    assert fixture("pass_writable_temp_dirs.yaml") == []


def test_it_does_not_crash_on_wrong_types():
    assert fixture("pass_wrong_types.yaml") == []


def test_php_ini_is_read_before_conf_d_so_conf_d_wins():
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: ini
data:
  php.ini: |
    upload_tmp_dir = /srv/old
  zz-uploads.ini: |
    upload_tmp_dir = /srv/uploads
---
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: php
      image: php:8.3-fpm
      volumeMounts:
        - name: ini
          mountPath: /usr/local/etc/php
        - name: uploads
          mountPath: /srv/uploads
  volumes:
    - name: ini
      configMap:
        name: ini
    - name: uploads
      emptyDir: {}
"""
    assert run(text) == []
    assert summary(run(text.replace("/srv/uploads\n  vol", "/srv/elsewhere\n  vol"))) == [
        (9, 5, "warning", "Pod/app")
    ]


def test_the_examples_behave_as_documented():
    assert run(module.FAILING_EXAMPLE)
    assert run(module.PASSING_EXAMPLE) == []
