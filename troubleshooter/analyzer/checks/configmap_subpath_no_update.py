"""ConfigMap or Secret files mounted with subPath, with nothing to roll the pods when they change.

**What it finds.** A container of a Deployment, StatefulSet, DaemonSet, ReplicaSet or
ReplicationController that mounts a `configMap`, `secret`, or `projected` volume (with a
ConfigMap or Secret source) using `subPath` or `subPathExpr`, when nothing in the paste makes a
configuration change roll the pods:

* no pod-template annotation whose key mentions a checksum or hash (`checksum/config`,
  `config-hash`, `configHash`), a config version (`config-version`), a ConfigMap
  (`configmap-...`), or `kubectl.kubernetes.io/restartedAt`;
* no Reloader (`reloader.stakater.com/auto`, `configmap.reloader.stakater.com/reload`, ...)
  or Wave (`wave.pusher.com/update-on-config-change`) annotation on the workload;
* the referenced ConfigMap or Secret is not `immutable: true` in the paste and does not carry a
  versioned name (a Kustomize hash suffix such as `-7g8h9k2m5t`, or `-v7`): with those, a
  change means a new name in the pod template, which rolls the pods.

The finding is a **warning** on the `subPath` line. Not reported: whole-directory mounts
(they are refreshed), `subPath` on emptyDir, PVC or other volumes, init containers (they run
once per pod anyway), files under /docker-entrypoint-initdb.d (database images run them once,
on an empty data directory, so a rollout would not run them again), and bare Pods, Jobs and
CronJobs: those are never rolled, so any change needs new pods whatever the mount looks like.

**Why it matters.** The kubelet publishes ConfigMap and Secret volumes through a `..data`
symlink that it swaps atomically on every update. A whole-volume mount follows the symlink on
each open and sees new content within about a minute. A `subPath` mount is a bind mount of the
single file resolved when the container started: it pins the old inode, so the container keeps
reading the old content until it is recreated. `kubectl apply` of the ConfigMap succeeds and
nothing changes; only pods created later get the new file.

**How to fix it.** Roll the pods when the configuration changes, with a hash of it in the pod
template (Helm: `{{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}`)::

    spec:
      template:
        metadata:
          annotations:
            checksum/config: "<sha256 of the ConfigMap>"

or use immutable ConfigMaps with a versioned name (Kustomize's `configMapGenerator` does it),
or mount the whole ConfigMap as a directory and have the process reload.

**Suppressing.** `kb.troubleshooter/ignore: "configmap-subpath-no-update: <reason>"` on the
workload, or `# kb-ignore: configmap-subpath-no-update <reason>` above the `subPath` line.

**Reads.** Deployment, StatefulSet, DaemonSet, ReplicaSet and ReplicationController pod
templates (also inside List objects and Helm or kustomize output); app containers, restartable
sidecars and ephemeral containers; `configMap`, `secret` and `projected` volumes; the pod
template's and the workload's annotations; the ConfigMaps and Secrets in the paste.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from troubleshooter.analyzer.checks._common import key_position
from troubleshooter.analyzer.messages import say
from troubleshooter.analyzer.model import Container, Model, Mount, Workload
from troubleshooter.analyzer.results import Finding
from troubleshooter.analyzer.tree import Map

ID = "configmap-subpath-no-update"
TITLE = "ConfigMap/Secret subPath mount never updates and nothing rolls the pods"
SEVERITY = "warning"
ARTICLE = "configmap-subpath-no-update"

FAILING_EXAMPLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
          volumeMounts:
            - name: nginx-conf
              mountPath: /etc/nginx/conf.d/default.conf
              subPath: default.conf
      volumes:
        - name: nginx-conf
          configMap:
            name: nginx-conf
"""

PASSING_EXAMPLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
      annotations:
        checksum/nginx-conf: "9f2c4e0d6b1a7c3e5f8a2b4d6c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e"
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
          volumeMounts:
            - name: nginx-conf
              mountPath: /etc/nginx/conf.d/default.conf
              subPath: default.conf
      volumes:
        - name: nginx-conf
          configMap:
            name: nginx-conf
"""

# Kinds whose pods are replaced by a rollout when the pod template changes.
ROLLED_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}
)
# Pod-template annotation keys (lower-cased substrings) that tie the template to the config.
TRIGGER_KEY_PARTS = (
    "checksum",
    "hash",
    "config-version",
    "configversion",
    "configmap",
    "restartedat",
)
# Controllers that roll workloads when a referenced ConfigMap or Secret changes.
RELOADER_DOMAIN = "reloader.stakater.com/"
WAVE_ANNOTATION = "wave.pusher.com/update-on-config-change"
# Kustomize's name suffix: 10 characters of a hash, with 0, 1, 3, a and e remapped.
_VERSIONED_NAME = re.compile(r"-(?:[2456789bcdfghkmt]{10}|v\d+(?:[.-]\d+)*)$")


def _keys(annotations: Map | None) -> list[str]:
    return [] if annotations is None else list(annotations.value)


def _has_rollout_trigger(workload: Workload) -> bool:
    template = workload.template_metadata.map("annotations") if workload.template_metadata else None
    for key in _keys(template):
        if any(part in key.lower() for part in TRIGGER_KEY_PARTS):
            return True
    annotations = workload.obj.annotations
    for key in _keys(annotations):
        assert annotations is not None
        if (RELOADER_DOMAIN in key or key == WAVE_ANNOTATION) and (
            (annotations.str(key) or "").lower() != "false"
        ):
            return True
    return False


def _sources(volume: Map) -> list[tuple[str, str | None]]:
    """The (kind, name) of ConfigMaps and Secrets behind a volume."""
    result: list[tuple[str, str | None]] = []
    if (cm := volume.map("configMap")) is not None:
        result.append(("ConfigMap", cm.str("name")))
    if (secret := volume.map("secret")) is not None:
        result.append(("Secret", secret.str("secretName")))
    for source in volume.maps("projected", "sources"):
        if (cm := source.map("configMap")) is not None:
            result.append(("ConfigMap", cm.str("name")))
        if (secret := source.map("secret")) is not None:
            result.append(("Secret", secret.str("name")))
    return result


def _versioned(model: Model, namespace: str, kind: str, name: str | None) -> bool:
    """True when a change to this object needs a new name (immutable or versioned)."""
    if not name:
        return False
    obj = model.get(kind, namespace, name)
    if obj is not None and obj.node.bool("immutable") is True:
        return True
    return bool(_VERSIONED_NAME.search(name))


def _sub_path_key(mount: Mount) -> str | None:
    for key in ("subPath", "subPathExpr"):
        if mount.node.str(key):
            return key
    return None


def _fix(names: list[str]) -> str:
    label = ", ".join(names) or "the ConfigMap"
    return (
        "spec:\n"
        "  template:\n"
        "    metadata:\n"
        "      annotations:\n"
        f'        checksum/config: "<sha256 of {label}>"\n'
        "        # Helm: checksum/config: {{ include (print $.Template.BasePath"
        ' "/configmap.yaml") . | sha256sum }}\n'
        "# or mount the volume as a directory (no subPath) and reload the process on change\n"
    )


# Files a database image reads once, when it initialises an empty data directory: neither an
# update nor a rollout makes it read them again, so a stale copy changes nothing.
# (postgres, mysql, mariadb and mongo images: docker-entrypoint.sh runs /docker-entrypoint-initdb.d)
READ_ONCE_DIRS = ("/docker-entrypoint-initdb.d",)


def _read_once(path: str) -> bool:
    normal = posixpath.normpath(path)
    return any(normal == root or normal.startswith(root + "/") for root in READ_ONCE_DIRS)


# The finding messages (translations: docs/configmap-subpath-no-update.<lang>.messages.yaml).
MESSAGES = {
    "frozen-file": (
        "Container {container} mounts {sources} at {path} with {key}: a subPath mount is a bind"
        " mount of the file as it was when the container started and never receives updates,"
        " and the pod template has no checksum annotation (nor an immutable, versioned name)"
        " to roll the pods. After an edit, only pods created later see the change."
    ),
}


def _check_container(model: Model, workload: Workload, container: Container) -> Iterator[Finding]:
    volumes = workload.volumes()
    for mount in container.mounts():
        key = _sub_path_key(mount)
        volume = volumes.get(mount.name)
        if key is None or volume is None or _read_once(mount.mount_path):
            continue
        sources = _sources(volume.node)
        changing = [
            (kind, name)
            for kind, name in sources
            if not _versioned(model, workload.namespace, kind, name)
        ]
        if not changing:
            continue
        described = ", ".join(f"{kind} {name or '?'}" for kind, name in changing)
        line, column = key_position(mount.node, key)
        yield Finding(
            check=ID,
            severity="warning",
            article=ARTICLE,
            object=workload.ref,
            line=line,
            column=column,
            fix=_fix([name for _, name in changing if name]),
            **say(
                MESSAGES,
                "frozen-file",
                container=repr(container.name or "?"),
                sources=described,
                path=mount.mount_path,
                key=key,
            ),
        )


def check(model: Model) -> Iterator[Finding]:
    """Yield a finding per ConfigMap/Secret subPath mount that no rollout will refresh."""
    for workload in model.workloads:
        if workload.obj.kind not in ROLLED_KINDS or _has_rollout_trigger(workload):
            continue
        for container in workload.containers(init=False):
            yield from _check_container(model, workload, container)
