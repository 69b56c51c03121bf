"""Old and new analyzer code over the same inputs: every finding and note must be identical.

    git archive <old commit> | tar -x -C /tmp/old && ln -s "$PWD/.venv" /tmp/old/.venv
    .venv/bin/python bench/analysis_samefindings.py /tmp/old [more manifest folders...]

The inputs are gathered once, from this tree: the files under tests/troubleshooter/fixtures,
every string constant of the analyzer tests that could be YAML, each check's failing and passing
example, the adversarial families at two sizes, the bench's generated manifests (1 to 3 000
objects), and every file of the folders given (for example the proving ground's manifests).
Each tree then analyses all of them in its own process, once with the default limits and once
with tight ones (so that the caps, refusals and notes are exercised too), without a deadline
(a loaded machine must not make one side stop early). Every field of every finding and note is
compared, the English message and the message key and arguments included. Exits 1 on any
difference.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMITS = {
    "default": {"max_seconds": None},
    "tight": {
        "max_seconds": None,
        "max_documents": 7,
        "max_objects": 5,
        "max_depth": 6,
        "max_aliases": 3,
        "max_scalar_bytes": 60,
        "max_notes_per_kind": 2,
        "max_findings_per_check": 2,
    },
}


def _gather(extra: list[str]) -> list[tuple[str, str | bytes]]:
    sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests/troubleshooter/analyzer")]
    from adversarial_inputs import FAMILIES
    from corpus import manifest

    from troubleshooter.analyzer import registry

    inputs: list[tuple[str, str | bytes]] = []
    for path in sorted((ROOT / "tests/troubleshooter/fixtures").rglob("*")):
        if path.is_file():
            inputs.append((str(path.relative_to(ROOT)), path.read_bytes()))
    for path in sorted((ROOT / "tests/troubleshooter").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
                value = node.value
                probe = value if isinstance(value, str) else value.decode("latin-1")
                if len(value) >= 8 and any(c in probe for c in (":", "{", "[", "-")):
                    inputs.append((f"{path.relative_to(ROOT)}:{node.lineno}", value))
    for module in registry.all_checks():
        inputs.append((f"{module.ID}:failing", module.FAILING_EXAMPLE))
        inputs.append((f"{module.ID}:passing", module.PASSING_EXAMPLE))
    for family in FAMILIES:
        for size in (2_000, 30_000):
            inputs.append((f"adversarial:{family.name}:{size}", family.make(size)))
    for objects in (1, 2, 3, 5, 10, 25, 50, 100, 3000):
        for seed in (1, 2, 20261122):
            if objects == 3000 and seed != 20261122:
                continue
            inputs.append((f"corpus:{objects}:{seed}", manifest(objects, seed=seed)))
    for folder in extra:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file() and path.stat().st_size <= 2_000_000:
                inputs.append((str(path), path.read_bytes()))
    return inputs


def _jsonable(value):  # noqa: ANN001, ANN202 - any dataclass field
    if dataclasses.is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _worker(inputs_path: str, out_path: str) -> None:
    sys.path.insert(0, os.getcwd())
    from troubleshooter.analyzer import Limits, ManifestRejected, analyze_manifest

    with open(inputs_path, "rb") as handle:
        inputs = pickle.load(handle)
    results = {}
    for number, (name, text) in enumerate(inputs):
        for setting, limits in LIMITS.items():
            try:
                report = analyze_manifest(text=text, limits=Limits(**limits))
                outcome = {
                    "objects": report.objects,
                    "findings": _jsonable(report.findings),
                    "errors": _jsonable(report.errors),
                }
            except ManifestRejected as rejected:
                outcome = {"rejected": rejected.message}
            except Exception as error:  # noqa: BLE001 - a crash is an outcome to compare
                outcome = {"crash": repr(error)}
            key = f"{number} {name} [{setting}]"
            results[key] = json.dumps(outcome, sort_keys=True, default=str)
    with open(out_path, "wb") as handle:
        pickle.dump(results, handle)


def main() -> int:
    if sys.argv[1] == "--worker":
        _worker(sys.argv[2], sys.argv[3])
        return 0
    old = Path(sys.argv[1]).resolve()
    inputs = _gather(sys.argv[2:])
    with tempfile.TemporaryDirectory() as scratch:
        inputs_path = os.path.join(scratch, "inputs.pickle")
        with open(inputs_path, "wb") as handle:
            pickle.dump(inputs, handle)
        outputs = {}
        for label, tree in (("old", old), ("new", ROOT)):
            out = os.path.join(scratch, f"{label}.pickle")
            subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--worker", inputs_path, out],
                cwd=tree,
                env={**os.environ, "PYTHONPATH": str(tree)},
                check=True,
            )
            with open(out, "rb") as handle:
                outputs[label] = pickle.load(handle)
    differences = [key for key in outputs["old"] if outputs["old"][key] != outputs["new"].get(key)]
    findings = sum(len(json.loads(v).get("findings", [])) for v in outputs["old"].values())
    notes = sum(len(json.loads(v).get("errors", [])) for v in outputs["old"].values())
    print(
        f"{len(inputs)} inputs x {len(LIMITS)} limit settings = {len(outputs['old'])} analyses;"
        f" {findings} findings, {notes} errors and notes compared; {len(differences)} differ"
    )
    for key in differences[:10]:
        print(f"DIFFERS: {key}")
        print(f"  old: {outputs['old'][key][:600]}\n  new: {outputs['new'][key][:600]}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
