# ruff: noqa: E501  (real log lines are kept whole: their length is part of the test data)
"""The neighbours written in the real tree (troubleshooter/data/tree.yaml): not-covered
mechanisms next to our causes that say what they look like.

Each one must be complete in three languages and cite primary documentation; its own exact
messages must be refused with its own advice (never name a curated article); and what people
say about it must not name an article either. The articles' own symptoms still reach their
articles beside all of them (tests/troubleshooter/diagnosis/test_diagnose.py, every symptom).
"""

import re
from pathlib import Path

import pytest

from troubleshooter.diagnosis import NotCoveredNode, diagnose, load_articles_dir, load_tree
from troubleshooter.diagnosis.tree import NODE_ID_RE, QuestionNode

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = load_articles_dir(ROOT / "articles")
TREE = load_tree()
NEIGHBOURS = [n for n in TREE.nodes.values() if isinstance(n, NotCoveredNode) and n.looks_like]
BY_ID = {n.id: n for n in NEIGHBOURS}

# The not-covered answers the tree had before neighbours existed: each now says what it looks like.
EXISTING = [
    "shell-glob-too-many-files",
    "program-spawn-too-long",
    "bus-error-other",
    "out-of-memory-other",
    "httpd-crash-other",
    "truncated-response-other",
    "virtual-node-other",
    "stale-handle-other",
    "scheduler-resources-other",
    "oom-killed-other",
]

# Neighbours without exact messages. A root-squashed chown prints the same "Operation not
# permitted" as a non-root process does (the non-root article's case): only the words around
# it (NFS, root_squash, nobody) tell them apart. The scheduler lists every node's reason in one
# line ("1 node(s) had untolerated taint ..., 3 Too many pods."): a taint or affinity message
# as an exact symptom would tie with the article's own and veto it; their words decide.
# A mesh sidecar's only trace is an access log line whose address (127.0.0.6) the normalizer
# turns into <ip>, the same line as the client-address article's; a watcher that hears no
# event prints nothing at all, nor does a reader that opened a file before its writer closed it.
NO_MESSAGE_OF_ITS_OWN = [
    "nfs-root-squash",
    "pending-untolerated-taint",
    "pending-node-affinity",
    "mesh-sidecar-hides-client-address",
    "file-watch-on-network-share",
    "network-fs-client-cache",
    "reverse-proxy-hides-client-address",
    # One value over the per-string limit fails with the very E2BIG messages of our article's
    # entrypoint ("exec user process caused: argument list too long"); only its words (one
    # value, a JSON document, 128 KiB) tell them apart.
    "one-value-over-string-limit",
    # A hostPath that differs from node to node prints nothing: the pod simply starts on a
    # node whose directory holds other files.
    "hostpath-is-per-node",
    # A volume mounted over a directory of the image prints nothing: the directory is simply
    # empty (or the volume's own) and the program then fails in its own words.
    "volume-hides-image-content",
]

# One scheduler line, our reason beside a neighbour's: our article is named.
MIXED_SCHEDULER_LINES = [
    pytest.param(
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Too many pods.",
        "kubelet-max-pods",
        id="taint-and-pod-count",
    ),
    pytest.param(
        "0/6 nodes are available: 3 node(s) didn't match Pod's node affinity/selector, 3 Too many pods.",
        "kubelet-max-pods",
        id="affinity-and-pod-count",
    ),
    pytest.param(
        "0/5 nodes are available: 2 pod has unbound immediate PersistentVolumeClaims, 3 Too many pods.",
        "kubelet-max-pods",
        id="claim-and-pod-count",
    ),
    pytest.param(
        "0/5 nodes are available: 2 Insufficient cpu, 3 Too many pods. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.",
        "kubelet-max-pods",
        id="cpu-and-pod-count",
    ),
    pytest.param(
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, 3 Insufficient hugepages-2Mi.",
        "php-opcache-hugepages",
        id="taint-and-hugepages",
    ),
    pytest.param(
        "0/5 nodes are available: 2 node(s) had volume node affinity conflict, 3 Too many pods.",
        "kubelet-max-pods",
        id="volume-zone-and-pod-count",
    ),
]

# What a placeholder in a symptom stands for when a user pastes the message.
FILLED = {
    "<n>": "2097152",
    "<image>": "registry.example.com/shop/web:1.4",
    "<name>": "php-fpm",
    "<file>": "/var/www/html/index.php",
    "<path>": "/var/www/html/uploads",
    "<pod>": "web-7d9f8c6b5-x2k4q",
    "<volume>": "data",
    "<server>": "10.0.1.25",
}
PLACEHOLDER_RE = re.compile(r"<[a-z][a-z0-9 _.-]{0,30}>")

SYMPTOMS = [
    pytest.param(node.id, symptom, id=f"{node.id}-{index}")
    for node in NEIGHBOURS
    for index, symptom in enumerate(node.symptoms)
]
REPORTS = [
    pytest.param(node.id, report, id=f"{node.id}-{lang}-{index}")
    for node in NEIGHBOURS
    for lang, reports in sorted(node.reports.items())
    for index, report in enumerate(reports)
]


def filled(symptom: str) -> str:
    text = symptom
    for placeholder, value in FILLED.items():
        text = text.replace(placeholder, value)
    return text


def reachable_from(question: QuestionNode, target: str) -> bool:
    """Whether the tree's answers to ``question`` lead to ``target``."""
    pending, seen = [question.id], set()
    while pending:
        node = TREE.nodes[pending.pop()]
        if node.id == target:
            return True
        if node.id in seen or not isinstance(node, QuestionNode):
            continue
        seen.add(node.id)
        pending.extend(option.target for option in node.options)
    return False


def test_the_tree_holds_the_neighbours_and_every_former_not_covered_answer_is_one():
    assert 15 <= len(NEIGHBOURS) <= 80
    assert set(EXISTING) <= set(BY_ID), sorted(set(EXISTING) - set(BY_ID))


@pytest.mark.parametrize("node", NEIGHBOURS, ids=lambda n: n.id)
def test_a_neighbour_is_complete_in_three_languages_with_primary_sources(node):
    assert NODE_ID_RE.match(node.id) and node.id not in {c.slug for c in KNOWLEDGE.causes}
    for key in ("title", "advice"):
        texts = node.i18n.get(key, {})
        assert {"en", "ja", "zh"} <= set(texts), (node.id, key)
        assert all(texts[lang].strip() for lang in ("en", "ja", "zh")), (node.id, key)
    for lang in ("en", "ja", "zh"):
        assert 5 <= len(node.reports.get(lang, ())) <= 12, (node.id, lang)
    assert node.symptoms or node.id in EXISTING + NO_MESSAGE_OF_ITS_OWN, node.id
    assert node.mechanism.get("component") and node.mechanism.get("effect"), node.id
    assert node.sources and all(s.startswith("https://") for s in node.sources), node.id


@pytest.mark.parametrize(("node_id", "symptom"), SYMPTOMS)
def test_a_neighbours_own_message_names_no_article_and_gives_its_advice(node_id, symptom):
    """The message as listed, and as pasted (placeholders filled), is refused with this
    neighbour's advice. Where the tree's signature first asks a question the message leaves
    open (a bare "Bus error", a child's "Segmentation fault"), the question is the honest
    answer; it must still name no article and be able to lead to this neighbour."""
    for text in dict.fromkeys([symptom, filled(symptom)]):
        assert not PLACEHOLDER_RE.search(filled(symptom)), "add the placeholder to FILLED"
        diagnosis = diagnose(text, knowledge=KNOWLEDGE, tree=TREE)
        assert not diagnosis.matches, (text, [m.article for m in diagnosis.matches])
        if diagnosis.question is not None:
            assert not diagnosis.not_covered
            assert reachable_from(TREE.nodes[diagnosis.question.node], node_id), text
        else:
            assert [n.node for n in diagnosis.not_covered][:1] == [node_id], (
                text,
                [n.node for n in diagnosis.not_covered],
            )


@pytest.mark.parametrize(("node_id", "report"), REPORTS)
def test_what_people_say_about_a_neighbour_names_no_article(node_id, report):
    diagnosis = diagnose(report, knowledge=KNOWLEDGE, tree=TREE)
    assert not diagnosis.matches, (report, [m.article for m in diagnosis.matches])


@pytest.mark.parametrize(("line", "article"), MIXED_SCHEDULER_LINES)
def test_a_scheduler_line_with_our_reason_beside_a_neighbours_names_our_article(line, article):
    diagnosis = diagnose(line, knowledge=KNOWLEDGE, tree=TREE)
    assert [m.article for m in diagnosis.matches][:1] == [article], diagnosis.ranking[:2]


@pytest.mark.parametrize(
    ("line", "node_id"),
    [
        (
            "0/3 nodes are available: 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.",
            "pending-untolerated-taint",
        ),
        (
            "0/1 nodes are available: 1 node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate.",
            "pending-untolerated-taint",
        ),
        (
            "0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            "pvc-not-bound",
        ),
    ],
)
def test_a_scheduler_line_with_only_a_neighbours_reason_gets_its_advice(line, node_id):
    diagnosis = diagnose(line, knowledge=KNOWLEDGE, tree=TREE)
    assert not diagnosis.matches
    assert [n.node for n in diagnosis.not_covered][:1] == [node_id]


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "ja", "zh-hans"])
def test_every_neighbour_has_its_permanent_page_in_each_language(client, lang):
    from django.urls import reverse
    from django.utils.html import escape

    key = lang[:2]
    for node in NEIGHBOURS:
        url = reverse("troubleshooter:node", args=[node.id])
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        html = response.content.decode()
        assert response.status_code == 200, node.id
        assert escape(node.i18n["title"][key]) in html, (node.id, lang)
