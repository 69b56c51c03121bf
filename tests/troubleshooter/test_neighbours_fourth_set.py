# ruff: noqa: E501  (real log lines are kept whole: their length is part of the test data)
"""The fourth set of neighbours, beside the articles that unrelated texts were still named as.

Each pair says the same kind of thing twice: once with our article's mechanism, once with the
neighbour's. The first must still name the article, the second must be refused with the
neighbour's advice. Pasted logs whose only story is a neighbour's are refused with its advice.
None of these texts is one of the neighbours' listed reports.
"""

from pathlib import Path

import pytest

from troubleshooter.diagnosis import diagnose, load_articles_dir, load_tree

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = load_articles_dir(ROOT / "articles")
TREE = load_tree()

PAIRS = [
    pytest.param(
        "pods freeze on the NFS PersistentVolume and dmesg shows that the server is not responding, still trying",
        "nfs-efs-mount-options",
        "the NFS PersistentVolume never mounts: mount.nfs: requested NFS version or transport protocol is not supported",
        "nfs-version-not-supported",
        id="nfs-version-en",
    ),
    pytest.param(
        "pods freeze on the EFS volume and every process touching it hangs in D state",
        "nfs-efs-mount-options",
        "the efs csi mount fails at once: Failed to resolve the file system name, ensure that the VPC has an EFS mount target",
        "efs-mount-target-unreachable",
        id="efs-target-en",
    ),
    pytest.param(
        "20-envsubst-on-templates.sh fails with Argument list too long in a namespace with hundreds of services",
        "nginx-envsubst-argument-list-too-long",
        "20-envsubst-on-templates.sh prints that /etc/nginx/conf.d is not writable because a read-only configmap is mounted there",
        "nginx-conf-dir-not-writable",
        id="conf-dir-en",
    ),
    pytest.param(
        "nginx restarts in a loop with envsubst: Argument list too long since the namespace grew to 600 services",
        "nginx-envsubst-argument-list-too-long",
        "nginx restarts in a loop since we mounted a server block from a configmap over nginx.conf: server directive is not allowed here",
        "nginx-config-rejected",
        id="nginx-conf-en",
    ),
]

NEAR_MISSES = [
    pytest.param(
        "client-source-ip-external-traffic-policy",
        'nginx: [emerg] unknown directive "set_real_ip_from" in /etc/nginx/conf.d/default.conf:3',
        "nginx-config-rejected",
        id="realip-missing",
    ),
]

NEIGHBOUR_LOGS = [
    pytest.param(
        """Warning  FailedMount  kubelet  MountVolume.SetUp failed for volume "nfs-data" : mount failed: exit status 32
Mounting command: mount
Mounting arguments: -t nfs -o nfsvers=3 10.0.1.25:/exports/data /var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~nfs/nfs-data
Output: mount.nfs: requested NFS version or transport protocol is not supported""",
        "nfs-version-not-supported",
        id="nfs-version-not-supported-log",
    ),
    pytest.param(
        """Warning  FailedMount  kubelet  MountVolume.SetUp failed for volume "efs-pv" : rpc error: code = Internal desc = Could not mount "fs-0123456789abcdef0:/" at "/var/lib/kubelet/pods/5e6f/volumes/kubernetes.io~csi/efs-pv/mount": mount failed: exit status 1
Output: Failed to resolve "fs-0123456789abcdef0.efs.eu-west-1.amazonaws.com" - check that your file system ID is correct, and ensure that the VPC has an EFS mount target for this file system ID.""",
        "efs-mount-target-unreachable",
        id="efs-mount-target-unreachable-log",
    ),
    pytest.param(
        """/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh
10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only file system?)
/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh
20-envsubst-on-templates.sh: ERROR: /etc/nginx/templates exists, but /etc/nginx/conf.d is not writable""",
        "nginx-conf-dir-not-writable",
        id="nginx-conf-dir-not-writable-log",
    ),
    pytest.param(
        """2024/05/02 10:11:12 [emerg] 1#1: "server" directive is not allowed here in /etc/nginx/nginx.conf:1
nginx: [emerg] "server" directive is not allowed here in /etc/nginx/nginx.conf:1""",
        "nginx-config-rejected",
        id="nginx-config-rejected-log",
    ),
]

# The harmless note of the IPv6 script beside the envsubst script's own E2BIG: the article.
MIXED_LOGS = [
    pytest.param(
        """/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh
10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only file system?)
/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh
/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long""",
        "nginx-envsubst-argument-list-too-long",
        id="ipv6-note-and-envsubst",
    ),
]

OTHER_WORDINGS = [
    pytest.param(
        "NAS が NFSv4.1 しか受け付けず、nfsvers=3 のマウントが Protocol not supported になる",
        "nfs-version-not-supported",
        id="nfs-version-ja",
    ),
    pytest.param(
        "NAS 只支持 NFSv4.1，用 nfsvers=3 挂载报 Protocol not supported",
        "nfs-version-not-supported",
        id="nfs-version-zh",
    ),
    pytest.param(
        "EFS のマウントターゲットがないゾーンのノードでは Pod が EFS をマウントできない",
        "efs-mount-target-unreachable",
        id="efs-target-ja",
    ),
    pytest.param(
        "没有 EFS 挂载目标的可用区里，节点上的 Pod 挂不上 EFS",
        "efs-mount-target-unreachable",
        id="efs-target-zh",
    ),
    pytest.param(
        "conf.d を ConfigMap で読み取り専用にしたら nginx のテンプレートが展開されなくなった",
        "nginx-conf-dir-not-writable",
        id="conf-dir-ja",
    ),
    pytest.param(
        "conf.d 用 ConfigMap 只读挂载后，nginx 的模板就不渲染了",
        "nginx-conf-dir-not-writable",
        id="conf-dir-zh",
    ),
    pytest.param(
        "nginx.conf に server ブロックだけ書いた ConfigMap をマウントしたら is not allowed here で止まる",
        "nginx-config-rejected",
        id="nginx-conf-ja",
    ),
    pytest.param(
        "把只有 server 块的 ConfigMap 挂成 nginx.conf，nginx 报 is not allowed here",
        "nginx-config-rejected",
        id="nginx-conf-zh",
    ),
]


def named(text: str) -> list[str]:
    return [m.article for m in diagnose(text, knowledge=KNOWLEDGE, tree=TREE).matches]


def refused_with(text: str) -> list[str]:
    diagnosis = diagnose(text, knowledge=KNOWLEDGE, tree=TREE)
    assert not diagnosis.matches, (text, [m.article for m in diagnosis.matches])
    return [n.node for n in diagnosis.not_covered]


@pytest.mark.parametrize(("ours", "article", "theirs", "node_id"), PAIRS)
def test_it_names_the_article_for_its_mechanism_and_refuses_the_neighbours(
    ours, article, theirs, node_id
):
    assert named(ours)[:1] == [article]
    assert refused_with(theirs)[:1] == [node_id]


@pytest.mark.parametrize(("article", "near_miss", "node_id"), NEAR_MISSES)
def test_an_articles_near_miss_gets_the_neighbours_advice(article, near_miss, node_id):
    assert near_miss in KNOWLEDGE.cause(article).near_misses
    assert refused_with(near_miss)[:1] == [node_id]


@pytest.mark.parametrize(("log", "node_id"), NEIGHBOUR_LOGS)
def test_a_pasted_log_that_is_only_a_neighbours_is_refused_with_its_advice(log, node_id):
    assert refused_with(log)[:1] == [node_id]


@pytest.mark.parametrize(("log", "article"), MIXED_LOGS)
def test_a_log_with_an_articles_own_message_beside_a_neighbours_names_the_article(log, article):
    assert named(log)[:1] == [article]


@pytest.mark.parametrize(("text", "node_id"), OTHER_WORDINGS)
def test_a_japanese_or_chinese_wording_of_its_own_gets_the_neighbours_advice(text, node_id):
    assert refused_with(text)[:1] == [node_id]
