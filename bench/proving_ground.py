"""The public-manifest proving ground: every check over hundreds of real manifests.

The manifests are other people's files, so the repository keeps only where each one comes
from (`proving_ground_sources.tsv`: repository, path, commit) and the reviewer's verdict on
each finding (`proving_ground_verdicts.tsv`: repository, path, check, line, verdict, why). The
files themselves live in a cache outside the repository, filled once from local git mirrors
(nothing is downloaded here):

    python bench/proving_ground.py --collect /work/.mirror   # git show <commit>:<path> per row
    python bench/proving_ground.py                           # per-check table
    python bench/proving_ground.py --findings                # every finding, for the review

A mirror of `owner/name` is expected at `<MIRRORS>/owner+name/repo` (a bare or normal git
directory holding the commit). The table gives per check: findings, how many the reviewer
confirmed as true, how many are false positives, the false-positive rate among the reviewed
ones, and how many are still unreviewed. A finding is keyed by source, check and line, so a
verdict survives re-runs as long as the analyzer reports the same line.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
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

    def cached(self, cache: Path) -> Path:
        """Where the file sits in the cache."""
        return cache / self.repo.replace("/", "+") / self.commit[:12] / self.path


def read_sources(path: Path = SOURCES) -> list[Source]:
    """The source list (tab-separated; `#` lines are comments)."""
    rows = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            repo, file_path, commit = line.split("\t")[:3]
            rows.append(Source(repo, file_path, commit))
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


def collect(sources: list[Source], *, mirrors: Path, cache: Path) -> int:
    """Copy each source out of its local git mirror into the cache; returns how many failed."""
    failed = 0
    for source in sources:
        target = source.cached(cache)
        if target.exists():
            continue
        git_dir = mirrors / source.repo.replace("/", "+") / "repo"
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
    return failed


def run(sources: list[Source], *, cache: Path, show_findings: bool) -> int:
    """Analyse every cached source and print the per-check table; returns the missing count."""
    verdicts = read_verdicts()
    per_check = {module.ID: collections.Counter() for module in registry.all_checks()}
    kinds: collections.Counter[str] = collections.Counter()
    missing = refused = objects = parse_errors = notes = 0
    helm = 0
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
        f"{analysed} manifests analysed ({helm} Helm-rendered), {objects} objects, "
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
