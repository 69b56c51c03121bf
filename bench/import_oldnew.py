"""Import and index, old code and new side by side on the same files, taking turns.

    git worktree add /tmp/import-old <old commit> && ln -s "$PWD/.venv" /tmp/import-old/.venv
    .venv/bin/python bench/import_oldnew.py --old /tmp/import-old --corpus <folder> \
        [--queries <pkl>] [--rounds 2] [--workers N]

`<folder>` holds the documents (a slice of what bench/realcorpus.py writes); `<pkl>` the
pickled (kind, text, right slug) queries of bench/realcorpus.py. Each round runs old then new,
the next new then old, each side in a fresh process of its own tree, into a new SQLite file
and index folder of its own:

- import: `import_paths([folder])` (read, render, save; rendering in worker processes);
- index: `rebuild_index(force=True)` (analysing and encoding in worker processes);
- re-import: `manage.py import_articles --quiet <folder>` of the unchanged files, a process of
  its own (interpreter start, Django, the walk, the hashes, the index check).

Each figure is wall clock beside CPU time: the process's own and its children's
(`resource.getrusage(RUSAGE_CHILDREN)`: the rendering and indexing workers), which the load of
other processes moves far less than the wall clock. The load average is printed beside each.
Outputs are compared between every run: a digest of every column of every Article row
(timestamps aside) in id order, of every rendered HTML, of the index (every stored field,
term, posting and field length), of the sections file beside it (what its records decode to;
its bytes are compared between the rounds of one side) and of the
answers to the queries (slug, language, section, score and snippet of every hit).

For a quick pair, `--corpus` may be a folder holding a subset of the files (copies or
symbolic links: every third file of the 10 000 gives about 3 000).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import settings_environment


def _cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _phase(run) -> dict:  # noqa: ANN001
    load = os.getloadavg()[0]
    wall = time.perf_counter()
    own, kids = _cpu()
    run()
    own2, kids2 = _cpu()
    return {
        "wall": time.perf_counter() - wall,
        "cpu": own2 - own,
        "children": kids2 - kids,
        "load": load,
    }


def _rows_digest() -> tuple[str, str, int]:
    from kb.models import Article

    skip = {"created_at", "updated_at"}
    names = [f.attname for f in Article._meta.concrete_fields if f.name not in skip]
    rows = hashlib.sha256()
    html = hashlib.sha256()
    count = 0
    for values in Article.objects.order_by("id").values_list(*names):
        rows.update(repr(values).encode())
        html.update(values[names.index("html")].encode())
        count += 1
    return rows.hexdigest(), html.hexdigest(), count


def _sections_digest() -> tuple[str, str]:
    """The sections file beside the segment (kb/search/sections.py): a digest of what its
    records decode to (marshal's flags aside) and one of its bytes.

    Two sides whose records hold the same values may write different bytes (a string marked
    interned, an object marked for back-references); the bytes of one side's builds must
    not differ (tests/kb/test_sections_deterministic.py)."""
    import marshal
    import struct
    from array import array

    from kb.search.index import current_folder
    from kb.search.sections import SECTIONS_FILE

    data = (current_folder() / SECTIONS_FILE).read_bytes()
    raw = hashlib.sha256(data).hexdigest()
    prefix, trailer = struct.Struct("<IIII"), struct.Struct("<QQQ8s")
    count, _, table, _ = trailer.unpack_from(data, len(data) - trailer.size)
    starts = array("Q", data[table : table + 8 * (count + 1)])
    # The articles' versions (where the records start and their heads' lengths follow from
    # the bytes), then each record's values.
    digest = hashlib.sha256(data[table + 12 * count + 8 : len(data) - trailer.size])
    for start, stop in zip(starts[:-1], starts[1:], strict=True):
        header, words, entries, _ = prefix.unpack_from(data, start)
        at = start + prefix.size
        values = [marshal.loads(data[at : at + header])]
        at += header
        values.append(data[at : at + 4 * words])  # the words' CRC-32s
        ends = array("I", data[at + 4 * words : at + 8 * words])
        at += 8 * words
        # A record with no words (a document with no text) has no entries either.
        bounds = zip((0, *ends[:-1]) if ends else (), ends, strict=True)
        values.extend(marshal.loads(data[at + begin : at + end]) for begin, end in bounds)
        values.append(data[at + entries : stop])  # the texts
        digest.update(repr(values).encode())
    return digest.hexdigest(), raw


def _index_digest() -> str:
    from kb.search.index import current_folder, storage

    ix = storage(current_folder()).open_index()
    digest = hashlib.sha256()
    with ix.reader() as reader:
        for docnum, stored in reader.iter_docs():
            digest.update(repr((docnum, sorted(stored.items()))).encode())
        for name in sorted(ix.schema.names()):
            if not ix.schema[name].indexed:
                continue
            for term in reader.lexicon(name):
                info = reader.term_info(name, term)
                stats = (
                    info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                    info.max_weight(), info.min_id(), info.max_id(),
                )  # fmt: skip
                values = list(reader.postings(name, term).all_items())
                digest.update(repr((name, term, stats, values)).encode())
            lengths = [reader.doc_field_length(d, name) for d in range(reader.doc_count_all())]
            digest.update(repr((name, lengths)).encode())
    return digest.hexdigest()


def _answers_digest(queries: Path | None) -> tuple[str, int, int]:
    if queries is None:
        return "-", 0, 0
    import pickle

    from kb.search import search_articles

    digest = hashlib.sha256()
    top3 = 0
    items = pickle.loads(queries.read_bytes())
    for _kind, text, right in items:
        hits = search_articles(text)
        answer = [(h.slug, h.lang, h.section, h.snippet, round(h.score, 6)) for h in hits]
        digest.update(repr(answer).encode())
        top3 += right in [h.slug for h in hits[:3]]
    return digest.hexdigest(), top3, len(items)


def child(tree: Path, var: Path, corpus: Path, workers: int | None, queries: Path | None) -> None:
    """In a fresh process of `tree`: import, index, digests; one JSON line on stdout."""
    os.environ.update(settings_environment(var))
    os.chdir(tree)
    sys.path[:0] = [str(tree)]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    from kb.importer import import_paths
    from kb.search import rebuild_index

    result = {}
    reports = []
    result["import"] = _phase(lambda: reports.append(import_paths([corpus], workers=workers)))
    result["index"] = _phase(lambda: rebuild_index(force=True, workers=workers))
    result["summary"] = reports[0].summary_line()
    result["rows"], result["html"], result["count"] = _rows_digest()
    result["index_digest"] = _index_digest()
    result["sections"], result["sections_raw"] = _sections_digest()
    result["answers"], result["top3"], result["queries"] = _answers_digest(queries)
    print(json.dumps(result))


def reimport(tree: Path, var: Path, corpus: Path) -> dict:
    env = {**os.environ, **settings_environment(var)}
    command = [str(tree / ".venv/bin/python"), "manage.py", "import_articles", "--quiet"]
    out = {}

    def run() -> None:
        done = subprocess.run(
            [*command, str(corpus)], cwd=tree, env=env, capture_output=True, text=True
        )
        out["summary"] = done.stdout.strip().splitlines()[0] if done.stdout else done.stderr
        out["status"] = done.returncode

    phase = _phase(run)
    phase["summary"] = out["summary"]
    return phase


def side(name: str, tree: Path, corpus: Path, workers: int | None, queries: Path | None) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"import-{name}-") as scratch:
        var = Path(scratch)
        command = [
            str(tree / ".venv/bin/python"),
            str(Path(__file__).resolve()),
            "--child",
            str(tree),
            str(var),
            str(corpus),
            str(workers or 0),
            str(queries or ""),
        ]
        phase_cpu = _cpu()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["all_cpu"] = sum(_cpu()) - sum(phase_cpu)
        result["reimport"] = reimport(tree, var, corpus)
    return result


def _fmt(phase: dict) -> str:
    return (
        f"{phase['wall']:7.1f} s wall, {phase['cpu'] + phase['children']:7.1f} s CPU "
        f"(own {phase['cpu']:.1f} + workers {phase['children']:.1f}), load {phase['load']:.1f}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        tree, var, corpus, workers, queries = sys.argv[2:7]
        child(
            Path(tree),
            Path(var),
            Path(corpus),
            int(workers) or None,
            Path(queries) if queries else None,
        )
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--new", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--only", choices=["old", "new"], default=None)
    options = parser.parse_args()
    trees = {"old": options.old.resolve(), "new": options.new.resolve()}
    results: dict[str, list[dict]] = {"old": [], "new": []}
    for number in range(options.rounds):
        order = ["old", "new"] if number % 2 == 0 else ["new", "old"]
        if options.only:
            order = [options.only]
        for name in order:
            result = side(
                name, trees[name], options.corpus.resolve(), options.workers, options.queries
            )
            results[name].append(result)
            print(f"round {number + 1} {name}: {result['summary']}", flush=True)
            for phase in ("import", "index", "reimport"):
                print(f"  {phase:9} {_fmt(result[phase])}", flush=True)
            both = {
                k: result["import"][k] + result["index"][k] for k in ("wall", "cpu", "children")
            }
            print(
                f"  import+index {both['wall']:.1f} s wall, "
                f"{both['cpu'] + both['children']:.1f} s CPU",
                flush=True,
            )
            print(
                f"  rows {result['rows'][:12]} html {result['html'][:12]} ({result['count']}), "
                f"index {result['index_digest'][:12]}, sections {result['sections'][:12]} "
                f"(bytes {result['sections_raw'][:12]}), "
                f"answers {result['answers'][:12]} "
                f"top3 {result['top3']}/{result['queries']}",
                flush=True,
            )
    every = results["old"] + results["new"]
    for key in ("rows", "html", "index_digest", "sections", "answers"):
        values = {r[key] for r in every}
        print(f"{key}: {'identical' if len(values) == 1 else 'DIFFERENT ' + str(values)}")
    for name, runs in results.items():
        if len(runs) > 1:
            same = len({r["sections_raw"] for r in runs}) == 1
            print(f"sections bytes of {name}'s builds: {'identical' if same else 'DIFFERENT'}")
    if results["old"] and results["new"]:
        for phase in ("import", "index"):
            for measure in ("wall", "cpu"):

                def total(r, m=measure, p=phase):  # noqa: ANN001, ANN202
                    return r[p]["wall"] if m == "wall" else r[p]["cpu"] + r[p]["children"]

                old = sum(total(r) for r in results["old"])
                new = sum(total(r) for r in results["new"])
                print(f"{phase} {measure}: new/old {new / old:.2f}")


if __name__ == "__main__":
    main()
