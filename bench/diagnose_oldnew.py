"""Old and new diagnosis code side by side, taking turns in one run.

    git archive <old commit> | tar -x -C /tmp/old && ln -s "$PWD/.venv" /tmp/old/.venv
    .venv/bin/python bench/diagnose_oldnew.py --old /tmp/old [--rounds 10] [--batch 5]

One worker process per tree: each reads its own tree's articles and troubleshooting tree and
builds its own diagnosis index (so a change to the tree's data, such as the neighbours, is
measured with the code that reads it). The inputs are this checkout's `bench/diagnose_bench.py`
paste and `bench/corpus.py` 1 MB log, sent to both workers, so both diagnose the same bytes,
and three batches of what a search box receives: short texts in English, Japanese and Chinese
(the articles' own symptoms, reports, titles and summaries, and a few phrases no article
holds), each batch timed as the mean over its texts.
The coordinator asks them in turn, swapping which goes first every round; each input is timed
in CPU time of the worker (`time.process_time`), collector as shipped, after one warm-up call.

Prints the load average before and after, the median and p95 per input and side, the ratio,
and whether both sides gave the same answer (for a batch: the answers to all its texts).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


# Search-box texts no article holds: words that touch a few causes, or none.
_PHRASES = {
    "en": (
        "how to mount a volume read only",
        "kubectl rollout restart deployment",
        "container keeps restarting",
        "ingress returns 404 for every path",
        "disk full on the node",
    ),
    "ja": (
        "コンテナが再起動を繰り返す",
        "ボリュームをマウントできない",
        "ノードのディスクがいっぱい",
    ),
    "zh": ("容器不断重启", "无法挂载卷", "节点磁盘已满"),
}
_CJK = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u3400-\u9fff]")


def _language(text: str) -> str:
    return "ja" if _CJK.search(text) else "zh" if _HAN.search(text) else "en"


def search_texts() -> dict[str, list[str]]:
    """Short texts by language: the articles' symptoms, reports, titles and summaries (one line
    each, as a search box gets them) and ``_PHRASES``."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from troubleshooter.diagnosis import load_articles_dir

    batches: dict[str, list[str]] = {lang: list(phrases) for lang, phrases in _PHRASES.items()}
    for cause in load_articles_dir(ROOT / "articles").causes:
        texts = [*cause.symptoms, cause.title, cause.summary]
        for reports in cause.reports.values():
            texts.extend(reports)
        for text in texts:
            line = " ".join(text.split())[:200]
            if line and line not in batches[_language(line)]:
                batches[_language(line)].append(line)
    return batches


def inputs() -> dict[str, str | list[str]]:
    from corpus import log
    from diagnose_bench import PASTE

    batches = search_texts()
    return {
        "paste-size text": PASTE,
        "one-line error": "0/3 nodes are available: 3 Too many pods.",
        "description": "after editing the configmap the pods keep the old settings",
        **{f"search texts, {lang}": batches[lang] for lang in ("en", "ja", "zh")},
        "1 MB log": log(1_000_000),
        "100k error lines": "\n".join(f"error {i}: failed" for i in range(100_000)),
    }


def _answer(diagnosis) -> list[str]:  # noqa: ANN001
    return [m.article for m in diagnosis.matches] or (
        [f"question {diagnosis.question.node}"] if diagnosis.question else ["refused"]
    )


def _worker() -> None:
    sys.path[:0] = [os.getcwd()]
    from troubleshooter.diagnosis import diagnose, load_articles_dir

    knowledge = load_articles_dir(Path("articles"))
    texts = json.loads(sys.stdin.readline())
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        name, count = json.loads(line)
        batch = texts[name] if isinstance(texts[name], list) else [texts[name]]
        answer = [_answer(diagnose(text, knowledge=knowledge)) for text in batch]  # warm
        cpu = []
        for _ in range(count):
            start = time.process_time()
            for text in batch:
                diagnose(text, knowledge=knowledge)
            cpu.append((time.process_time() - start) * 1000 / len(batch))
        print(json.dumps({"cpu": cpu, "answer": answer}), flush=True)


def _start(tree: Path, texts: dict[str, str]) -> subprocess.Popen:
    python = str(tree / ".venv" / "bin" / "python")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kb.settings"}
    process = subprocess.Popen(
        [python, str(Path(__file__).resolve()), "--worker"],
        cwd=tree,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    process.stdin.write(json.dumps(texts) + "\n")
    process.stdin.flush()
    json.loads(process.stdout.readline())
    return process


def _ask(process: subprocess.Popen, name: str, count: int) -> dict:
    process.stdin.write(json.dumps([name, count]) + "\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def main() -> None:
    if "--worker" in sys.argv:
        _worker()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, nargs="?", help="a checkout of the old code (.venv)")
    parser.add_argument("--old", type=Path, dest="old_option", help="the same, as an option")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=5)
    args = parser.parse_args()
    args.old = args.old_option or args.old
    if args.old is None:
        parser.error("the old checkout is required (OLD or --old OLD)")
    texts = inputs()
    for name, text in texts.items():
        if isinstance(text, list):
            print(f"{name}: {len(text)} texts, mean per text")
    print(f"load average before: {os.getloadavg()}")
    sides = {"old": _start(args.old.resolve(), texts), "new": _start(ROOT, texts)}
    samples = {side: {name: [] for name in texts} for side in sides}
    answers = {side: {} for side in sides}
    for round_number in range(args.rounds):
        order = ["old", "new"] if round_number % 2 == 0 else ["new", "old"]
        for name in texts:
            size = sum(map(len, texts[name])) if isinstance(texts[name], list) else len(texts[name])
            count = args.batch if size < 100_000 else max(1, args.batch // 2)
            for side in order:
                reply = _ask(sides[side], name, count)
                samples[side][name].extend(reply["cpu"])
                answers[side][name] = reply["answer"]
    for process in sides.values():
        process.stdin.close()
        process.wait()
    print(f"load average after: {os.getloadavg()}")
    print(
        f"{'input':<20} {'old p50':>8} {'old p95':>8} {'new p50':>8} {'new p95':>8} "
        f"{'new/old':>8}  answers"
    )
    for name in texts:
        old, new = sorted(samples["old"][name]), sorted(samples["new"][name])
        p95 = lambda s: s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]  # noqa: E731
        same = (
            "same"
            if answers["old"][name] == answers["new"][name]
            else (f"old {answers['old'][name]} / new {answers['new'][name]}")
        )
        print(
            f"{name:<20} {statistics.median(old):8.1f} {p95(old):8.1f} "
            f"{statistics.median(new):8.1f} {p95(new):8.1f} "
            f"{statistics.median(new) / statistics.median(old):7.2f}x  {same}"
        )


if __name__ == "__main__":
    main()
