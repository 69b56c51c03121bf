"""Every registered check × every workload kind: the same pod spec must give the same findings.

Each check's FAILING_EXAMPLE is rewritten with its workload's pod template moved into each of
the eight kinds that run pods (the other documents stay as they are). The findings inside the
pod spec must be the same, at the same place relative to the pod spec, and about the rewritten
object; a check that reports no workload (kubelet-max-pods) must still run on every kind.
Kinds a check leaves alone on purpose are listed below, with the reason from its docstring.
"""

from __future__ import annotations

import pytest
import yaml
from check_support import runners

from troubleshooter.analyzer import registry
from troubleshooter.analyzer.model import POD_TEMPLATE_PATHS

KINDS = ("Pod", *POD_TEMPLATE_PATHS)
API_VERSIONS = {
    "Pod": "v1",
    "ReplicationController": "v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}
# Kinds a check deliberately does not report, per its docstring.
SKIPPED_KINDS = {
    # Bare Pods, Jobs and CronJobs are never rolled: any change needs new pods anyway.
    "configmap-subpath-no-update": {"Pod", "Job", "CronJob"},
}
# Findings outside the pod spec that only one kind gets.
EXTRA_FINDINGS = {
    # DaemonSets are not run on virtual nodes: one warning on the `kind` line.
    ("aks-virtual-node-azure-files-pvc", "DaemonSet"): 1,
}


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(True))


def _dump(value) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, width=1000)


def render(kind: str, document: dict) -> tuple[str, int, int]:
    """The workload as `kind`: (YAML text, 1-based first line of the pod spec body, indent)."""
    original = document["kind"]
    if original == "Pod":
        template = {"metadata": document.get("metadata", {}), "spec": document["spec"]}
    else:
        node = document
        for key in POD_TEMPLATE_PATHS[original]:
            node = node[key]
        template = node
    metadata = dict(document.get("metadata", {}))
    template_metadata = dict(template.get("metadata") or {})
    labels = template_metadata.get("labels") or {"app": metadata.get("name", "x")}
    template_metadata["labels"] = labels
    head = f"apiVersion: {API_VERSIONS.get(kind, 'apps/v1')}\nkind: {kind}\n"
    if kind == "Pod":
        merged = {**metadata, **template_metadata}
        if metadata.get("annotations") or template_metadata.get("annotations"):
            merged["annotations"] = {
                **(metadata.get("annotations") or {}),
                **(template_metadata.get("annotations") or {}),
            }
        text = head + _dump({"metadata": merged}) + "spec:\n"
        indent = 2
    else:
        text = head + _dump({"metadata": metadata}) + "spec:\n"
        if kind == "CronJob":
            text += "  schedule: '*/5 * * * *'\n  jobTemplate:\n    spec:\n"
            base = 8
        else:
            if kind == "StatefulSet":
                text += f"  serviceName: {metadata.get('name', 'x')}\n"
            if kind != "Job":
                text += _indent(_dump({"selector": {"matchLabels": labels}}), 2)
            if kind == "StatefulSet" and document.get("kind") == "StatefulSet":
                claims = document["spec"].get("volumeClaimTemplates")
                if claims:
                    text += _indent(_dump({"volumeClaimTemplates": claims}), 2)
            base = 4
        text += " " * (base - 2) + "template:\n"
        text += _indent(_dump({"metadata": template_metadata}), base)
        text += " " * base + "spec:\n"
        indent = base + 2
    first = text.count("\n") + 1
    text += _indent(_dump(template["spec"]), indent)
    return text, first, indent


def rewritten(module, kind: str) -> tuple[str, list[tuple[int, int, int, bool]]]:
    """FAILING_EXAMPLE with every workload as `kind`, and per document (first line, last
    line, indent, is a workload); a workload's first line is that of its pod spec body."""
    parts, spans, line = [], [], 1
    for document in yaml.safe_load_all(module.FAILING_EXAMPLE):
        if not document:
            continue
        if document.get("kind") in KINDS:
            text, first, indent = render(kind, document)
            spans.append((line + first - 1, line + text.count("\n") - 1, indent, True))
        else:
            text = _dump(document)
            spans.append((line, line + text.count("\n") - 1, 0, False))
        parts.append(text)
        line += text.count("\n") + 1  # the `---` separator
    return "---\n".join(parts), spans


def _workload_kinds(finding) -> set[str]:
    """The workload kinds a finding is about: its object, or the workloads its message names
    (client-source-ip reports on the Service, naming the web pods behind it)."""
    kinds = {finding.object.kind} & set(KINDS)
    return kinds | {kind for kind in KINDS if f"({kind}/" in finding.message}


def located(findings, spans) -> list[tuple]:
    """Each finding as (document, line and column relative to its pod spec or document,
    severity, whether it is about a workload); ("outside", ...) for the other lines."""
    result = []
    for finding in findings:
        about_workload = bool(_workload_kinds(finding))
        for index, (first, last, indent, _) in enumerate(spans):
            if first <= finding.line <= last:
                result.append(
                    (
                        index,
                        finding.line - first,
                        finding.column - indent,
                        finding.severity,
                        about_workload,
                    )
                )
                break
        else:
            result.append(("outside", finding.severity, about_workload))
    return sorted(result, key=str)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("module", registry.all_checks(), ids=lambda module: module.ID)
def test_every_check_reads_every_workload_kind(module, kind):
    run, _ = runners(module)
    baseline_text, baseline_spans = rewritten(module, "Deployment")
    text, spans = rewritten(module, kind)
    baseline = located(run(baseline_text), baseline_spans)
    findings = run(text)
    got = located(findings, spans)
    if not any(span[3] for span in spans):
        # Not a workload check: it runs on every kind, and reports nothing about the pods.
        assert [f for f in findings if f.object.kind in KINDS] == []
        assert got == baseline
        return
    if kind in SKIPPED_KINDS.get(module.ID, ()):
        assert [f for f in findings if f.object.kind == kind] == []
        return
    assert [item for item in got if item[-1]], f"{module.ID} reports nothing on a {kind}"
    # The same findings at the same places; the extra ones sit outside every pod spec.
    inside = [item for item in got if item[0] != "outside"]
    extra = EXTRA_FINDINGS.get((module.ID, kind), 0)
    assert len(got) == len(baseline) + extra
    assert [item for item in baseline if item[0] != "outside"] == [
        item for item in inside if item not in _extras(findings, spans, module, kind)
    ]
    # Findings about a workload name the rewritten object, never another kind.
    assert set().union(*(_workload_kinds(f) for f in findings)) == {kind}


def _extras(findings, spans, module, kind) -> list[tuple]:
    """The located extra findings one kind gets (the DaemonSet warning on its `kind` line)."""
    if not EXTRA_FINDINGS.get((module.ID, kind)):
        return []
    text, _ = rewritten(module, kind)
    lines = text.splitlines()
    return located(
        [f for f in findings if lines[f.line - 1].startswith("kind:")],
        spans,
    )


def test_the_rewrite_moves_the_pod_spec_to_each_kinds_place():
    module = registry.get("nas-hostpath-mount-race")
    for kind in KINDS:
        text, [(first, _, indent, workload)] = rewritten(module, kind)
        [document] = yaml.safe_load_all(text)
        assert workload and document["kind"] == kind
        path = ("spec",) if kind == "Pod" else (*POD_TEMPLATE_PATHS[kind], "spec")
        node = document
        for key in path:
            node = node[key]
        assert node["volumes"][0]["hostPath"]["path"] == "/mnt/nas/www/uploads"
        first_key = next(iter(node))
        assert text.splitlines()[first - 1] == " " * indent + first_key + ":"
