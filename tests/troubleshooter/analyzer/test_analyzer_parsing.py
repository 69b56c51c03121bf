"""Parsing: positions, broken documents, unsafe input, limits."""

import json
import time
from pathlib import Path

import pytest

from troubleshooter.analyzer import Limits, ManifestRejected, analyze_manifest
from troubleshooter.analyzer.model import build_model
from troubleshooter.analyzer.parse import decode, parse_stream

VIRTUAL_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  nodeSelector: {{type: virtual-kubelet}}
  containers:
    - name: app
      image: busybox
  volumes:
    - name: data
      persistentVolumeClaim: {{claimName: data}}
"""


def model_of(text, limits=None):
    limits = limits or Limits()
    decoded = decode(text, limits=limits)
    documents, errors = parse_stream(decoded, limits=limits)
    return build_model(documents, limits=limits, lines=decoded.split("\n"), errors=errors), errors


def test_it_pins_findings_to_lines_across_documents():
    text = "---\n" + VIRTUAL_POD.format(name="a") + "---\n# c\n\n" + VIRTUAL_POD.format(name="b")
    report = analyze_manifest(text=text)
    assert [(f.object.name, f.line, f.column) for f in report.findings] == [
        ("a", 13, 7),
        ("b", 28, 7),
    ]


def test_it_reports_a_broken_middle_document_and_analyses_the_others():
    broken = "kind: Pod\nmetadata:\n  name: [oops\n  labels: {}\n"
    text = VIRTUAL_POD.format(name="a") + "---\n" + broken + "---\n" + VIRTUAL_POD.format(name="b")
    report = analyze_manifest(text=text)
    assert [f.object.name for f in report.findings] == ["a", "b"]
    [error] = report.errors
    assert error.line is not None and 14 <= error.line <= 18
    assert error.column is not None


def test_it_expands_kind_list_items_with_their_own_positions():
    text = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        "  - " + line + "\n" if index == 0 else "    " + line + "\n"
        for name in ("a", "b")
        for index, line in enumerate(VIRTUAL_POD.format(name=name).splitlines())
    )
    report = analyze_manifest(text=text)
    assert report.objects == 2
    assert [(f.object.name, f.line, f.column) for f in report.findings] == [
        ("a", 15, 11),
        ("b", 27, 11),
    ]


def test_it_keeps_the_helm_source_comment():
    text = "---\n# Source: shop/templates/web.yaml\n" + VIRTUAL_POD.format(name="a")
    model, _ = model_of(text)
    assert model.objects[0].source == "shop/templates/web.yaml"
    [finding] = analyze_manifest(text=text).findings
    assert finding.object.source == "shop/templates/web.yaml"


def test_it_reads_json_input():
    import yaml

    data = yaml.safe_load(VIRTUAL_POD.format(name="j"))
    report = analyze_manifest(text=json.dumps(data, indent=2).encode())
    assert [f.object.name for f in report.findings] == ["j"]


def test_it_refuses_unsafe_tags_without_constructing_them(tmp_path: Path):
    marker = tmp_path / "pwned"
    text = (
        f"kind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
        f"  a: !!python/object/apply:os.system ['touch {marker}']\n---\n"
        + VIRTUAL_POD.format(name="ok")
    )
    report = analyze_manifest(text=text)
    assert not marker.exists()
    assert [f.object.name for f in report.findings] == ["ok"]
    [error] = report.errors
    assert (error.line, "unsupported tag" in error.message) == (5, True)


BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    "text",
    [
        BOMB,
        "kind: ConfigMap\nmetadata: {name: x}\ndata:\n"
        + "".join("  " + line + "\n" for line in BOMB.splitlines()),
    ],
)
def test_it_refuses_a_billion_laughs_quickly(text):
    started = time.perf_counter()
    report = analyze_manifest(text=text)
    elapsed = time.perf_counter() - started
    print(f"alias bomb refused in {elapsed * 1000:.1f} ms")
    assert report.objects == 0
    assert "alias" in report.errors[0].message


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "a: " + "{b: " * 20_000 + "}" * 20_000 + "\n",
        "- " * 20_000 + "x\n",
        # Indentation nesting cannot go much deeper within the 2 MB limit.
        "".join(" " * depth + "k:\n" for depth in range(1_500)),
    ],
    ids=["flow-seq", "flow-map", "compact-block", "indented-block"],
)
def test_it_reports_deep_nesting_instead_of_crashing(text):
    report = analyze_manifest(text=text)
    assert report.objects == 0
    assert "nesting" in report.errors[0].message


def test_it_skips_100_000_empty_documents():
    report = analyze_manifest(text="---\n" * 100_000 + VIRTUAL_POD.format(name="last"))
    assert report.errors == []
    assert [f.line for f in report.findings] == [100_000 + 12]


def test_it_stops_at_the_document_limit():
    text = "---\n".join(f"kind: ConfigMap\nmetadata: {{name: c{n}}}\n" for n in range(20))
    report = analyze_manifest(text=text, limits=Limits(max_documents=5))
    assert report.objects == 5
    assert "more than 5 documents" in report.errors[0].message


def test_it_rejects_binary_oversized_and_undecodable_input():
    with pytest.raises(ManifestRejected, match="NUL"):
        analyze_manifest(text=b"kind: Pod\x00\x01")
    with pytest.raises(ManifestRejected, match="limit"):
        analyze_manifest(text=b"a" * 101, limits=Limits(max_bytes=100))
    with pytest.raises(ManifestRejected, match="UTF-8"):
        analyze_manifest(text=b"kind: \xff\xfe\xfa")


def test_it_decodes_utf16_and_utf8_bom():
    text = VIRTUAL_POD.format(name="bom")
    for data in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        assert [f.line for f in analyze_manifest(text=data).findings] == [12]


def test_it_reports_duplicate_keys_and_keeps_the_last():
    model, errors = model_of("kind: Pod\nmetadata:\n  name: a\n  name: b\n")
    assert model.objects[0].name == "b"
    assert [(e.line, e.column) for e in errors] == [(4, 3)]


def test_it_survives_wrong_typed_fields():
    junk = [
        "kind: Pod\nmetadata: 5\nspec: {containers: 5, volumes: {}, initContainers: [1, null]}\n",
        "kind: Deployment\nspec: {template: {spec: {containers: [{image: 5, volumeMounts: 7, env: x}], volumes: [null, {name: v, persistentVolumeClaim: 3}], nodeSelector: [1], tolerations: {}}}}\n",  # noqa: E501
        "kind: Service\nmetadata: {name: s}\nspec: {ports: {}, clusterIP: [1]}\n",
        "kind: ConfigMap\nmetadata: {name: c}\ndata: [1, 2]\n",
        "kind: PersistentVolumeClaim\nmetadata: {name: p}\nspec: 7\n",
        "kind: List\nitems: [1, null, {kind: Pod, spec: null}]\n",
        "- just\n- a list\n",
        "plain scalar\n",
        "kind: [1]\n",
        "kind: Pod\nspec:\n  nodeSelector: {type: virtual-kubelet}\n  containers: [{image: nginx, volumeMounts: [{name: t, mountPath: 5}, {name: v, mountPath: /etc/nginx/templates}]}]\n  volumes: [{name: v, configMap: 3}, {name: t, persistentVolumeClaim: {claimName: [1]}}]\n",  # noqa: E501
    ]
    report = analyze_manifest(text="---\n".join(junk))
    assert report.objects >= 7
