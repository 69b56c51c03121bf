"""One model of everything pasted: objects, workloads, storage, Services and ConfigMap files.

Built once per analysis from the parsed documents, so checks can follow references across
objects (a pod's PVC to its PersistentVolume and StorageClass, a volumeMount to the ConfigMap
file a container sees). Every accessor skips values of the wrong type instead of raising.
A namespaced object without `metadata.namespace` is in "default", as `kubectl apply` assumes.
"""

from __future__ import annotations

import posixpath
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from .parse import Document
from .results import Limits, ObjectRef, ParseError
from .tree import Map, Scalar, Seq

# Kinds that live outside namespaces (the ones people paste; unknown kinds count as namespaced).
CLUSTER_SCOPED = frozenset(
    {
        "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole",
        "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "IngressClass",
        "RuntimeClass", "CSIDriver", "CSINode", "VolumeAttachment", "APIService",
        "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
        "KubeletConfiguration", "ClusterIssuer",
    }
)  # fmt: skip

# Where each workload kind keeps its pod template, as a key path from the object root.
POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


@dataclass
class K8sObject:
    """A pasted Kubernetes object (or KubeletConfiguration) and where it came from."""

    kind: str
    name: str | None
    namespace: str | None
    node: Map
    source: str | None
    ref: ObjectRef

    @property
    def annotations(self) -> Map | None:
        """`metadata.annotations`, if it is a mapping."""
        return self.node.map("metadata", "annotations")


@dataclass
class Mount:
    """A container's volumeMount."""

    name: str
    mount_path: str
    sub_path: str | None
    node: Map

    @property
    def path_node(self) -> Scalar | Map:
        """The `mountPath` scalar (for positions), or the mount itself."""
        return self.node.scalar("mountPath") or self.node


@dataclass
class Container:
    """A container or init container of a pod spec."""

    node: Map
    name: str | None
    image: str | None
    init: bool

    @property
    def image_node(self) -> Scalar | None:
        """The `image` scalar, for positions."""
        return self.node.scalar("image")

    def mounts(self) -> Iterator[Mount]:
        """The well-formed volumeMounts."""
        for item in self.node.maps("volumeMounts"):
            name = item.str("name")
            path = item.str("mountPath")
            if name and path:
                yield Mount(name, path, item.str("subPath"), item)

    def env(self) -> dict[str, Map]:
        """Explicit `env` entries by name."""
        return {name: item for item in self.node.maps("env") if (name := item.str("name"))}


@dataclass
class Workload:
    """An object that runs pods, with its pod spec and pod template metadata."""

    obj: K8sObject
    spec: Map
    template_metadata: Map | None
    namespace: str
    _volumes: dict[str, Map] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ref(self) -> ObjectRef:
        return self.obj.ref

    def containers(self, *, init: bool = True) -> Iterator[Container]:
        """Containers, then init containers (skip those with `init=False`)."""
        keys = ("containers", "initContainers") if init else ("containers",)
        for key in keys:
            for item in self.spec.maps(key):
                yield Container(item, item.str("name"), item.str("image"), key != "containers")

    def volumes(self) -> dict[str, Map]:
        """Pod volumes by name (read once per workload: checks ask per container; read-only)."""
        if self._volumes is None:
            self._volumes = {
                name: item for item in self.spec.maps("volumes") if (name := item.str("name"))
            }
        return self._volumes


@dataclass(frozen=True)
class Storage:
    """What backs a volume, as far as the paste tells: `network` is None when unknown."""

    network: bool | None
    description: str
    node: Map | None = None


@dataclass(frozen=True)
class MountedFile:
    """A ConfigMap key as a container sees it at `path`."""

    path: str
    configmap: K8sObject
    key: str
    value: Scalar
    mount: Mount


# Drivers and provisioners that put a network file system (SMB/NFS) under a volume.
NETWORK_CSI_DRIVERS = {
    "file.csi.azure.com": "Azure Files",
    "efs.csi.aws.com": "Amazon EFS (NFS)",
    "nfs.csi.k8s.io": "NFS",
    "smb.csi.k8s.io": "SMB/CIFS",
    "filestore.csi.storage.gke.io": "Filestore (NFS)",
}
NETWORK_PROVISIONERS = {
    **NETWORK_CSI_DRIVERS,
    "kubernetes.io/azure-file": "Azure Files",
}


# StorageClasses a managed cluster creates itself, so a paste rarely carries them. A PVC naming
# one is backed by a network file system even when the StorageClass is not in the paste.
# AKS: https://learn.microsoft.com/azure/aks/concepts-storage#storage-classes
# GKE Filestore CSI: https://cloud.google.com/filestore/docs/csi-driver#storage-class
BUILT_IN_NETWORK_CLASSES = {
    "azurefile": "Azure Files (AKS built-in StorageClass azurefile)",
    "azurefile-premium": "Azure Files (AKS built-in StorageClass azurefile-premium)",
    "azurefile-csi": "Azure Files (AKS built-in StorageClass azurefile-csi)",
    "azurefile-csi-premium": "Azure Files (AKS built-in StorageClass azurefile-csi-premium)",
    "standard-rwx": "Filestore NFS (GKE built-in StorageClass standard-rwx)",
    "premium-rwx": "Filestore NFS (GKE built-in StorageClass premium-rwx)",
    "enterprise-rwx": "Filestore NFS (GKE built-in StorageClass enterprise-rwx)",
}


def network_provisioner(provisioner: str) -> str | None:
    """A description if a provisioner creates network-file-system volumes."""
    if provisioner in NETWORK_PROVISIONERS:
        return NETWORK_PROVISIONERS[provisioner]
    # nfs-subdir-external-provisioner and similar deployments pick their own names,
    # e.g. cluster.local/nfs-subdir-external-provisioner or k8s-sigs.io/nfs-...
    if "nfs" in provisioner.lower():
        return "NFS"
    return None


def _nfs_looking(path: str) -> bool:
    parts = [part.lower() for part in path.split("/") if part]
    return any(
        part in ("nfs", "nas", "efs", "smb", "cifs")
        or part.startswith(("nfs-", "nfs_", "nas-", "nas_", "efs-", "smb-"))
        for part in parts
    )


def volume_source_storage(source: Map) -> Storage | None:
    """Classify an inline volume or PV source; None if it is not a storage source we know."""
    if (nfs := source.map("nfs")) is not None:
        return Storage(True, f"NFS ({nfs.str('server') or '?'}:{nfs.str('path') or '?'})", nfs)
    if (azure := source.map("azureFile")) is not None:
        return Storage(True, "Azure Files (azureFile)", azure)
    if (csi := source.map("csi")) is not None:
        driver = csi.str("driver") or ""
        if driver in NETWORK_CSI_DRIVERS:
            return Storage(True, f"{NETWORK_CSI_DRIVERS[driver]} (CSI driver {driver})", csi)
        return Storage(False, f"CSI driver {driver or '?'}", csi)
    if (host := source.map("hostPath")) is not None:
        path = host.str("path") or ""
        if _nfs_looking(path):
            return Storage(True, f"hostPath {path}, which looks like a network mount", host)
        return Storage(False, f"hostPath {path}", host)
    for local in ("emptyDir", "configMap", "secret", "projected", "downwardAPI", "azureDisk"):
        if source.get(local) is not None:
            return Storage(False, local, source.map(local))
    return None


class OutOfTime(Exception):
    """The analysis deadline passed inside a check; the check stops there."""


@dataclass
class Model:
    """Everything pasted, indexed for cross-object checks."""

    objects: list[K8sObject] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    _index: dict[tuple[str, str | None, str | None], K8sObject] = field(default_factory=dict)
    _by_kind: dict[str, list[K8sObject]] = field(default_factory=lambda: defaultdict(list))
    # Look-ups checks repeat per workload or claim, built once on first use (add() resets).
    _lookups: dict[object, object] = field(default_factory=dict)
    # The analysis deadline (time.monotonic()), checked in the look-ups that can grow with
    # the product of two counts; see check_deadline().
    deadline: float | None = None
    _ticks: int = 0

    def add(self, obj: K8sObject) -> None:
        """Index one object (a later duplicate replaces an earlier one, like `kubectl apply`)."""
        self.objects.append(obj)
        self._lookups.clear()
        self._index[(obj.kind, obj.namespace, obj.name)] = obj
        self._by_kind[obj.kind].append(obj)
        path = POD_TEMPLATE_PATHS.get(obj.kind)
        if obj.kind == "Pod":
            spec, metadata = obj.node.map("spec"), obj.node.map("metadata")
        elif path is not None:
            spec, metadata = obj.node.map(*path, "spec"), obj.node.map(*path, "metadata")
        else:
            return
        if spec is not None:
            self.workloads.append(Workload(obj, spec, metadata, obj.namespace or "default"))

    def get(self, kind: str, namespace: str | None, name: str | None) -> K8sObject | None:
        """One object by kind, namespace (None for cluster-scoped) and name."""
        return self._index.get((kind, namespace, name))

    def of_kind(self, kind: str) -> list[K8sObject]:
        """All objects of a kind, in paste order."""
        return self._by_kind.get(kind, [])

    def services(self, namespace: str) -> list[K8sObject]:
        """Services of a namespace."""
        by_namespace = self._lookups.get("services")
        if by_namespace is None:
            by_namespace = defaultdict(list)
            for obj in self.of_kind("Service"):
                by_namespace[obj.namespace].append(obj)
            self._lookups["services"] = by_namespace
        return list(by_namespace.get(namespace, ()))

    def default_storage_class(self) -> K8sObject | None:
        """The StorageClass annotated as the cluster default, if pasted."""
        if "default_class" not in self._lookups:
            self._lookups["default_class"] = self._find_default_storage_class()
        return self._lookups["default_class"]

    def _find_default_storage_class(self) -> K8sObject | None:
        for obj in self.of_kind("StorageClass"):
            annotations = obj.annotations
            if annotations is not None:
                for key in (
                    "storageclass.kubernetes.io/is-default-class",
                    "storageclass.beta.kubernetes.io/is-default-class",
                ):
                    if annotations.str(key) == "true":
                        return obj
        return None

    def storage_class_storage(self, name: str | None) -> Storage | None:
        """Classify a StorageClass by its provisioner; None if it is not in the paste."""
        sc = self.get("StorageClass", None, name) if name else self.default_storage_class()
        if sc is None:
            return None
        provisioner = sc.node.str("provisioner") or ""
        described = network_provisioner(provisioner)
        label = f"StorageClass {sc.name} (provisioner {provisioner or '?'})"
        if described:
            return Storage(True, f"{described} via {label}", sc.node)
        return Storage(False, label, sc.node)

    def pv_for_claim(self, namespace: str, claim: str) -> K8sObject | None:
        """The PersistentVolume a claim is bound to: by `volumeName`, else by `claimRef`."""
        pvc = self.get("PersistentVolumeClaim", namespace, claim)
        volume_name = pvc.node.str("spec", "volumeName") if pvc else None
        if volume_name:
            return self.get("PersistentVolume", None, volume_name)
        claim_refs = self._lookups.get("claim_refs")
        if claim_refs is None:
            # First PV per claimRef, as the scan in paste order found it; built once, as a
            # scan per claim made many claims against many PVs quadratic.
            claim_refs = {}
            for pv in self.of_kind("PersistentVolume"):
                ref = pv.node.map("spec", "claimRef")
                if ref is not None and ref.str("name"):
                    key = (ref.str("namespace") or "default", ref.str("name"))
                    claim_refs.setdefault(key, pv)
            self._lookups["claim_refs"] = claim_refs
        return claim_refs.get((namespace, claim))

    def claim_storage(self, namespace: str, claim: str) -> Storage | None:
        """What backs a PVC, from its PV or StorageClass in the paste; None if unknown."""
        pv = self.pv_for_claim(namespace, claim)
        if pv is not None:
            spec = pv.node.map("spec")
            storage = volume_source_storage(spec) if spec is not None else None
            if storage is not None:
                return Storage(
                    storage.network, f"{storage.description}, PV {pv.name}", storage.node
                )
            if spec is not None and spec.str("storageClassName"):
                return self.storage_class_storage(spec.str("storageClassName"))
            return None
        pvc = self.get("PersistentVolumeClaim", namespace, claim)
        if pvc is None:
            return None
        spec = pvc.node.map("spec")
        class_node = spec.get("storageClassName") if spec is not None else None
        if isinstance(class_node, Scalar):
            # An explicit "" means "no class": only pre-bound PVs, which we did not find.
            if not class_node.raw:
                return None
            storage = self.storage_class_storage(class_node.raw)
            if storage is None and class_node.raw in BUILT_IN_NETWORK_CLASSES:
                return Storage(True, BUILT_IN_NETWORK_CLASSES[class_node.raw])
            return storage
        return self.storage_class_storage(None)

    def volume_storage(self, workload: Workload, volume: Map) -> Storage | None:
        """What backs a pod volume; None when the paste does not say."""
        claim = volume.str("persistentVolumeClaim", "claimName")
        if claim:
            storage = self.claim_storage(workload.namespace, claim)
            if storage is not None:
                return Storage(
                    storage.network, f"{storage.description} (PVC {claim})", storage.node
                )
            return None
        return volume_source_storage(volume)

    def mounted_files(self, workload: Workload, container: Container) -> list[MountedFile]:
        """ConfigMap keys the container sees, with the path it sees each one at (read-only).

        Listed once per container and analysis (several checks ask), and the analysis
        deadline is checked while listing: many containers that each mount a ConfigMap of
        many keys see containers x keys files.
        """
        key = ("mounted_files", id(container.node))
        cached = self._lookups.get(key)
        if cached is None:
            cached = self._lookups[key] = self._mounted_files(workload, container)
        return cached

    def check_deadline(self) -> None:
        """Raise OutOfTime once the analysis deadline has passed (cheap: reads the clock
        every 1 024 calls)."""
        self._ticks += 1
        if (
            self.deadline is not None
            and not self._ticks % 1024
            and time.monotonic() > self.deadline
        ):
            raise OutOfTime

    def _mounted_files(self, workload: Workload, container: Container) -> list[MountedFile]:
        volumes = workload.volumes()
        files = []
        for mount in container.mounts():
            volume = volumes.get(mount.name)
            if volume is None:
                continue
            sources = []
            if (cm := volume.map("configMap")) is not None:
                sources.append(cm)
            for projected in volume.maps("projected", "sources"):
                if (cm := projected.map("configMap")) is not None:
                    sources.append(cm)
            for source in sources:
                files.extend(self._configmap_files(workload, source, mount))
        return files

    def _configmap_files(self, workload: Workload, source: Map, mount: Mount) -> list[MountedFile]:
        configmap = self.get("ConfigMap", workload.namespace, source.str("name"))
        if configmap is None:
            return []
        data = configmap.node.map("data")
        if data is None:
            return []
        items = [(item.str("key"), item.str("path")) for item in source.maps("items")]
        if source.get("items") is None:
            items = [(key, key) for key in data.value]
        files = []
        for key, relative in items:
            self.check_deadline()
            value = data.scalar(key) if key else None
            if value is None or not isinstance(value.value, str) or not relative:
                continue
            if mount.sub_path is not None:
                if posixpath.normpath(mount.sub_path) != posixpath.normpath(relative):
                    continue
                path = mount.mount_path
            else:
                path = posixpath.join(mount.mount_path, relative)
            files.append(MountedFile(posixpath.normpath(path), configmap, key, value, mount))
        return files


def build_model(
    documents: list[Document], *, limits: Limits, lines: list[str], errors: list[ParseError]
) -> Model:
    """Index parsed documents; a `kind: List` contributes each of its items."""
    model = Model(lines=lines)
    for document in documents:
        root = document.root
        if not isinstance(root, Map):
            errors.append(
                ParseError(document.line, 1, "not a Kubernetes object (no mapping); skipped")
            )
            continue
        candidates = [root]
        # `kubectl get -o yaml` wraps objects in `kind: List` (or `PodList`, ...).
        if (root.str("kind") or "").endswith("List") and isinstance(root.get("items"), Seq):
            candidates = list(root.maps("items"))
        for node in candidates:
            kind = node.str("kind")
            if not kind:
                errors.append(ParseError(node.line, node.column, "no `kind` field; object skipped"))
                continue
            if len(model.objects) >= limits.max_objects:
                errors.append(
                    ParseError(
                        node.line,
                        node.column,
                        f"more than {limits.max_objects:,} objects; the rest was not analysed",
                    )
                )
                return model
            name = node.str("metadata", "name")
            namespace = None
            if kind not in CLUSTER_SCOPED:
                namespace = node.str("metadata", "namespace") or "default"
            ref = ObjectRef(kind, namespace, name, document.source)
            model.add(K8sObject(kind, name, namespace, node, document.source, ref))
    return model
