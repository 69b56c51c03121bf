"""aks-virtual-node-azure-files-pvc against fixture manifests."""

from pathlib import Path

from troubleshooter.analyzer import analyze_manifest

CHECK = "aks-virtual-node-azure-files-pvc"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "manifests" / CHECK


def findings(name: str):
    report = analyze_manifest(text=(FIXTURES / name).read_bytes())
    assert report.errors == []
    return [finding for finding in report.findings if finding.check == CHECK]


def test_it_flags_the_claim_of_a_virtual_node_deployment_at_its_line():
    [finding] = findings("fail_pvc_on_virtual_node.yaml")
    assert (finding.severity, finding.line, finding.column) == ("error", 34, 11)
    assert finding.object.name == "burst-web"
    assert "team-share" in finding.message
    assert "driver: file.csi.azure.com" in finding.fix
    assert "shareName:" in finding.fix


def test_it_warns_about_each_feature_virtual_nodes_lack():
    # Init containers (line 7) are supported by the ACI provider: not reported (a false
    # positive on virtual-kubelet/azure-aci's own e2e fixture in the proving ground).
    got = [(f.severity, f.line, f.column) for f in findings("fail_unsupported_features.yaml")]
    assert got == [
        ("warning", 10, 3),  # hostAliases
        ("warning", 16, 7),  # lifecycle
        ("warning", 22, 7),  # hostPath
    ]


def test_it_accepts_inline_csi_and_azure_file_volumes():
    assert findings("pass_inline_csi.yaml") == []


def test_it_ignores_claims_and_init_containers_on_regular_nodes():
    assert findings("pass_pvc_on_regular_nodes.yaml") == []


def test_it_only_warns_when_a_toleration_merely_allows_virtual_nodes():
    text = (FIXTURES / "fail_pvc_on_virtual_node.yaml").read_text()
    text = text.replace("        type: virtual-kubelet\n", "")
    [finding] = [f for f in analyze_manifest(text=text).findings if f.check == CHECK]
    assert finding.severity == "warning"
    assert "may be scheduled on" in finding.message


def test_it_fills_the_fix_from_a_pasted_csi_persistent_volume():
    pv = """\
apiVersion: v1
kind: PersistentVolume
metadata:
  name: team-share-pv
spec:
  csi:
    driver: file.csi.azure.com
    volumeHandle: rg#acct#teamshare
    volumeAttributes:
      shareName: teamshare
    nodeStageSecretRef:
      name: acct-key
      namespace: default
  claimRef:
    namespace: default
    name: team-share
---
"""
    text = pv + (FIXTURES / "fail_pvc_on_virtual_node.yaml").read_text()
    [finding] = [f for f in analyze_manifest(text=text).findings if f.check == CHECK]
    assert "shareName: teamshare" in finding.fix
    assert "secretName: acct-key" in finding.fix
