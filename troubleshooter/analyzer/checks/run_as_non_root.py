"""Contradictions in a container's effective securityContext around running as non-root.

**What it finds.** Only settings that contradict each other, never a missing
securityContext. The effective value of `runAsUser` and `runAsNonRoot` is the container's,
falling back to the pod's `spec.securityContext` (the container wins, as in Kubernetes);
`privileged`, `allowPrivilegeEscalation` and `capabilities` exist only on the container.
Init containers count; Windows pods (`spec.os.name: windows`) are skipped.

* **error** `runAsNonRoot: true` with an effective `runAsUser: 0`, on the `runAsUser` line:
  the API server accepts the pod, then the kubelet refuses to start the container with
  `container's runAsUser breaks non-root policy` (CreateContainerConfigError).
* **error** `privileged: true` on a container meant to run as non-root (`runAsNonRoot: true`
  or a `runAsUser` above 0), on the `privileged` line: a privileged container keeps the full
  capability bounding set, sees every host device, runs without seccomp or AppArmor
  confinement and can never get `no_new_privs`, so any setuid-root binary or file capability
  in the image gives full root on the node. The non-root setting does not contain it.
* **error** `allowPrivilegeEscalation: false` with `privileged: true` or with `CAP_SYS_ADMIN`
  in `capabilities.add`, on the `allowPrivilegeEscalation` line: the API server rejects the
  object (``cannot set `allowPrivilegeEscalation` to false and `privileged` to true``).
  Validation matches the literal `CAP_SYS_ADMIN`; `SYS_ADMIN` passes and is not reported.

When several containers inherit the same pod-level field, one finding names them all.

**How to fix it.** A numeric non-root user that is consistent everywhere::

    securityContext:          # pod
      runAsNonRoot: true
      runAsUser: 33
      runAsGroup: 33
    containers:
      - name: php
        securityContext:
          privileged: false
          allowPrivilegeEscalation: false
          capabilities:
            drop: ["ALL"]

A container that truly needs root or `privileged` should say so (`runAsNonRoot: false`,
`runAsUser: 0`) in its own securityContext rather than inherit a non-root pod setting.

**Suppressing.** `kb.troubleshooter/ignore: "run-as-non-root: <reason>"` on the workload, or
`# kb-ignore: run-as-non-root <reason>` above the reported line.

**Reads.** Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (jobTemplate)
and ReplicationController pod templates, also inside List objects and Helm or kustomize output;
every container: app, init, restartable sidecar and ephemeral (kubectl debug); pod and
container securityContext.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from troubleshooter.analyzer.messages import say
from troubleshooter.analyzer.model import Container, Model, Workload
from troubleshooter.analyzer.results import Finding
from troubleshooter.analyzer.tree import Map, Scalar

ID = "run-as-non-root"
TITLE = "Contradictory non-root securityContext settings"
SEVERITY = "error"
ARTICLE = "run-as-non-root"

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
      securityContext:
        runAsNonRoot: true
      containers:
        - name: php
          image: php:8.3-fpm
          securityContext:
            runAsUser: 0
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
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 33
        runAsGroup: 33
      containers:
        - name: php
          image: php:8.3-fpm
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: ["ALL"]
"""

_HARDENED = (
    "securityContext:\n"
    "  runAsNonRoot: true\n"
    "  runAsUser: 33          # a numeric non-root UID the image's files allow\n"
    "  runAsGroup: 33\n"
    "  privileged: false\n"
    "  allowPrivilegeEscalation: false\n"
    "  capabilities:\n"
    '    drop: ["ALL"]\n'
)


# The finding messages (translations: docs/<ID>.<lang>.messages.yaml): which containers, then
# the contradiction.
MESSAGES = {
    "container": "Container {names}:",
    "containers": "Containers {names}:",
    "root-user": (
        "runAsNonRoot: true, but the effective runAsUser is 0: the kubelet refuses to start"
        " the container with `container's runAsUser breaks non-root policy`"
        " (CreateContainerConfigError)."
    ),
    "privileged-non-root": (
        "privileged: true on a container meant to run as non-root: it keeps the full"
        " capability bounding set, every host device and no seccomp/AppArmor confinement,"
        " and cannot get no_new_privs, so any setuid-root binary or file capability in the"
        " image is root on the node. The non-root setting does not contain it."
    ),
    "no-escalation-privileged": (
        "allowPrivilegeEscalation: false with privileged: true: the API server rejects"
        " the object (cannot set `allowPrivilegeEscalation` to false and `privileged` to"
        " true); a privileged container can always escalate."
    ),
    "no-escalation-sys-admin": (
        "allowPrivilegeEscalation: false with CAP_SYS_ADMIN added: the API server rejects"
        " the object (cannot set `allowPrivilegeEscalation` to false and"
        " `capabilities.Add` CAP_SYS_ADMIN); with CAP_SYS_ADMIN escalation is always"
        " possible."
    ),
}


@dataclass
class _Pending:
    """A finding being collected; containers sharing a pod-level field are merged."""

    severity: str
    node: Scalar
    message: str  # a MESSAGES key
    fix: str
    containers: list[str] = field(default_factory=list)


def _effective(pod: Map | None, container: Map | None, key: str) -> Scalar | None:
    """The container's scalar for a key, else the pod's (null values do not override)."""
    for context in (container, pod):
        if context is None:
            continue
        node = context.scalar(key)
        if node is not None and node.value is not None:
            return node
    return None


def _user(node: Scalar | None) -> int | None:
    if node is None or isinstance(node.value, bool) or not isinstance(node.value, int):
        return None
    return node.value


def _true(node: Scalar | None) -> bool:
    return node is not None and node.value is True


def _sys_admin(context: Map | None) -> Scalar | None:
    if context is None:
        return None
    added = context.seq("capabilities", "add")
    for item in added.value if added is not None else []:
        if isinstance(item, Scalar) and item.value == "CAP_SYS_ADMIN":
            return item
    return None


def _container_findings(workload: Workload, container: Container) -> Iterator[_Pending]:
    pod = workload.spec.map("securityContext")
    own = container.node.map("securityContext")
    non_root = _effective(pod, own, "runAsNonRoot")
    user_node = _effective(pod, own, "runAsUser")
    user = _user(user_node)
    privileged = own.scalar("privileged") if own is not None else None
    escalation = own.scalar("allowPrivilegeEscalation") if own is not None else None
    wants_non_root = _true(non_root) or (user is not None and user > 0)

    if _true(non_root) and user == 0 and user_node is not None:
        yield _Pending(
            "error",
            user_node,
            "root-user",
            _HARDENED,
        )
    if _true(privileged) and wants_non_root:
        yield _Pending(
            "error",
            privileged,
            "privileged-non-root",
            _HARDENED,
        )
    if escalation is not None and escalation.value is False:
        if _true(privileged):
            yield _Pending(
                "error",
                escalation,
                "no-escalation-privileged",
                "securityContext:\n  privileged: false\n  allowPrivilegeEscalation: false\n"
                "# or, if it must be privileged, drop allowPrivilegeEscalation: false\n",
            )
        if _sys_admin(own) is not None:
            yield _Pending(
                "error",
                escalation,
                "no-escalation-sys-admin",
                "securityContext:\n  allowPrivilegeEscalation: false\n  capabilities:\n"
                '    drop: ["ALL"]     # and add only what is needed, without CAP_SYS_ADMIN\n',
            )


def check(model: Model) -> Iterator[Finding]:
    """Yield findings for contradictory non-root settings per container."""
    for workload in model.workloads:
        if workload.spec.str("os", "name") == "windows":
            continue
        pending: dict[tuple[str, int, int], _Pending] = {}
        for index, container in enumerate(workload.containers()):
            name = container.name or f"#{index + 1}"
            for item in _container_findings(workload, container):
                key = (item.message, item.node.line, item.node.column)
                pending.setdefault(key, item).containers.append(name)
        for item in pending.values():
            names = ", ".join(item.containers)
            label = "containers" if len(item.containers) > 1 else "container"
            yield Finding(
                check=ID,
                severity=item.severity,
                article=ARTICLE,
                object=workload.ref,
                line=item.node.line,
                column=item.node.column,
                fix=item.fix,
                **say(MESSAGES, label, item.message, names=names),
            )
