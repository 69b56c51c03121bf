# ruff: noqa: E501  (real log lines are kept whole: their length is part of the test data)
"""diagnose(): causes with confidence, questions, context-resolved questions and refusals."""

import pytest

from troubleshooter.diagnosis import diagnose

ENVSUBST = "/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long"


def nodes(text: str) -> list[str]:
    return [m.node for m in diagnose(text).matches]


@pytest.mark.parametrize(
    ("text", "node"),
    [
        (ENVSUBST, "service-links-env-too-long"),
        ("envsubst: 引数リストが長すぎます", "service-links-env-too-long"),
        ('exec user process caused "argument list too long"', "service-links-env-too-long"),
        ("fork/exec /usr/local/bin/app: argument list too long", "service-links-env-too-long"),
        ("0/3 nodes are available: 3 Too many pods.", "node-pod-limit"),
        (
            "pod web-7d9f8c6b5-x2k4q requires volume data which is of an unsupported type",
            "virtual-node-pvc-unsupported",
        ),
        (
            "Zend OPcache huge_code_pages: mmap(HUGETLB) failed: Cannot allocate memory (12)",
            "opcache-hugepages-unavailable",
        ),
        ("Error: container has runAsNonRoot and image will run as root", "image-runs-as-root"),
        (
            "PHP Warning:  file_get_contents(): Filename cannot be empty in /x.php on line 3",
            "php-upload-tmp-dir-missing",
        ),
        ("[12.5] nfs: server 10.1.2.3 not responding, still trying", "nfs-mount-options"),
        ("修改 ConfigMap 后配置不生效", "configmap-subpath-stale"),
    ],
)
def test_it_names_the_known_cause(text, node):
    diagnosis = diagnose(text)
    assert diagnosis.known
    assert diagnosis.matches[0].node == node
    assert 0.4 <= diagnosis.matches[0].confidence <= 1


@pytest.mark.parametrize(
    "text",
    [
        "0/3 nodes are available: 3 Insufficient cpu.",
        "Last State: Terminated\n  Reason: OOMKilled\n  Exit Code: 137",
        'Failed to pull image "nginx:latset": not found\nBack-off pulling image: ImagePullBackOff',
        "everything is fine",
        "",
    ],
)
def test_it_refuses_what_it_does_not_know(text):
    diagnosis = diagnose(text)
    assert not diagnosis.known
    assert diagnosis.question is None


def test_it_calls_a_shell_glob_not_a_known_cause():
    diagnosis = diagnose("/bin/rm: Argument list too long")
    assert not diagnosis.known
    assert diagnosis.question is None
    assert [n.node for n in diagnosis.not_covered] == ["shell-glob-too-many-files"]


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("Bus error (core dumped)", "bus-error"),
        ("バスエラー (コアダンプ)", "bus-error"),
        ("Argument list too long", "argument-list-too-long"),
        ("参数列表过长", "argument-list-too-long"),
        ("fork: Cannot allocate memory", "cannot-allocate-memory"),
        ("Reason: ProviderFailed", "virtual-node-provider-failed"),
        ("ls: cannot access 'html': Stale file handle", "stale-file-handle"),
    ],
)
def test_it_asks_the_question_that_separates_causes(text, question):
    diagnosis = diagnose(text)
    assert not diagnosis.known
    assert diagnosis.question is not None and diagnosis.question.node == question
    assert len(diagnosis.question.options) >= 2


@pytest.mark.parametrize(
    ("text", "node"),
    [
        (
            "Argument list too long\n/docker-entrypoint.d/ is not empty",
            "service-links-env-too-long",
        ),
        ("php-fpm: Bus error (core dumped)\nopcache.huge_code_pages=1", "hugepages-not-requested"),
        ("httpd DocumentRoot on nfs\nBus error (core dumped)", "network-docroot-mmap-sendfile"),
        ("mmap: メモリを確保できません\nhugepages", "opcache-hugepages-unavailable"),
    ],
)
def test_it_answers_the_question_from_context_words(text, node):
    diagnosis = diagnose(text)
    assert diagnosis.question is None
    assert [m.node for m in diagnosis.matches] == [node]
    assert diagnosis.matches[0].via_question


def test_it_still_asks_when_the_context_fits_several_answers():
    diagnosis = diagnose(
        "opcache.huge_code_pages=1, docroot on an nfs share: Bus error (core dumped)"
    )
    assert diagnosis.question is not None and diagnosis.question.node == "bus-error"


def test_it_asks_when_only_php_is_mentioned():
    # PHP behind httpd on a network docroot dies with the same signal as PHP on huge pages.
    diagnosis = diagnose("starting php-fpm\nBus error (core dumped)")
    assert not diagnosis.matches
    assert diagnosis.question is not None and diagnosis.question.node == "bus-error"


def test_it_finds_the_cause_in_a_describe_output_and_ranks_specific_first():
    describe = """Name:         web-7d9f8c6b5-x2k4q
Status:       Pending
Reason:       ProviderFailed
Events:
  Type     Reason                Age   From                                Message
  ----     ------                ----  ----                                -------
  Normal   Scheduled             98s   default-scheduler                   Successfully assigned default/web-7d9f8c6b5-x2k4q to virtual-node-aci-linux
  Warning  ProviderCreateFailed  11s (x14 over 98s)  virtual-node-aci-linux/pod-controller  pod web-7d9f8c6b5-x2k4q requires volume data which is of an unsupported type
"""
    diagnosis = diagnose(describe)
    assert nodes(describe) == ["virtual-node-pvc-unsupported"]
    assert diagnosis.question is None  # the PVC answer is already among the matches


def test_it_orders_matches_best_first():
    text = "0/3 nodes are available: 3 Too many pods.\n" + ENVSUBST
    confidences = [m.confidence for m in diagnose(text).matches]
    assert len(confidences) == 2 and confidences == sorted(confidences, reverse=True)
