"""evidence.Index.setup_sentence and setup_only_tokens: a sentence that only says where a
problem happened ("Deployed via Argo CD, Istio service mesh enabled.") is read, but its names
weigh like the weak words. tests/troubleshooter/diagnosis/test_diagnose.py measures what
that does to the articles' reports with such a sentence in front of them.
"""

from pathlib import Path

import pytest

from troubleshooter.diagnosis import diagnose, model
from troubleshooter.diagnosis.evidence import (
    MAX_SETUP_SENTENCES,
    prepare,
    setup_only_tokens,
    tokens,
)
from troubleshooter.diagnosis.knowledge import load_articles_dir, neighbours_of
from troubleshooter.diagnosis.tree import get_tree

ARTICLES = Path(__file__).resolve().parents[3] / "articles"
INDEX = model.index_for(load_articles_dir(ARTICLES), neighbours_of(get_tree()))


@pytest.mark.parametrize(
    "sentence",
    [
        "deployed via argocd from a gitops repo, istio service mesh enabled.",
        "aks 1.27 with azure cni, two node pools.",
        "bare-metal cluster with metallb and ingress-nginx, calico cni.",
        "we run microk8s 1.28 with the traefik ingress on three ubuntu vms.",
        "it's a java spring boot service with a postgresql database.",
        "生产环境是阿里云 ack 集群,用 helm 部署,开启了 istio。",
        "オンプレの kubeadm クラスタ(v1.28、calico)で運用しています。",
    ],
)
def test_a_sentence_that_names_the_setup_and_nothing_wrong_tells_the_setup(sentence):
    assert INDEX.setup_sentence(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        # No setup named: what the user did with the objects the mechanism is about.
        "service is a nodeport;",
        "i mount config.json from a configmap as a single file with subpath.",
        # A setup named, and something wrong, or a question, or a change.
        "since the upgrade to k3s 1.28 the pods hang.",
        "the helm release does not roll the pods.",
        "why does the cluster drop the client address?",
        "集群里的 pod 起不来。",
        # An effect of a cause, or an article's storage, beside the setup's names.
        "on eks the nginx log shows the node ip instead of the client ip.",
        "eks 1.18 on fargate: a pv points at an efs access point.",
        # The fix already in place is what the report is about.
        "our cluster runs the service with externaltrafficpolicy: local.",
        # A program that is an article's component is what its reports are about; "node"
        # (Node.js among the programs) is every cluster's node.
        "we serve the site with nginx and php-fpm.",
        "the app runs on a node with 4 cpus.",
        # What went wrong, said without an error word.
        "the postgresql pod keeps restarting.",
        "postgresql のプライマリ pod がクラッシュし続ける。",
        # A log line, a table row, a config line.
        "2024-03-02 10:11:12 helm upgrade finished on cluster prod",
        "web-6d8f  1/1  running  0  4m  kubeadm",
        "[cluster] ubuntu = true",
    ],
)
def test_a_sentence_about_what_went_wrong_does_not(sentence):
    assert not INDEX.setup_sentence(sentence)


def test_only_the_words_of_setup_sentences_alone_are_listed():
    text = "We run Helm on Ubuntu with Istio.\nistio logs show the node IP instead of the client IP"
    found = prepare(text, keep=INDEX.names_mechanism, setup=INDEX.setup_sentence).setup_tokens
    assert found == frozenset(tokens("helm ubuntu run"))
    assert "istio" not in found  # the second line says it too


def test_a_text_that_is_all_setup_is_read_whole():
    assert (
        setup_only_tokens(["we run helm on ubuntu.", "k3s 1.28 on proxmox."], INDEX.setup_sentence)
        == frozenset()
    )


def test_a_paste_of_many_sentences_is_not_read_sentence_by_sentence():
    """A dump of short sentences would cost one check each: beyond MAX_SETUP_SENTENCES none."""
    calls = []

    def counted(sentence):
        calls.append(sentence)
        return INDEX.setup_sentence(sentence)

    lines = ["we run helm on ubuntu. the pod hangs."] * (MAX_SETUP_SENTENCES // 2 + 1)
    assert setup_only_tokens(lines, counted) == frozenset()
    assert calls == []
    assert setup_only_tokens(lines[: MAX_SETUP_SENTENCES // 2], counted) == frozenset(
        tokens("we run helm on ubuntu")
    )


def test_a_name_in_a_setup_sentence_weighs_like_a_weak_word():
    """Istio and "mesh" are the words of the neighbour whose sidecar hides the client's
    address: read at full weight in the setup sentence, the neighbour outweighed the report
    (the article's neighbour_bm25 1.0) and the answer was refused."""
    report = "the nginx access log shows the node IP instead of the visitor's address"
    setup = "Deployed via Argo CD from a GitOps repo, Istio service mesh enabled."
    article = "client-source-ip-external-traffic-policy"
    plain = diagnose(report, knowledge=INDEX.knowledge)
    described = diagnose(setup + "\n" + report, knowledge=INDEX.knowledge)
    assert [m.article for m in plain.matches] == [article]
    assert [m.article for m in described.matches] == [article]
    assert (
        described.features[article]["neighbour_bm25"] <= plain.features[article]["neighbour_bm25"]
    )
