"""Suppression, report formats, the registry, Secret hygiene, Django independence, speed."""

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from troubleshooter.analyzer import analyze_manifest, cli, registry
from troubleshooter.analyzer.model import build_model
from troubleshooter.analyzer.parse import parse_stream
from troubleshooter.analyzer.report import to_json, to_sarif, to_text
from troubleshooter.analyzer.results import Limits

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# The official SARIF 2.1.0 schema (OASIS), shipped as test data: see fixtures/sarif/SOURCE.md.
SARIF_SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text())
SARIF_VALIDATOR = jsonschema.Draft4Validator(SARIF_SCHEMA)

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


# --- Severities: notes are about the input, never errors -------------------------------------

DUPLICATES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: a
  mode: b
---
apiVersion: v1
kind: Pod
metadata:
  name: burst
spec:
  nodeSelector: {type: virtual-kubelet}
  containers: [{name: app, image: busybox}]
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: data}
---
apiVersion: v1
kind: Pod
metadata:
  name: burst
spec:
  nodeSelector: {type: virtual-kubelet}
  containers: [{name: app, image: busybox}]
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: other}
"""


def run_cli(text: str, *args: str) -> tuple[int, str]:
    """The real CLI over a manifest on standard input: (exit status, standard output)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    options = dict(arg.split("=", 1) for arg in args)
    outcome = cli.run(
        files=["-"],
        limits=Limits(),
        stdin=io.BytesIO(text.encode()),
        stdout=stdout,
        stderr=stderr,
        **options,
    )
    return outcome.code, stdout.getvalue()


def test_a_duplicate_object_is_checked_once_the_later_one_with_a_note():
    report = analyze_manifest(text=DUPLICATES)
    assert report.objects == 2
    [finding] = report.findings
    assert finding.line == 29 and "claim other" in finding.message
    assert [(e.severity, e.line) for e in report.errors] == [("note", 7), ("note", 9)]
    assert "duplicate key 'mode'" in report.errors[0].message
    assert "duplicate object Pod/burst" in report.errors[1].message
    assert "line 20" in report.errors[1].message
    assert report.counts()["notes"] == 2 and report.counts()["parse_errors"] == 0


def test_notes_print_as_notes_and_fail_the_cli_only_with_fail_on_note():
    code, out = run_cli(DUPLICATES, "fail_on=warning")
    assert code == 1  # the finding is an error
    assert "7:3 note: duplicate key" in out and "parse-error" not in out
    assert out.rstrip().endswith("0 parse errors, 2 notes")
    notes_only = DUPLICATES.split("---")[0]
    assert run_cli(notes_only)[0] == 0
    assert run_cli(notes_only, "fail_on=info")[0] == 0
    assert run_cli(notes_only, "fail_on=note")[0] == 1
    assert run_cli("kind: Pod\nmetadata: {name: [\n")[0] == 1  # a real parse error still fails


def test_a_kb_ignore_without_a_reason_alone_does_not_fail_ci():
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: quiet\n# kb-ignore: run-as-non-root\n"
    code, out = run_cli(text)
    assert code == 0
    assert "5:1 note: kb-ignore without a reason is not applied" in out
    assert run_cli(text, "fail_on=note")[0] == 1


def test_sarif_levels_follow_severities():
    examples = [registry.get(check_id).FAILING_EXAMPLE for check_id in (
        "configmap-subpath-no-update",  # warning
        "nginx-envsubst-argument-list-too-long",  # info: no Services in the paste
    )]  # fmt: skip
    report = analyze_manifest(text="---\n".join([DUPLICATES, *examples]))
    assert {f.severity for f in report.findings} == {"error", "warning", "info"}
    sarif = to_sarif(report, check_uri=lambda i: f"https://kb.test/c/{i}")
    run = sarif["runs"][0]
    levels = {(r["ruleId"], r["level"]) for r in run["results"]}
    expected = {"error": "error", "warning": "warning", "info": "note"}
    assert levels == {(f.check, expected[f.severity]) for f in report.findings}
    notifications = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notifications] == ["note", "note"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    for module in registry.all_checks():
        level = rules[module.ID]["defaultConfiguration"]["level"]
        assert level == expected[module.SEVERITY]


def sarif_samples():
    """SARIF logs covering every shape the writer produces: all checks' examples, errors,
    notes, suppressions, several files in one log."""
    texts = {module.ID: module.FAILING_EXAMPLE for module in registry.all_checks()}
    texts["duplicates"] = DUPLICATES
    texts["broken"] = "kind: Pod\nmetadata: {name: [\n---\n" + pod(
        comment=f"      # kb-ignore: {CHECK} reviewed\n"
    )
    texts["unknown-suppression"] = pod(comment="      # kb-ignore: no-such-check why\n")
    for name, text in texts.items():
        yield (
            name,
            to_sarif(analyze_manifest(text=text), check_uri=lambda i: f"https://kb.test/{i}"),
        )


@pytest.mark.parametrize(
    "name,log", list(sarif_samples()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_sarif_output_is_valid_against_the_official_2_1_0_schema(name, log):
    errors = sorted(SARIF_VALIDATOR.iter_errors(log), key=lambda e: list(e.path))
    assert errors == [], f"{name}: {errors[0].message} at {list(errors[0].path)}"


def test_the_cli_sarif_for_several_files_is_valid(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(DUPLICATES)
    second.write_text(pod())
    stdout = io.StringIO()
    cli.run(
        files=[str(first), str(second)],
        output="sarif",
        limits=Limits(),
        stdin=io.BytesIO(),
        stdout=stdout,
        stderr=io.StringIO(),
    )
    log = json.loads(stdout.getvalue())
    assert len(log["runs"]) == 2
    SARIF_VALIDATOR.validate(log)


def test_the_schema_validation_can_fail():
    log = to_sarif(analyze_manifest(text=pod()), check_uri=str)
    log["runs"][0]["results"][0]["level"] = "info"  # not a SARIF level
    with pytest.raises(jsonschema.ValidationError):
        SARIF_VALIDATOR.validate(log)


# --- The workload model ----------------------------------------------------------------------


def model_of(text: str):
    """The model of a paste, as the checks see it."""
    documents, errors = parse_stream(text, limits=Limits())
    return build_model(documents, limits=Limits(), lines=text.split("\n"), errors=errors)


ENV_PASTE = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: base, namespace: web}
data: {MODE: a, LEVEL: "1", "bad=name": x}
---
apiVersion: v1
kind: Secret
metadata: {name: keys, namespace: web}
data: {TOKEN: dG9rZW4=}
stringData: {PASSWORD: pw}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: web}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: busybox
              env: [{name: MODE, value: b}]
              envFrom:
                - configMapRef: {name: base}
                - secretRef: {name: keys}
                  prefix: S_
                - configMapRef: {name: elsewhere}
"""


def test_the_environment_merges_env_from_with_env_winning():
    model = model_of(ENV_PASTE)
    [workload] = model.workloads
    [container] = workload.containers()
    environment = model.environment(workload, container)
    assert sorted(environment.variables) == ["LEVEL", "MODE", "S_PASSWORD", "S_TOKEN"]
    assert environment.variables["MODE"].origin == "env"
    assert environment.variables["LEVEL"].origin == "ConfigMap base"
    assert environment.variables["S_TOKEN"].origin == "Secret keys"
    assert environment.unknown == ["ConfigMap elsewhere"]


STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  ordinals: {start: 5}
  template:
    spec:
      initContainers:
        - {name: setup, image: busybox}
        - {name: agent, image: busybox, restartPolicy: Always}
      containers: [{name: db, image: postgres}]
      ephemeralContainers: [{name: debug, image: busybox}]
      volumes:
        - {name: data, emptyDir: {}}
        - {name: conf, configMap: {name: db}}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {storageClassName: fast}
"""


def test_a_claim_template_replaces_the_pod_volume_of_its_name_and_counts_from_start():
    [workload] = model_of(STATEFULSET).workloads
    volumes = workload.volumes()
    assert volumes["data"].origin == "claimTemplate"
    assert volumes["data"].claim == "data-db-5"
    assert volumes["data"].claim_spec.str("storageClassName") == "fast"
    assert volumes["conf"].origin == "volume" and volumes["conf"].claim is None


def test_containers_have_roles_and_only_one_shot_init_containers_are_left_out():
    [workload] = model_of(STATEFULSET).workloads
    every = [(c.name, c.role, c.init) for c in workload.containers()]
    assert every == [
        ("db", "container", False),
        ("setup", "init", True),
        ("agent", "sidecar", False),
        ("debug", "ephemeral", False),
    ]
    assert [c.name for c in workload.containers(init=False)] == ["db", "agent", "debug"]


def test_objects_without_a_name_are_never_duplicates():
    model = model_of("kind: Pod\nspec: {}\n---\nkind: Pod\nspec: {}\n")
    assert len(model.objects) == 2 and len(model.workloads) == 2
