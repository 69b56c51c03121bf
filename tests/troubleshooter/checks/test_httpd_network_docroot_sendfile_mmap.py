"""httpd-network-docroot-sendfile-mmap against fixture manifests."""

from pathlib import Path

from troubleshooter.analyzer import analyze_manifest

CHECK = "httpd-network-docroot-sendfile-mmap"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "manifests" / CHECK


def findings(name: str):
    report = analyze_manifest(text=(FIXTURES / name).read_bytes())
    assert report.errors == []
    return [finding for finding in report.findings if finding.check == CHECK]


def test_it_flags_a_mounted_httpd_conf_with_sendfile_on_over_an_nfs_class():
    [finding] = findings("fail_stock_httpd_conf_on_nfs_pvc.yaml")
    assert (finding.severity, finding.line, finding.column) == ("error", 56, 26)
    assert "/srv/site" in finding.message
    assert "nfs-subdir-external-provisioner" in finding.message
    # The EnableSendfile line of the ConfigMap value, mapped back to the manifest.
    assert "line 34" in finding.message
    assert "EnableMMAP On" in finding.message
    assert "EnableMMAP Off" in finding.fix and "EnableSendfile Off" in finding.fix


def test_it_flags_nginx_stock_sendfile_on_an_efs_volume_bound_by_claim_ref():
    [finding] = findings("fail_nginx_stock_sendfile_on_efs.yaml")
    assert (finding.severity, finding.line, finding.column) == ("error", 37, 22)
    assert "efs.csi.aws.com" in finding.message
    assert "sendfile off;" in finding.fix


def test_it_accepts_a_directory_block_that_turns_both_off():
    assert findings("pass_directory_block_turns_both_off.yaml") == []


def test_it_does_not_guess_about_claims_missing_from_the_paste():
    assert findings("pass_unknown_pvc_and_local_disk.yaml") == []


def test_it_warns_only_about_mmap_when_sendfile_keeps_its_default():
    text = (FIXTURES / "fail_stock_httpd_conf_on_nfs_pvc.yaml").read_text()
    text = text.replace("    EnableSendfile on\n", "")
    [finding] = [f for f in analyze_manifest(text=text).findings if f.check == CHECK]
    assert finding.severity == "warning"
    assert "sendfile" not in finding.message.lower().replace("enablesendfile off", "")


def test_it_accepts_nginx_with_sendfile_off_in_its_mounted_conf():
    config = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: nginx-main
data:
  nginx.conf: |
    events {}
    http {
        sendfile off;
        server { listen 80; root /usr/share/nginx/html; }
    }
---
"""
    pod = (FIXTURES / "fail_nginx_stock_sendfile_on_efs.yaml").read_text()
    pod = pod.replace(
        "          mountPath: /usr/share/nginx/html\n",
        "          mountPath: /usr/share/nginx/html\n"
        "        - name: main\n"
        "          mountPath: /etc/nginx/nginx.conf\n"
        "          subPath: nginx.conf\n",
    ).replace(
        "  volumes:\n",
        "  volumes:\n    - name: main\n      configMap:\n        name: nginx-main\n",
    )
    report = analyze_manifest(text=config + pod)
    assert report.objects == 4
    assert [f for f in report.findings if f.check == CHECK] == []


def test_it_knows_the_aks_built_in_azure_files_classes():
    [finding] = findings("fail_stock_httpd_on_aks_azurefile_class.yaml")
    assert (finding.severity, finding.line, finding.column) == ("error", 46, 26)
    assert "azurefile-csi" in finding.message
    assert "EnableMMAP Off" in finding.fix and "EnableSendfile Off" in finding.fix
