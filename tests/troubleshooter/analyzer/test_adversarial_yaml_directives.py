"""`%YAML` and `%TAG` directives, and `---` lines that do not start a document (issue 15).

The stream is split at `---` lines before parsing; directive lines must travel with the
document they introduce, or a valid manifest gets a spurious syntax error.
"""

from __future__ import annotations

import pytest

from troubleshooter.analyzer import Limits, analyze_manifest
from troubleshooter.analyzer.parse import parse_stream, split_documents

POD = """\
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
CLEAN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"


def test_a_document_with_a_yaml_directive_is_clean():
    report = analyze_manifest(text="%YAML 1.1\n---\n" + CLEAN.format(name="c"))
    assert report.errors == [] and report.findings == [] and report.objects == 1


def test_a_tag_directive_names_a_core_tag():
    text = "%TAG !k! tag:yaml.org,2002:\n---\n" + CLEAN.format(name="c") + "  n: !k!int 3\n"
    documents, errors = parse_stream(text, limits=Limits())
    assert errors == []
    assert documents[0].root.value["data"].value["n"].value == 3


def test_a_custom_tag_from_a_directive_is_refused_with_its_line():
    text = "%TAG !e! tag:example.com,2000:\n---\n" + CLEAN.format(name="c") + "  n: !e!x 3\n"
    report = analyze_manifest(text=text)
    [error] = report.errors
    assert "unsupported tag 'tag:example.com,2000:x'" in error.message
    assert error.line == 9


def test_several_documents_each_with_directives_keep_their_lines():
    text = (
        "# rendered by a tool\n%YAML 1.1\n%TAG !k! tag:yaml.org,2002:\n---\n"
        + POD.format(name="a")
        + "...\n\n# second\n%YAML 1.1\n---\n"
        + POD.format(name="b")
        + "...\n%YAML 1.2\n--- # third\n"
        + CLEAN.format(name="c")
    )
    report = analyze_manifest(text=text)
    assert report.errors == []
    assert report.objects == 3
    lines = text.split("\n")
    for finding in report.findings:
        assert "claimName: data" in lines[finding.line - 1]
    assert [(f.object.name, f.line) for f in report.findings] == [("a", 16), ("b", 33)]


def test_directives_without_a_document_end_marker_are_a_syntax_error_as_in_yaml():
    # YAML requires `...` before the directives of a second document; libyaml agrees.
    text = CLEAN.format(name="a") + "%YAML 1.1\n---\n" + CLEAN.format(name="b")
    report = analyze_manifest(text=text)
    assert report.objects == 1
    [error] = report.errors
    assert error.line is not None and error.line <= 8


@pytest.mark.parametrize("indicator", ["|", ">", "|-", "|+"])
def test_dashes_inside_a_block_scalar_do_not_split_the_document(indicator):
    text = (
        "%YAML 1.1\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n"
        f"  notes: {indicator}\n    ---\n    %YAML 1.1\n    ---\n    text\n"
        "  after: x\n---\n" + POD.format(name="a")
    )
    report = analyze_manifest(text=text)
    assert report.errors == []
    assert report.objects == 2
    [finding] = report.findings
    assert finding.line == 26
    assert "claimName: data" in text.split("\n")[finding.line - 1]


def test_percent_lines_inside_a_document_are_not_moved():
    text = "a: |\n  x\n%not-a-directive\n---\nb: 1\n"
    chunks = split_documents(text)
    assert chunks == [(0, "a: |\n  x\n%not-a-directive\n"), (3, "---\nb: 1\n")]


def test_a_long_run_of_comment_lines_before_a_separator_is_split_once():
    text = "%YAML 1.1\n" + "#\n" * 200_000 + "---\n" + CLEAN.format(name="c")
    report = analyze_manifest(text=text)
    assert report.errors == [] and report.objects == 1
