"""The public-manifest proving ground: every check over hundreds of real manifests.

The manifests are other people's files, so the repository keeps only where each one comes
from (`proving_ground_sources.tsv`: repository, path, commit, and `file` for a file taken as
is or `kustomize` for the `kubectl kustomize` build of that directory) and the verdict on
each finding (`proving_ground_verdicts.tsv`: repository, path, check, line, verdict, why). The
files themselves live in a cache outside the repository, filled once from local git mirrors
(nothing is downloaded here):

    python bench/proving_ground.py --collect /work/.mirror   # git show <commit>:<path> per row
    python bench/proving_ground.py                           # per-check table
    python bench/proving_ground.py --findings                # every finding, for the review

A mirror of `owner/name` is expected at `<MIRRORS>/owner+name/repo` (a bare or normal git
directory holding the commit); kustomize rows also need `kubectl` (its built-in kustomize
builds offline; a directory whose bases are remote is not listed). The table gives per check:
findings, how many the reviewer confirmed as true, how many are false positives, the
false-positive rate among the reviewed ones, and how many are still unreviewed. A finding is
keyed by source, check and line, so a verdict survives re-runs while the line stays the same.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from troubleshooter.analyzer import registry  # noqa: E402
from troubleshooter.analyzer.analyze import analyze_manifest  # noqa: E402
from troubleshooter.analyzer.results import ManifestRejected  # noqa: E402

SOURCES = ROOT / "bench" / "proving_ground_sources.tsv"
VERDICTS = ROOT / "bench" / "proving_ground_verdicts.tsv"
DEFAULT_CACHE = Path(os.environ.get("KB_MANIFESTS_CACHE", "/work/manifests-cache/files"))
WORKLOAD_KINDS = (
    "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
    "ReplicationController",
)  # fmt: skip


@dataclass(frozen=True)
class Source:
    """One manifest file: which repository, path and commit it was taken from."""

    repo: str
    path: str
    commit: str
    how: str = "file"

    def cached(self, cache: Path) -> Path:
        """Where the file (or the kustomize build of the directory) sits in the cache."""
        path = cache / self.repo.replace("/", "+") / self.commit[:12] / self.path
        return path / "kustomize-build.yaml" if self.how == "kustomize" else path


def read_sources(path: Path = SOURCES) -> list[Source]:
    """The source list (tab-separated; `#` lines are comments)."""
    rows = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            repo, file_path, commit, *how = line.split("\t")
            rows.append(Source(repo, file_path, commit, how[0] if how else "file"))
    return rows


def read_verdicts(path: Path = VERDICTS) -> dict[tuple[str, str, str, int], tuple[str, str]]:
    """Verdicts keyed by (repo, path, check, line): ("true" | "false", why)."""
    verdicts = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                repo, file_path, check, number, verdict, *why = line.split("\t")
                verdicts[(repo, file_path, check, int(number))] = (verdict, "\t".join(why))
    return verdicts


def _extract(git_dir: Path, commit: str, target: Path) -> None:
    """Write a commit's files under `target` (files missing from a partial mirror are skipped)."""
    listing = subprocess.run(
        ["git", "-C", str(git_dir), "ls-tree", "-r", "-l", commit],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    entries = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        mode, kind, sha, size = meta.split()
        if kind == "blob" and size.isdigit() and int(size) < 2_000_000 and mode != "120000":
            entries.append((sha, path))
    output = subprocess.run(
        ["git", "-C", str(git_dir), "cat-file", "--batch"],
        input="".join(sha + "\n" for sha, _ in entries).encode(),
        capture_output=True,
        check=False,
    ).stdout
    position = 0
    for _, path in entries:
        end = output.index(b"\n", position)
        header = output[position:end].split()
        position = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(output[position : position + size])
        position += size + 1


def _build(sources: list[Source], *, git_dir: Path, cache: Path) -> int:
    """Run `kubectl kustomize` for each kustomize source of one repository and commit."""
    failed = 0
    with tempfile.TemporaryDirectory() as checkout:
        _extract(git_dir, sources[0].commit, Path(checkout))
        for source in sources:
            result = subprocess.run(
                ["kubectl", "kustomize", str(Path(checkout) / source.path)],
                capture_output=True,
                timeout=120,
                check=False,
            )
            if result.returncode != 0:
                failed += 1
                print(f"cannot build {source.repo} {source.path}", file=sys.stderr)
                continue
            target = source.cached(cache)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(result.stdout)
    return failed


def collect(sources: list[Source], *, mirrors: Path, cache: Path) -> int:
    """Copy each source out of its local git mirror into the cache; returns how many failed."""
    failed = 0
    builds: dict[tuple[str, str], list[Source]] = collections.defaultdict(list)
    for source in sources:
        target = source.cached(cache)
        if target.exists():
            continue
        git_dir = mirrors / source.repo.replace("/", "+") / "repo"
        if source.how == "kustomize":
            builds[(source.repo, source.commit)].append(source)
            continue
        result = subprocess.run(
            ["git", "-C", str(git_dir), "show", f"{source.commit}:{source.path}"],
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            failed += 1
            print(f"cannot collect {source.repo} {source.path}", file=sys.stderr)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(result.stdout)
    for (repo, _), group in builds.items():
        failed += _build(group, git_dir=mirrors / repo.replace("/", "+") / "repo", cache=cache)
    return failed


def run(sources: list[Source], *, cache: Path, show_findings: bool) -> int:
    """Analyse every cached source and print the per-check table; returns the missing count."""
    verdicts = read_verdicts()
    per_check = {module.ID: collections.Counter() for module in registry.all_checks()}
    kinds: collections.Counter[str] = collections.Counter()
    missing = refused = objects = parse_errors = notes = 0
    helm = kustomized = 0
    for source in sources:
        path = source.cached(cache)
        if not path.exists():
            missing += 1
            continue
        data = path.read_bytes()
        try:
            report = analyze_manifest(text=data)
        except ManifestRejected:
            refused += 1
            continue
        helm += b"# Source:" in data
        kustomized += source.how == "kustomize"
        objects += report.objects
        counts = report.counts()
        parse_errors += counts["parse_errors"]
        notes += counts["notes"]
        for line in data.decode("utf-8", "replace").splitlines():
            stripped = line.strip()
            if stripped.startswith("kind:") and (kind := stripped[5:].strip()) in WORKLOAD_KINDS:
                kinds[kind] += 1
        for finding in report.findings:
            if finding.suppressed:
                continue
            tally = per_check[finding.check]
            tally["findings"] += 1
            tally[finding.severity] += 1
            key = (source.repo, source.path, finding.check, finding.line)
            verdict = verdicts.get(key, ("", ""))[0]
            tally[verdict or "unreviewed"] += 1
            if show_findings:
                mark = verdict or "?"
                print(
                    f"[{mark}] {source.repo}\t{source.path}\t{finding.check}\t{finding.line}\t"
                    f"{finding.severity} {finding.object.label()}: {finding.message}"
                )
    analysed = len(sources) - missing - refused
    print(
        f"{analysed} manifests analysed ({helm} Helm-rendered, {kustomized} kustomize builds), "
        f"{objects} objects, "
        f"{parse_errors} parse errors, {notes} notes; {missing} not in the cache, "
        f"{refused} refused"
    )
    print("workload kinds: " + ", ".join(f"{kind} {kinds[kind]}" for kind in WORKLOAD_KINDS))
    print(f"{'check':45} {'findings':>8} {'true':>5} {'false':>5} {'FP rate':>8} {'todo':>5}")
    for check_id, tally in per_check.items():
        reviewed = tally["true"] + tally["false"]
        rate = f"{100 * tally['false'] / reviewed:.1f} %" if reviewed else "-"
        print(
            f"{check_id:45} {tally['findings']:>8} {tally['true']:>5} {tally['false']:>5} "
            f"{rate:>8} {tally['unreviewed']:>5}"
        )
    return missing


def main(argv: list[str] | None = None) -> int:
    """Collect the cache or run the analyzer over it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="the manifest cache")
    parser.add_argument(
        "--collect", type=Path, metavar="MIRRORS", help="fill the cache from local git mirrors"
    )
    parser.add_argument("--findings", action="store_true", help="print every finding")
    options = parser.parse_args(argv)
    sources = read_sources()
    if options.collect is not None:
        return 1 if collect(sources, mirrors=options.collect, cache=options.cache) else 0
    run(sources, cache=options.cache, show_findings=options.findings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
