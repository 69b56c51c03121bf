"""NFS and EFS volumes mounted with options that lose data or hang after a network blip.

**What it finds.**

* A PersistentVolume (an `nfs:` source, or CSI driver `efs.csi.aws.com` / `nfs.csi.k8s.io`) or
  a StorageClass (provisioner `efs.csi.aws.com`, `nfs.csi.k8s.io`, or one with `nfs` in its
  name such as nfs-subdir-external-provisioner) whose `mountOptions` end up `soft` (or
  `softerr`): an **error** on that list item. When both `hard` and `soft` are listed, the last
  one wins, as in mount(8); a `soft` overridden by a later `hard` is not reported.
* For Amazon EFS (CSI driver `efs.csi.aws.com`, or an NFS server named
  `*.efs.<region>.amazonaws.com`), **warnings** for `timeo` below 150 (15 s), `retrans` below 2,
  and `nfsvers`/`vers` 2 or 3 (EFS speaks only NFSv4.0 and 4.1, so such a mount fails).
* A plain `nfs:` PersistentVolume (or an `nfs.csi.k8s.io` one) whose server is an EFS endpoint
  and whose options lack `noresvport`, including one without any `mountOptions`: a
  **warning**. The EFS CSI driver mounts through efs-utils, which adds `noresvport` itself, so
  it is never reported for `efs.csi.aws.com`; that driver also encrypts in transit by default
  (a `tls` mount option is redundant and only logs a deprecation warning).
* An inline `nfs:` volume in a pod template whose server is an EFS endpoint: a **warning**, as
  an inline NFS volume has only `server`, `path` and `readOnly` and cannot carry any option.

Deliberately not reported: a missing `hard` (it is the Linux default, nfs(5)); plain NFS
servers without `mountOptions` or with an inline volume (the kernel defaults `hard`,
`timeo=600`, `retrans=2` over TCP are sound); small `rsize`/`wsize` (a performance choice).

**Why it matters.** nfs(5) warns that `soft` can cause silent data corruption: after `retrans`
retransmissions the call fails with EIO, possibly after part of a write reached the server,
and applications rarely check every write. `timeo` is in tenths of a second; AWS recommends
`timeo=600` (60 s) and `retrans=2`, and tiny values cause spurious retransmissions under load.
Without `noresvport` the client reconnects from the same privileged source port after a
network event, and the reconnect can stall; AWS recommends it for every EFS mount.

**How to fix it.** Use the EFS CSI driver, or put AWS's recommended set on the PV (or the
StorageClass) and claim it by name::

    mountOptions:
      - nfsvers=4.1
      - rsize=1048576
      - wsize=1048576
      - hard
      - timeo=600
      - retrans=2
      - noresvport

Check what is in effect with `grep nfs /proc/mounts` inside the pod.

**Suppressing.** `kb.troubleshooter/ignore: "nfs-efs-mount-options: <reason>"` on the
PersistentVolume, StorageClass or workload, or `# kb-ignore: nfs-efs-mount-options <reason>`
on the line above the option.

**Reads.** PersistentVolumes, StorageClasses, and inline `nfs` volumes of Pod, Deployment,
ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (jobTemplate) and ReplicationController pod
templates, also inside List objects and Helm or kustomize output.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from troubleshooter.analyzer.checks._common import key_position
from troubleshooter.analyzer.messages import Phrase, say
from troubleshooter.analyzer.model import K8sObject, Model, network_provisioner
from troubleshooter.analyzer.results import Finding, ObjectRef, quick_init
from troubleshooter.analyzer.tree import Map, Scalar

ID = "nfs-efs-mount-options"
TITLE = "NFS/EFS mount options that can corrupt data or stall reconnects"
SEVERITY = "error"
ARTICLE = "nfs-efs-mount-options"

FAILING_EXAMPLE = """\
apiVersion: v1
kind: PersistentVolume
metadata:
  name: shared-data
spec:
  capacity:
    storage: 100Gi
  accessModes: [ReadWriteMany]
  mountOptions:
    - nfsvers=4.1
    - soft
    - timeo=30
  nfs:
    server: fs-0123456789abcdef0.efs.us-east-1.amazonaws.com
    path: /
"""

PASSING_EXAMPLE = """\
apiVersion: v1
kind: PersistentVolume
metadata:
  name: shared-data
spec:
  capacity:
    storage: 100Gi
  accessModes: [ReadWriteMany]
  mountOptions:
    - nfsvers=4.1
    - rsize=1048576
    - wsize=1048576
    - hard
    - timeo=600
    - retrans=2
    - noresvport
  nfs:
    server: fs-0123456789abcdef0.efs.us-east-1.amazonaws.com
    path: /
"""

EFS_DRIVER = "efs.csi.aws.com"
NFS_CSI_DRIVER = "nfs.csi.k8s.io"
# fs-<id>.efs.<region>.amazonaws.com, and the per-AZ <az>.fs-<id>.efs.<region>.amazonaws.com;
# China regions end in amazonaws.com.cn.
_EFS_HOST = re.compile(r"(?:^|\.)efs\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\.?$", re.IGNORECASE)
# AWS's recommendation (EFS User Guide, "Recommended NFS mount settings").
RECOMMENDED = (
    "nfsvers=4.1",
    "rsize=1048576",
    "wsize=1048576",
    "hard",
    "timeo=600",
    "retrans=2",
    "noresvport",
)
MIN_EFS_TIMEO = 150  # tenths of a second: 15 s, a quarter of the recommended 60 s
MIN_EFS_RETRANS = 2


def is_efs_host(server: str | None) -> bool:
    """True for an Amazon EFS mount target DNS name."""
    return bool(server) and bool(_EFS_HOST.search(server.strip()))


@quick_init
@dataclass(frozen=True)
class _Option:
    """One mount option (`name` lower-cased, `value` after `=`) and the list item it came from."""

    name: str
    value: str | None
    node: Scalar


@quick_init
@dataclass(frozen=True)
class _Target:
    """A PV or StorageClass that mounts NFS, with what we know about its server."""

    obj: K8sObject
    holder: Map  # the mapping holding `mountOptions` (PV spec, or StorageClass root)
    described: Phrase  # how it mounts: a `target-*` MESSAGES key and its values
    efs: bool
    efs_utils: bool  # mounted by efs-utils (the EFS CSI driver), which adds noresvport
    source_key: tuple[Map, str] | None  # where to point when mountOptions are missing


def _options(holder: Map) -> list[_Option] | None:
    """Parse `mountOptions` items (each may hold several comma-separated options)."""
    seq = holder.seq("mountOptions")
    if seq is None:
        return None
    options = []
    for item in seq.value:
        if not isinstance(item, Scalar) or item.value is None:
            continue
        for part in item.raw.split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, value = part.partition("=")
            options.append(_Option(name.strip().lower(), value.strip() if sep else None, item))
    return options


def _targets(model: Model) -> Iterator[_Target]:
    for pv in model.of_kind("PersistentVolume"):
        spec = pv.node.map("spec")
        if spec is None:
            continue
        if (nfs := spec.map("nfs")) is not None:
            server = nfs.str("server")
            yield _Target(
                pv,
                spec,
                Phrase("target-nfs-server", {"server": server or "?"}),
                is_efs_host(server),
                False,
                (spec, "nfs"),
            )
            continue
        csi = spec.map("csi")
        driver = csi.str("driver") if csi is not None else None
        if csi is not None and driver == EFS_DRIVER:
            yield _Target(pv, spec, Phrase("target-csi", {"driver": driver}), True, True, None)
        elif csi is not None and driver == NFS_CSI_DRIVER:
            server = csi.str("volumeAttributes", "server")
            yield _Target(
                pv,
                spec,
                Phrase("target-csi-server", {"driver": driver, "server": server or "?"}),
                is_efs_host(server),
                False,
                (spec, "csi"),
            )
    for sc in model.of_kind("StorageClass"):
        provisioner = sc.node.str("provisioner") or ""
        if provisioner == EFS_DRIVER:
            described = Phrase("target-provisioner", {"provisioner": provisioner})
            yield _Target(sc, sc.node, described, True, True, None)
        elif provisioner == NFS_CSI_DRIVER or network_provisioner(provisioner) == "NFS":
            server = sc.node.str("parameters", "server")
            yield _Target(
                sc,
                sc.node,
                Phrase("target-provisioner", {"provisioner": provisioner}),
                is_efs_host(server),
                False,
                (sc.node, "provisioner") if server else None,
            )


def _recommended_snippet() -> str:
    return "mountOptions:\n" + "".join(f"  - {option}\n" for option in RECOMMENDED)


# The finding messages (translations: docs/<ID>.<lang>.messages.yaml). {target} names the
# object and where it mounts from ("PersistentVolume data (NFS server 10.0.0.5)"), said from
# the `target-*` templates.
MESSAGES = {
    "target-nfs-server": "{object} (NFS server {server})",
    "target-csi": "{object} (CSI driver {driver})",
    "target-csi-server": "{object} (CSI driver {driver} (server {server}))",
    "target-provisioner": "{object} (provisioner {provisioner})",
    "soft": (
        "{target} is mounted `{option}`: after `retrans` retries the NFS client fails the call"
        " with EIO, and nfs(5) warns this can silently corrupt data (a write the application"
        " thinks succeeded may be partly lost). Use `hard`, the default."
    ),
    "no-resvport-missing": (
        "{target} is an Amazon EFS mount and its mountOptions lack `noresvport`:"
    ),
    "no-mount-options": (
        "{target} is an Amazon EFS mount and it has no mountOptions, so the kernel defaults"
        " apply, without `noresvport`:"
    ),
    "same-port-hangs": (
        "after a network event the client reconnects from the same privileged port and the"
        " mount can hang. AWS recommends noresvport (with hard, timeo=600, retrans=2) for EFS."
    ),
    "short-timeo": (
        "{target} sets timeo={timeo}, {seconds} s before the first retransmission (timeo is in"
        " tenths of a second). AWS recommends timeo=600 (60 s) for EFS; short timeouts cause"
        " spurious retransmissions under load."
    ),
    "few-retrans": (
        "{target} sets retrans={retrans}; AWS recommends retrans=2 for EFS, so the client"
        " retries before reporting the server as not responding."
    ),
    "old-version": (
        "{target} asks for NFS version {version}, but Amazon EFS speaks only NFSv4.0 and 4.1:"
        " the mount fails. AWS recommends nfsvers=4.1."
    ),
    "inline-efs": (
        "Volume {volume} mounts Amazon EFS ({server}) inline: an inline nfs volume cannot"
        " carry mount options, so it gets kernel defaults without noresvport and hangs after"
        " network events. Use a PersistentVolume with mountOptions or the EFS CSI driver"
        " (efs.csi.aws.com)."
    ),
}


def _finding(ref: ObjectRef, severity: str, where: tuple[int, int], message: dict, fix: str):
    return Finding(
        check=ID,
        severity=severity,
        article=ARTICLE,
        object=ref,
        line=where[0],
        column=where[1],
        fix=fix,
        **message,
    )


def _int(value: str | None) -> int | None:
    """A mount option's number: ASCII digits only (mount(8) reads no others), at most 18."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 18:
        return None
    return int(value)


def _check_target(target: _Target) -> Iterator[Finding]:
    obj = target.obj
    described = target.described
    label = Phrase(described.key, {"object": f"{obj.kind} {obj.name or '?'}", **described.args})
    options = _options(target.holder)
    if options:
        # mount(8) applies options left to right: the last of hard/soft/softerr wins.
        mode = [option for option in options if option.name in ("hard", "soft", "softerr")]
        if mode and mode[-1].name != "hard":
            soft = mode[-1]
            yield _finding(
                obj.ref,
                "error",
                (soft.node.line, soft.node.column),
                say(MESSAGES, "soft", target=label, option=soft.name),
                _recommended_snippet() if target.efs else "mountOptions:\n  - hard\n",
            )
        if target.efs:
            yield from _check_efs_values(target, label, options)
    if target.efs and not target.efs_utils:
        names = {option.name for option in options or ()}
        if "noresvport" not in names:
            seq = target.holder.seq("mountOptions")
            if seq is not None:
                where = key_position(target.holder, "mountOptions")
                said = "no-resvport-missing"
            elif target.source_key is not None:
                where = key_position(*target.source_key)
                said = "no-mount-options"
            else:
                return
            yield _finding(
                obj.ref,
                "warning",
                where,
                say(MESSAGES, said, "same-port-hangs", target=label),
                _recommended_snippet(),
            )


def _check_efs_values(target: _Target, label: str, options: list[_Option]) -> Iterator[Finding]:
    ref = target.obj.ref
    for option in options:
        number = _int(option.value)
        where = (option.node.line, option.node.column)
        if option.name == "timeo" and number is not None and number < MIN_EFS_TIMEO:
            yield _finding(
                ref,
                "warning",
                where,
                say(
                    MESSAGES, "short-timeo", target=label, timeo=number, seconds=f"{number / 10:g}"
                ),
                "mountOptions:\n  - timeo=600\n  - retrans=2\n",
            )
        elif option.name == "retrans" and number is not None and number < MIN_EFS_RETRANS:
            yield _finding(
                ref,
                "warning",
                where,
                say(MESSAGES, "few-retrans", target=label, retrans=number),
                "mountOptions:\n  - retrans=2\n",
            )
        elif option.name in ("nfsvers", "vers") and (option.value or "").split(".")[0] in (
            "2",
            "3",
        ):
            yield _finding(
                ref,
                "warning",
                where,
                say(MESSAGES, "old-version", target=label, version=option.value),
                "mountOptions:\n  - nfsvers=4.1\n",
            )


def check(model: Model) -> Iterator[Finding]:
    """Yield findings for NFS/EFS volumes with risky or missing mount options."""
    for target in _targets(model):
        yield from _check_target(target)
    for workload in model.workloads:
        for volume in workload.spec.maps("volumes"):
            nfs = volume.map("nfs")
            server = nfs.str("server") if nfs is not None else None
            if nfs is None or not is_efs_host(server):
                continue
            name = volume.str("name") or "?"
            yield _finding(
                workload.ref,
                "warning",
                key_position(volume, "nfs"),
                say(MESSAGES, "inline-efs", volume=repr(name), server=server),
                "# a PersistentVolume with the options, claimed by name from the pod\n"
                "apiVersion: v1\n"
                "kind: PersistentVolume\n"
                "metadata:\n"
                f"  name: {name}\n"
                "spec:\n"
                "  capacity:\n"
                "    storage: 100Gi\n"
                "  accessModes: [ReadWriteMany]\n"
                '  storageClassName: ""\n'
                + "".join(f"  {line}\n" for line in _recommended_snippet().rstrip("\n").split("\n"))
                + "  nfs:\n"
                f"    server: {server}\n"
                f"    path: {nfs.str('path') or '/'}\n",
            )
