"""Suppression, report formats, the registry, Secret hygiene, Django independence, speed."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from troubleshooter.analyzer import analyze_manifest, registry
from troubleshooter.analyzer.report import to_json, to_sarif, to_text

CHECK = "aks-virtual-node-azure-files-pvc"
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: burst
  annotations: {annotations}
spec:
  nodeSelector: {{type: virtual-kubelet}}
  containers:
    - name: app
      image: busybox
  volumes:
    - name: data
{comment}      persistentVolumeClaim: {{claimName: data}}
"""


def pod(annotations="{}", comment=""):
    return POD.format(annotations=annotations, comment=comment)


def test_it_suppresses_with_an_annotation_and_keeps_the_reason():
    text = pod(annotations='{"kb.troubleshooter/ignore": "' + CHECK + ': runs on VMSS only"}')
    [finding] = analyze_manifest(text=text).findings
    assert finding.suppressed and finding.suppression_reason == "runs on VMSS only"
    assert analyze_manifest(text=text).counts() == {
        "error": 0, "warning": 0, "info": 0, "suppressed": 1,
        "notes": 0, "parse_errors": 0,
    }  # fmt: skip


def test_it_suppresses_with_an_inline_comment_on_the_line_above():
    text = pod(comment=f"      # kb-ignore: {CHECK} share is mounted by the sidecar\n")
    [finding] = analyze_manifest(text=text).findings
    assert finding.suppressed
    assert finding.suppression_reason == "share is mounted by the sidecar"


def test_it_refuses_suppressions_without_a_reason():
    for text in (
        pod(annotations='{"kb.troubleshooter/ignore": "' + CHECK + '"}'),
        pod(comment=f"      # kb-ignore: {CHECK}\n"),
    ):
        report = analyze_manifest(text=text)
        [finding] = report.findings
        assert not finding.suppressed
        assert any("reason" in error.message for error in report.errors)


def test_it_skips_disabled_checks_and_rejects_unknown_ids():
    assert analyze_manifest(text=pod(), disabled=frozenset({CHECK})).findings == []
    with pytest.raises(registry.UnknownCheck):
        analyze_manifest(text=pod(), disabled=frozenset({"nope"}))


def test_it_writes_sarif_with_rules_regions_and_suppressions():
    text = pod(comment=f"      # kb-ignore: {CHECK} reviewed\n")
    sarif = to_sarif(analyze_manifest(text=text), check_uri=lambda i: f"https://kb.test/c/{i}")
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    run = sarif["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert list(rules) == list(registry.CHECKS)
    assert rules[CHECK]["helpUri"] == f"https://kb.test/c/{CHECK}"
    [result] = run["results"]
    assert result["ruleId"] == CHECK and result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["region"] == {"startLine": 14, "startColumn": 7}
    assert location["artifactLocation"]["uri"] == "manifest.yaml"
    assert result["suppressions"] == [{"kind": "inSource", "justification": "reviewed"}]


def test_it_writes_json_and_text():
    report = analyze_manifest(text=pod())
    data = to_json(report)
    assert data["objects"] == 1
    assert data["findings"][0]["object"] == {"kind": "Pod", "namespace": "default", "name": "burst"}
    assert (data["findings"][0]["line"], data["findings"][0]["column"]) == (13, 7)
    first, summary = to_text(report).splitlines()
    assert first.startswith(f"13:7 error {CHECK} Pod/burst: ")
    assert summary.startswith("1 objects: 1 errors")


def test_it_never_outputs_secret_values():
    secret = "c3VwZXItc2VjcmV0LXZhbHVlLTQy"
    text = (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  key: {secret}\n"
        f"  key: {secret}x\nstringData:\n  pw: {secret}y\n---\nkind: Secret\nstringData:\n"
        f"  pw: [{secret}\n---\n" + pod()
    )
    report = analyze_manifest(text=text)
    assert report.errors  # the duplicate key and the broken document are reported...
    outputs = [str(to_json(report)), to_text(report), str(to_sarif(report, check_uri=str))]
    for output in outputs:
        assert secret not in output  # ...without quoting the values


@pytest.mark.parametrize("module", registry.all_checks(), ids=lambda m: m.ID)
def test_it_validates_every_registered_check(module):
    assert module.__name__.endswith("." + module.ID.replace("-", "_"))
    assert module.SEVERITY in ("error", "warning", "info")
    assert module.TITLE and module.ARTICLE and len(module.__doc__) > 200
    failing = analyze_manifest(text=module.FAILING_EXAMPLE)
    assert failing.errors == []
    assert [f for f in failing.findings if f.check == module.ID]
    passing = analyze_manifest(text=module.PASSING_EXAMPLE)
    assert passing.errors == []
    assert [f for f in passing.findings if f.check == module.ID] == []


def test_it_refuses_unknown_and_duplicate_ids():
    with pytest.raises(registry.UnknownCheck):
        registry.get("nope")
    assert registry.get(CHECK).ID == CHECK
    module = registry.get(CHECK)
    with pytest.raises(registry.InvalidCheck, match="duplicate"):
        registry._build((module, module))


def test_it_imports_without_django():
    code = (
        "import sys; sys.modules['django'] = None\n"
        "from troubleshooter.analyzer import analyze_manifest\n"
        "from troubleshooter.analyzer.report import to_sarif\n"
        "print(analyze_manifest(text='kind: Pod').objects)\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_it_measures_3000_objects_against_bare_pyyaml():
    docs = []
    for number in range(1000):
        docs.append(pod().replace("name: burst", f"name: burst-{number}"))
        docs.append(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{number}\n"
            "spec:\n  ports:\n    - port: 80\n      name: http\n"
        )
        docs.append(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{number}\n"
            "data:\n  app.conf: |\n    a = 1\n    b = 2\n"
        )
    text = "---\n".join(docs)
    started = time.perf_counter()
    bare = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    bare_seconds = time.perf_counter() - started
    started = time.perf_counter()
    report = analyze_manifest(text=text)
    ours = time.perf_counter() - started
    print(f"3000 objects: pyyaml {bare_seconds:.3f}s, analyze_manifest {ours:.3f}s")
    assert len(bare) == report.objects == 3000
