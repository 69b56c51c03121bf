"""Diagnose: a paste-size text, a generated 1 MB log and hostile shapes through diagnose().

The causes are read from articles/ (as ``load_articles_dir`` does), so no database is needed;
the index is built once per knowledge generation and its build time is reported apart.
Targets (issue 10): a paste-size text <= 20 ms, a 1 MB log <= 200 ms. Reported, not asserted.
"""

from __future__ import annotations

import time
from pathlib import Path

from common import Results, median_time
from corpus import log

ROOT = Path(__file__).resolve().parents[1]
# An issue template's environment block in front of a report (evidence.setting_lines).
ENVIRONMENT = (
    "**Environment**:\n- Kubernetes version: v1.29.4\n- Cloud provider: bare metal\n"
    "- OS: Ubuntu 22.04.4 LTS\n- Kernel: 5.15.0-105-generic\n"
    "- Container runtime: containerd 1.7\n\n"
)
# A description followed by the manifest it is about (evidence.structure_lines).
MANIFEST_REPORT = "\n".join(
    [
        "After editing the ConfigMap the pod keeps serving the old nginx.conf.",
        "```yaml",
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: web",
        "spec:",
        "  replicas: 2",
        "  template:",
        "    spec:",
        "      containers:",
        "        - name: web",
        "          image: nginx:1.25",
        "          volumeMounts:",
        "            - name: conf",
        "              mountPath: /etc/nginx/nginx.conf",
        "              subPath: nginx.conf",
        "          resources:",
        "            limits:",
        "              cpu: 500m",
        "              memory: 256Mi",
        "      volumes:",
        "        - name: conf",
        "          configMap:",
        "            name: web-conf",
        "```",
    ]
)
PASTE = "\n".join(
    [
        "Name:         web-7d9f8c6b5-x2k4q",
        "Namespace:    shop",
        "Status:       Pending",
        "Containers:",
        "  php:",
        "    Image:      php:8.3-fpm",
        "    Requests:",
        "      cpu:     500m",
        "      memory:  512Mi",
        "Conditions:",
        "  Type           Status",
        "  PodScheduled   False",
        "Events:",
        "  Type     Reason            Age   From               Message",
        "  ----     ------            ----  ----               -------",
        "  Warning  FailedScheduling  2m    default-scheduler  0/4 nodes are available: "
        "4 Too many pods. preemption: 0/4 nodes are available: 4 No preemption victims found.",
    ]
    * 2
)


def run(results: Results, *, workdir: Path, quick: bool) -> None:
    """The diagnose section."""
    from kb.errortext import query_text
    from troubleshooter.diagnosis import diagnose, load_articles_dir, model

    started = time.perf_counter()
    knowledge = load_articles_dir(ROOT / "articles")
    model.index_for(knowledge)
    results.figure(
        "load articles + build the index (once per generation)",
        (time.perf_counter() - started) * 1000,
        "ms",
    )
    runs = 5 if quick else 20

    def timed(name: str, text: str, target: float | None) -> None:
        diagnosis = diagnose(text, knowledge=knowledge)  # warm
        seconds = median_time(lambda: diagnose(text, knowledge=knowledge), runs=runs)
        answer = ", ".join(m.article for m in diagnosis.matches) or (
            f"question {diagnosis.question.node}" if diagnosis.question else "refused"
        )
        results.note(name, f"{len(text.encode()) / 1e3:.1f} KB; answer: {answer}")
        results.figure(f"diagnose({name})", seconds * 1000, "ms")
        if target is not None:
            results.target(f"diagnose a {name}", seconds * 1000, target, "ms")

    timed("paste-size text", PASTE, 20.0)
    timed("one-line error", "0/3 nodes are available: 3 Too many pods.", 20.0)
    timed("description", "after editing the configmap the pods keep the old settings", 20.0)
    timed("report after an environment block", ENVIRONMENT + PASTE, 20.0)
    timed("report with a manifest", MANIFEST_REPORT, 20.0)
    big = log(1_000_000)
    runs = 3 if quick else 5
    timed("1 MB log", big, 200.0)
    # Hostile shapes: one 1 MB line, 100 000 short error-like lines, CJK without spaces.
    timed("1 MB single line", "error " * 170_000, 200.0)
    timed("100k error lines", "\n".join(f"error {i}: failed" for i in range(100_000)), 200.0)
    timed("1 MB CJK", "挂载失败无法分配内存" * 100_000, 200.0)
    # What errortext.plain_text reads before anything else: a coloured log, and a JSON log
    # whose every character is an escape (one callback each, the costliest shape).
    coloured = "\n".join(f"\x1b[31m{line}\x1b[0m" for line in big.splitlines())
    timed("1 MB coloured log", coloured[:1_000_000], 200.0)
    timed("1 MB of JSON escapes", "\\u9519\\u8bef" * 83_333, 200.0)
    # What evidence.setting_lines reads in every kept line: bullets it takes atomically, and
    # a label followed by spaces and no colon (the longest failing match, 40 starts).
    bullets = "\n".join(("- " * 1000) if i % 2 else ("os" + " " * 1990 + "x") for i in range(40))
    timed("40 bullet and label lines of 2 000 characters", bullets, 200.0)
    # What evidence.structure_lines reads: manifest keys with long values (each line then
    # looked up for the articles' mechanism terms), and a table whose rows are all gaps.
    keys = "\n".join(f"key{i}: " + "nfs mount value " * 124 for i in range(40))
    timed("40 manifest lines of 2 000 characters", "the pods hang\n" + keys, 200.0)
    # Messages read across line breaks (evidence.Index._wrapped_messages): 40 lines of 280
    # characters, each pair holding every word of a symptom but not in its order, so that
    # every window of lines qualifies to be read together (at most JOINS_READ are).
    first = ("permission denied (13: while reading upstream " * 10)[:280]
    second = ("failed 0.0.0.0:80 to bind() nginx: [emerg] x " * 10)[:280]
    halves = "\n".join([first, second] * 20)
    timed("40 lines holding a message's words out of order", halves, 200.0)
    table = "NAME  READY  STATUS  " + "COLUMN  " * 240 + "\n" + "\n".join(["a  " * 666] * 40)
    timed("40-row table of 2 000-character rows", table + "\nthe pods hang", 200.0)
    # Rows with an error are read without their names (evidence.table_names): every row
    # split into its cells, its namespace and name looked up for the articles' terms.
    rows = "\n".join(["nfs  php-fpm  Error  " * 95] * 40)
    timed(
        "40 error rows of 2 000 characters under NAMESPACE NAME",
        "NAMESPACE  NAME  READY  STATUS\n" + rows,
        200.0,
    )
    # Sentences read for a setup (evidence.Index.setup_sentence): 100 sentences of 900
    # characters, each naming setup words and platforms and nothing wrong, the most that are
    # read one by one (MAX_SETUP_SENTENCES); and a paste of 2 000 short ones, which are not.
    setup = ("we run helm with traefik ingress metallb calico on aks ubuntu " * 15)[:900]
    timed("100 setup sentences of 900 characters", ((setup + ". ") * 2 + "\n") * 50, 200.0)
    timed("2 000 short setup sentences", ("ubuntu. " * 50 + "\n") * 40, 200.0)
    seconds = median_time(lambda: query_text(big), runs=runs)
    results.figure("errortext.query_text(1 MB log)", seconds * 1000, "ms")
    results.target("query_text of a 1 MB log", seconds * 1000, 200.0, "ms")
