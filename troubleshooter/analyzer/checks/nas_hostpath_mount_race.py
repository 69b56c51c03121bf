"""hostPath volumes on a node's NAS/NFS mountpoint, which pods can reach before it is mounted.

**What it finds.** A `hostPath` volume of a pod (or of any workload's pod template) that a
container mounts, or a PersistentVolume with a `hostPath` source, whose path looks like a
network share mounted on the node: a path segment `nas`, `nfs`, `efs`, `cifs`, `smb`,
`netapp`, `azurefiles`, `cephfs` or `glusterfs` (also `nas01`, `nfs-data` and similar), or a
path under `/mnt/share`. The finding sits on the `path` line.

Left alone: ordinary node paths (`/var/log`, `/var/run/docker.sock`, `/etc/localtime`,
`/sys`, `/proc`, `/dev`), system directories that merely contain such a word (`/var/lib/nfs`
is the NFS client's state, `/var/lib/kubelet/...` belongs to the kubelet, `/usr/share/...` is
not a share), PersistentVolumes with an `nfs` or CSI source, and volumes no container mounts.
Pods that serve a share (a container port 2049 for NFS, 445 or 139 for SMB: the hostPath is
the export's local storage, not a client mountpoint) and storage drivers' node plugins (a
hostPath on /var/lib/kubelet: they make the mounts themselves, and their other host paths
are driver state, such as /var/amazon/efs for the EFS driver) are left alone too.
A hostPath with both stopgaps applied (`type: Directory` and `mountPropagation:
HostToContainer` or `Bidirectional` on every mount of it) is not reported either.

**Why it matters.** For a hostPath the kubelet bind-mounts whatever is at the path when the
container is created. When the node mounts the share from `rc.local`, a script, or an fstab
entry that is not ordered before the kubelet, a rebooted node can restart its pods first:
the container then gets the empty local directory under the mountpoint and writes uploads to
the node's root disk, where other replicas cannot see them. With the default mount
propagation (`None`) the container never sees the share that the host mounts on top later,
and the files it wrote are hidden under the mountpoint on the node. `type` unset (the
default) or `DirectoryOrCreate` makes the kubelet accept any path, creating it if needed.

**How to fix it.** Let the kubelet own the mount: a PersistentVolume with an `nfs` source (or
a CSI driver such as `nfs.csi.k8s.io`, `efs.csi.aws.com`, `file.csi.azure.com`) and a claim.
The kubelet mounts it before the containers start and keeps the pod in `ContainerCreating`
with a `FailedMount` event if the NAS is unreachable::

    apiVersion: v1
    kind: PersistentVolume
    metadata:
      name: nas-www
    spec:
      capacity: {storage: 100Gi}
      accessModes: [ReadWriteMany]
      storageClassName: ""
      mountOptions: [nfsvers=4.1, hard, timeo=600, retrans=2, noresvport]
      nfs:
        server: 10.0.0.5
        path: /export/www

and in the pod, a `persistentVolumeClaim` volume whose claim names `volumeName: nas-www`.
As a stopgap, point the hostPath at a directory that only exists on the share with
`type: Directory`, add `mountPropagation: HostToContainer` to the volumeMount, and order
the kubelet after the mount (`RequiresMountsFor=/mnt/nas` in a kubelet drop-in).

**Suppressing.** `kb.troubleshooter/ignore: "nas-hostpath-mount-race: <reason>"` on the
workload or PersistentVolume, or `# kb-ignore: nas-hostpath-mount-race <reason>` above the
`path` line.

**Reads.** PersistentVolumes, and Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
CronJob (jobTemplate) and ReplicationController pod templates, also inside List objects and
Helm or kustomize output; `hostPath` volumes and the mounts of every container (app, init,
sidecar, ephemeral); claims, including those of volumeClaimTemplates, followed to their
PersistentVolume.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from troubleshooter.analyzer.messages import say
from troubleshooter.analyzer.model import Model, Workload, _nfs_looking
from troubleshooter.analyzer.results import Finding, ObjectRef
from troubleshooter.analyzer.tree import Map, Scalar

ID = "nas-hostpath-mount-race"
TITLE = "hostPath on a NAS/NFS mountpoint can be used before the node mounts the share"
SEVERITY = "warning"
ARTICLE = "nas-hostpath-mount-race"

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
        - name: php
          image: php:8.3-apache
          volumeMounts:
            - name: uploads
              mountPath: /var/www/html/uploads
      volumes:
        - name: uploads
          hostPath:
            path: /mnt/nas/www/uploads
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
      containers:
        - name: php
          image: php:8.3-apache
          volumeMounts:
            - name: uploads
              mountPath: /var/www/html/uploads
            - name: logs
              mountPath: /var/log/apache2
      volumes:
        - name: uploads
          persistentVolumeClaim:
            claimName: nas-www
        - name: logs
          hostPath:
            path: /var/log/web
            type: DirectoryOrCreate
"""

# Node directories that contain a share-like word but are never the share itself.
_SYSTEM_PREFIXES = (
    "/proc",
    "/sys",
    "/dev",
    "/etc",
    "/usr",
    "/lib",
    "/boot",
    "/run",
    "/var/run",
    "/var/log",
    "/var/lib/kubelet",
    "/var/lib/nfs",
    "/var/lib/docker",
    "/var/lib/containerd",
)
# Segments the model's heuristic does not cover; it handles nas/nfs/efs/smb/cifs (+ `-`/`_`).
_EXTRA_SEGMENT = re.compile(
    r"^(?:(?:nas|nfs|efs|smb|cifs)\d+|netapp|azurefiles?|cephfs|glusterfs?)$", re.IGNORECASE
)
_PROPAGATING = ("HostToContainer", "Bidirectional")
# Ports of a file server: NFS (2049), SMB (445) and NetBIOS session (139).
_SHARE_SERVER_PORTS = frozenset({2049, 445, 139})


def _serves_or_mounts_shares(workload: Workload) -> bool:
    """A file server exporting node storage, or a storage driver's node plugin."""
    for container in workload.containers():
        for port in container.node.maps("ports"):
            number = port.scalar("containerPort")
            if number is not None and number.value in _SHARE_SERVER_PORTS:
                return True
    for volume in workload.volumes().values():
        path = volume.str("hostPath", "path") or ""
        if path.startswith("/") and (posixpath.normpath(path) + "/").startswith(
            "/var/lib/kubelet/"
        ):
            return True
    return False


def network_looking_host_path(path: str) -> bool:
    """Whether a node path looks like the mountpoint of a network share (or lies below one)."""
    if not path.startswith("/"):
        return False
    normal = posixpath.normpath(path)
    if any(normal == prefix or normal.startswith(prefix + "/") for prefix in _SYSTEM_PREFIXES):
        return False
    # The model's own heuristic first, so this check and its storage classification agree.
    if _nfs_looking(normal):
        return True
    segments = [part for part in normal.split("/") if part]
    if segments[:2] in (["mnt", "share"], ["mnt", "shares"]):
        return True
    return any(_EXTRA_SEGMENT.match(part) for part in segments)


def _stopgap_applied(host: Map, mounts: list[Map]) -> bool:
    """`type: Directory` plus host-to-container propagation on every mount of the volume."""
    if host.str("type") != "Directory" or not mounts:
        return False
    return all(mount.str("mountPropagation") in _PROPAGATING for mount in mounts)


def _mounts_by_volume(workload: Workload) -> dict[str, list[Map]]:
    """The volumeMounts of all containers, by the pod volume they mount (one pass)."""
    mounts: dict[str, list[Map]] = {}
    for container in workload.containers():
        for mount in container.mounts():
            mounts.setdefault(mount.name, []).append(mount.node)
    return mounts


# The finding messages (translations: docs/<ID>.<lang>.messages.yaml): the race, what the
# hostPath `type` adds to it, and the way out.
MESSAGES = {
    "race": (
        "hostPath {path} looks like a NAS/NFS share mounted on the node. If the node mounts it"
        " after the kubelet has started pods (rc.local, a late or `nofail` fstab entry), the"
        " container bind-mounts the empty local directory and writes to the node's own disk,"
        " hidden under the mountpoint once the share appears."
    ),
    "type-unset": "With `type` unset the kubelet accepts whatever is at the path, mounted or not.",
    "type-directory-or-create": (
        "`type: DirectoryOrCreate` even creates the path on the node's local disk."
    ),
    "type-directory": (
        "`type: Directory` only helps if the path exists solely on the share; without"
        " `mountPropagation: HostToContainer` a running container never sees a later mount."
    ),
    "use-a-volume": (
        "Use a PersistentVolume with an nfs or CSI source: the kubelet mounts it before the"
        " container starts."
    ),
}
_WHY = {
    "": "type-unset",
    "DirectoryOrCreate": "type-directory-or-create",
    "Directory": "type-directory",
}


def _message(path: str, host: Map) -> dict:
    why = _WHY.get(host.str("type") or "")
    keys = ["race", *([why] if why else []), "use-a-volume"]
    return say(MESSAGES, *keys, path=path)


def _fix(volume_name: str, path: str) -> str:
    return (
        "# Let the kubelet mount the share: a PersistentVolume (nfs, or a CSI driver such as\n"
        "# nfs.csi.k8s.io, efs.csi.aws.com, file.csi.azure.com) and a claim bound to it.\n"
        "apiVersion: v1\n"
        "kind: PersistentVolume\n"
        "metadata:\n"
        f"  name: {volume_name}\n"
        "spec:\n"
        "  capacity: {storage: 100Gi}\n"
        "  accessModes: [ReadWriteMany]\n"
        '  storageClassName: ""\n'
        "  mountOptions: [nfsvers=4.1, hard, timeo=600, retrans=2, noresvport]\n"
        "  nfs:\n"
        "    server: <nas-server>\n"
        f"    path: <export behind {path}>\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: PersistentVolumeClaim\n"
        "metadata:\n"
        f"  name: {volume_name}\n"
        "spec:\n"
        "  accessModes: [ReadWriteMany]\n"
        '  storageClassName: ""\n'
        f"  volumeName: {volume_name}\n"
        "  resources: {requests: {storage: 100Gi}}\n"
        "# in the pod spec:\n"
        "#   volumes:\n"
        f"#     - name: {volume_name}\n"
        "#       persistentVolumeClaim:\n"
        f"#         claimName: {volume_name}\n"
        "# Stopgap while it stays a hostPath: `type: Directory` on a directory that exists only\n"
        "# on the share, and `mountPropagation: HostToContainer` on the volumeMount.\n"
    )


def _finding(ref: ObjectRef, path_node: Scalar, host: Map, volume_name: str) -> Finding:
    path = path_node.raw
    return Finding(
        check=ID,
        severity=SEVERITY,
        article=ARTICLE,
        object=ref,
        line=path_node.line,
        column=path_node.column,
        **_message(path, host),
        fix=_fix(volume_name, path),
    )


def _pv_mounts(model: Model) -> dict[str | None, list[Map]]:
    """Mounts, anywhere in the paste, of claims bound to each PersistentVolume (by PV name).

    Built in one pass over the workloads, not once per PersistentVolume (400 PVs and 400 pods
    took 46 s).
    """
    mounts: dict[str | None, list[Map]] = {}
    for workload in model.workloads:
        by_volume: dict[str, list[Map]] | None = None
        for name, volume in workload.volumes().items():
            claim = volume.claim
            if not claim:
                continue
            pv = model.pv_for_claim(workload.namespace, claim)
            if pv is not None:
                if by_volume is None:
                    by_volume = _mounts_by_volume(workload)
                mounts.setdefault(pv.name, []).extend(by_volume.get(name, []))
    return mounts


def check(model: Model) -> Iterator[Finding]:
    """Yield a warning per mounted hostPath (pod or PersistentVolume) on a share-like path."""
    for workload in model.workloads:
        if _serves_or_mounts_shares(workload):
            continue
        by_volume: dict[str, list[Map]] | None = None
        for name, volume in workload.volumes().items():
            host = volume.map("hostPath")
            path_node = host.scalar("path") if host is not None else None
            if host is None or path_node is None or not isinstance(path_node.value, str):
                continue
            if not network_looking_host_path(path_node.value):
                continue
            if by_volume is None:
                by_volume = _mounts_by_volume(workload)
            mounts = by_volume.get(name, [])
            if not mounts or _stopgap_applied(host, mounts):
                continue
            yield _finding(workload.ref, path_node, host, name)
    pv_mounts: dict[str | None, list[Map]] | None = None
    for pv in model.of_kind("PersistentVolume"):
        host = pv.node.map("spec", "hostPath")
        path_node = host.scalar("path") if host is not None else None
        if host is None or path_node is None or not isinstance(path_node.value, str):
            continue
        if not network_looking_host_path(path_node.value):
            continue
        if pv_mounts is None:
            pv_mounts = _pv_mounts(model)
        if _stopgap_applied(host, pv_mounts.get(pv.name, [])):
            continue
        yield _finding(pv.ref, path_node, host, pv.name or "nas")
