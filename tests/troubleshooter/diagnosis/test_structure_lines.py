"""evidence.structure_lines: the pasted structure around a report (a manifest, `kubectl
describe` output, a `kubectl get` table, a command after a prompt).

Such a line is read only when it names one of the articles' mechanisms (subPath, an NFS
server, externalTrafficPolicy); the rest ("replicas: 2", "cpu: 500m", a pod's name) is in
every paste and points nowhere. tests/troubleshooter/diagnosis/test_diagnose.py measures
what that does to the articles' reports.
"""

from troubleshooter.diagnosis.evidence import prepare, structure_lines

MANIFEST = """\
The pod keeps the old nginx.conf after I edit the ConfigMap.
apiVersion: apps/v1
kind: Deployment
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: registry.example.com/team/web:1.4.2
          volumeMounts:
            - name: conf
              mountPath: /etc/nginx/nginx.conf
              subPath: nginx.conf
          resources:
            limits:
              cpu: 500m"""


def marked(text: str) -> list[str]:
    prepared = prepare(text)
    lines = [line.lower() for line in prepared.originals]
    return [prepared.originals[i] for i in sorted(structure_lines(prepared.originals, lines))]


def test_a_manifest_is_structure_and_the_sentence_before_it_is_not():
    found = marked(MANIFEST)
    assert (
        "apiVersion: apps/v1" in found and "cpu: 500m" in found and "subPath: nginx.conf" in found
    )
    assert "The pod keeps the old nginx.conf after I edit the ConfigMap." not in found


def test_only_the_structure_that_names_a_mechanism_is_read():
    keep = lambda line: "subpath" in line or "nginx" in line  # noqa: E731 - the articles' terms stand-in
    prepared = prepare(MANIFEST, keep=keep)
    read = [o for o, low in zip(prepared.originals, prepared.lowered_lines, strict=True) if low]
    assert read == [
        "The pod keeps the old nginx.conf after I edit the ConfigMap.",
        "mountPath: /etc/nginx/nginx.conf",
        "subPath: nginx.conf",
    ]
    # Every line keeps its place and number in the paste.
    assert len(prepared.originals) == len(MANIFEST.splitlines())


def test_a_paste_that_is_only_structure_is_read_whole():
    fragment = (
        "volumeMounts:\n  - name: my-config\n    mountPath: /app/config.json\n"
        "    subPath: config.json"
    )
    prepared = prepare(fragment, keep=lambda line: False)
    assert all(prepared.lowered_lines)


def test_a_kubectl_table_and_its_prompt_are_structure_but_a_row_with_an_error_is_read():
    text = (
        "$ kubectl get pods -n shop\n"
        "NAME                   READY   STATUS             RESTARTS   AGE\n"
        "web-6d8f7c9b5d-x2k4q   0/1     CrashLoopBackOff   5          4m\n"
        "api-5c7d8f6b4-qw9rt    1/1     Running            0          4m\n"
        "the web pod crashes at start"
    )
    assert marked(text) == [
        "$ kubectl get pods -n shop",
        "NAME                   READY   STATUS             RESTARTS   AGE",
        "api-5c7d8f6b4-qw9rt    1/1     Running            0          4m",
    ]


def test_a_rows_names_are_not_read_unless_they_name_a_mechanism():
    """The status of a row with an error is read; the pod's name and namespace are the
    user's, except where one names a mechanism (a pod called php-fpm)."""
    text = (
        "$ kubectl get pods -A\n"
        "NAMESPACE   NAME                          READY   STATUS             RESTARTS   AGE\n"
        "shop        billing-api-7f9c6d8b4-kq2zt   0/1     CrashLoopBackOff   5          4m\n"
        "shop        php-fpm-5c7d8f6b4-qw9rt       0/1     Error              2          4m\n"
        "\n"
        "NAME          READY   STATUS    RESTARTS   AGE\n"
        "web-0         0/1     Pending   0          9m\n"
        "nothing here, and this is no row"
    )
    prepared = prepare(text, keep=lambda line: "php" in line)
    assert prepared.lowered_lines[2] == "0/1  crashloopbackoff  5  4m"
    assert prepared.lowered_lines[3] == prepared.originals[3].lower()
    assert prepared.lowered_lines[5] == "0/1  pending  0  9m"
    assert prepared.lowered_lines[6] == "nothing here, and this is no row"
    # The lines are shown as pasted.
    assert prepared.originals[2].startswith("shop        billing-api-7f9c6d8b4-kq2zt")
    # Without the articles' terms (search's own reading), nothing is taken out.
    assert "billing" in prepare(text).lowered_lines[2]


def test_a_sentence_or_two_with_a_colon_and_log_lines_are_not_structure():
    text = (
        "Note: the share is mounted from the NAS.\n"
        "Update: it happens on every node.\n"
        "nginx: [emerg] bind() to 0.0.0.0:80 failed (13: Permission denied)\n"
        "Error: failed to start container"
    )
    assert marked(text) == []


def test_an_error_line_inside_a_manifest_block_is_read():
    text = (
        "status:\n  hostIP: 10.0.0.4\n  message: mount failed: exit status 32\n"
        "  podIP: 10.244.1.7\n  qosClass: Burstable"
    )
    assert marked(text) == [
        "status:",
        "hostIP: 10.0.0.4",
        "podIP: 10.244.1.7",
        "qosClass: Burstable",
    ]


def test_a_compose_files_lists_and_a_dockerfiles_instructions_are_structure():
    text = (
        "the app cannot reach the database\n"
        'services:\n  app:\n    ports:\n      - "8000:8000"\n    environment:\n'
        "      - DATABASE_URL=postgres://app:secret@db:5432/app\n"
        "FROM php:8.3-fpm\nUSER www-data\nRUN docker-php-ext-install opcache\n"
        "- the upload then fails"
    )
    found = marked(text)
    assert found[0] == "services:" and "- DATABASE_URL=postgres://app:secret@db:5432/app" in found
    assert "USER www-data" in found and "RUN docker-php-ext-install opcache" in found
    # A list item alone is no block; after one, an error line is still read.
    assert "the app cannot reach the database" not in found
    assert "- the upload then fails" not in found


def test_a_url_in_a_line_of_structure_names_no_mechanism():
    """A database URL with "secret" as its password names no Secret."""
    from pathlib import Path

    from troubleshooter.diagnosis import get_tree, load_articles_dir
    from troubleshooter.diagnosis.knowledge import neighbours_of
    from troubleshooter.diagnosis.model import index_for

    articles = Path(__file__).resolve().parents[3] / "articles"
    index = index_for(load_articles_dir(articles), neighbours_of(get_tree()))
    assert not index.names_mechanism("- database_url=postgres://app:secret@db:5432/app")
    assert index.names_mechanism("- secret_key_ref: db-password")
    assert index.names_mechanism("subpath: nginx.conf")
