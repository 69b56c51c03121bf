"""One model of everything pasted: objects, workloads, storage, Services and ConfigMap files.

Built once per analysis from the parsed documents, so checks can follow references across
objects (a pod's PVC to its PersistentVolume and StorageClass, a volumeMount to the ConfigMap
file a container sees). Every accessor skips values of the wrong type instead of raising.
A namespaced object without `metadata.namespace` is in "default", as `kubectl apply` assumes.

The shapes it reads, as the kubelet and the controllers see them:

* workloads: Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (through
  `jobTemplate`) and ReplicationController (`POD_TEMPLATE_PATHS`); `kind: List` items;
* containers: `containers`, `initContainers` (an init container with `restartPolicy: Always`
  is a sidecar that runs as long as the pod) and `ephemeralContainers` (`Container.role`);
* volumes: the pod's `volumes`, a StatefulSet's `volumeClaimTemplates` (each becomes the PVC
  `<template>-<statefulset>-<ordinal>` mounted under the template's name, replacing a pod
  volume of that name) and generic ephemeral volumes (`ephemeral.volumeClaimTemplate`, the
  PVC `<pod>-<volume>`), all as `Volume`;
* environment: `env` over `envFrom` (ConfigMap and Secret keys, with `prefix`, when those
  objects are in the paste), as `Environment`;
* duplicates: a later object with the same kind, namespace and name replaces the earlier one,
  and a note says so.
"""

from __future__ import annotations

import posixpath
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from .messages import Phrase, render
from .notices import notice
from .parse import Document
from .results import Limits, ObjectRef, ParseError, quick_init
from .tree import Map, Node, Scalar, Seq

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


# Container roles: an app container, a one-shot init container, a restartable init container
# (`restartPolicy: Always`, a sidecar that runs beside the app for the pod's life) and an
# ephemeral (debug) container added with `kubectl debug`.
ROLES = ("container", "init", "sidecar", "ephemeral")


@dataclass
class Container:
    """A container of a pod spec; `init` is True for one-shot init containers only."""

    node: Map
    name: str | None
    image: str | None
    init: bool
    role: str = "container"
    _mounts: list[Mount] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def image_node(self) -> Scalar | None:
        """The `image` scalar, for positions."""
        return self.node.scalar("image")

    def mounts(self) -> Iterator[Mount]:
        """The well-formed volumeMounts (read once per container; shared: read-only)."""
        if self._mounts is None:
            self._mounts = [
                Mount(name, path, item.str("subPath"), item)
                for item in self.node.maps("volumeMounts")
                if (name := item.str("name")) and (path := item.str("mountPath"))
            ]
        yield from self._mounts

    def env(self) -> dict[str, Map]:
        """Explicit `env` entries by name."""
        return {name: item for item in self.node.maps("env") if (name := item.str("name"))}


@quick_init
@dataclass(frozen=True)
class Volume:
    """A volume the pod's containers can mount by `name`.

    `node` is the pod volume entry, or the StatefulSet's claim template. `claim` names the PVC
    it mounts (a StatefulSet's first ordinal for a claim template); `claim_spec` is the PVC
    spec when the workload creates the claim itself (claim template or generic ephemeral
    volume); `origin` is "volume", "claimTemplate" or "ephemeral"; `claim_node` is where the
    claim is written (for positions).
    """

    name: str
    node: Map
    origin: str = "volume"
    claim: str | None = None
    claim_spec: Map | None = None
    claim_node: Node | None = None

    def str(self, *path: str) -> str | None:
        """A text field of the volume entry (see `Map.str`)."""
        return self.node.str(*path)

    def map(self, *path: str) -> Map | None:
        """A mapping of the volume entry (see `Map.map`)."""
        return self.node.map(*path)


@dataclass
class Workload:
    """An object that runs pods, with its pod spec and pod template metadata."""

    obj: K8sObject
    spec: Map
    template_metadata: Map | None
    namespace: str
    _volumes: dict[str, Volume] | None = field(default=None, init=False, repr=False, compare=False)
    _containers: list[Container] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ref(self) -> ObjectRef:
        return self.obj.ref

    def containers(self, *, init: bool = True) -> Iterator[Container]:
        """App containers, sidecars, init containers and ephemeral containers.

        `init=False` leaves out the one-shot init containers (they exit before the app
        starts) but keeps sidecars (`restartPolicy: Always`) and ephemeral containers.
        Read once per workload (every check asks); the containers are shared: read-only.
        """
        if self._containers is None:
            self._containers = list(self._read_containers())
        for container in self._containers:
            if init or container.role != "init":
                yield container

    def _read_containers(self) -> Iterator[Container]:
        for item in self.spec.maps("containers"):
            yield Container(item, item.str("name"), item.str("image"), False, "container")
        for item in self.spec.maps("initContainers"):
            sidecar = item.str("restartPolicy") == "Always"
            role = "sidecar" if sidecar else "init"
            yield Container(item, item.str("name"), item.str("image"), not sidecar, role)
        for item in self.spec.maps("ephemeralContainers"):
            yield Container(item, item.str("name"), item.str("image"), False, "ephemeral")

    def volumes(self) -> dict[str, Volume]:
        """Every volume the containers can mount, by name (claim templates included).

        Read once per workload (checks ask per container); the result is shared: read-only.
        """
        if self._volumes is None:
            self._volumes = self._read_volumes()
        return self._volumes

    def _read_volumes(self) -> dict[str, Volume]:
        result: dict[str, Volume] = {}
        pod_name = self.obj.name or "?"
        for item in self.spec.maps("volumes"):
            name = item.str("name")
            if not name:
                continue
            if (pvc := item.map("persistentVolumeClaim")) is not None:
                node = item.get("persistentVolumeClaim")
                result[name] = Volume(name, item, "volume", pvc.str("claimName"), None, node)
            elif (template := item.map("ephemeral", "volumeClaimTemplate")) is not None:
                # The PVC is named <pod>-<volume>; for a controller's pods <pod> varies.
                node = item.get("ephemeral")
                claim = f"{pod_name}-{name}"
                result[name] = Volume(name, item, "ephemeral", claim, template.map("spec"), node)
            else:
                result[name] = Volume(name, item)
        if self.obj.kind == "StatefulSet":
            # The controller adds one volume per claim template, named after the template and
            # replacing a pod volume of the same name (pkg/controller/statefulset updateStorage).
            start = self.obj.node.scalar("spec", "ordinals", "start")
            ordinal = start.value if start is not None and type(start.value) is int else 0
            for template in self.obj.node.maps("spec", "volumeClaimTemplates"):
                name = template.str("metadata", "name")
                if not name:
                    continue
                claim = f"{name}-{pod_name}-{ordinal}"
                node = template.scalar("metadata", "name") or template
                result[name] = Volume(
                    name, template, "claimTemplate", claim, template.map("spec"), node
                )
        return result


@quick_init
@dataclass(frozen=True)
class EnvVar:
    """One environment variable of a container and where it is set."""

    name: str
    node: Node
    origin: str


@dataclass
class Environment:
    """A container's variables from `env` and `envFrom`; `unknown` lists the envFrom sources
    whose ConfigMap or Secret is not in the paste (their variables cannot be listed)."""

    variables: dict[str, EnvVar] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


# How a check says what backs a volume: one template per step from the volume to its storage,
# said one after the other ("NFS (nas:/x)", ", PV pv1", " (PVC data)"). A check that puts
# `Storage.phrase` in a message lists these in its MESSAGES, so its translations say them too.
NETWORK_STORAGE_PHRASES = {
    "storage-nfs": "NFS ({server}:{path})",
    "storage-azure-file": "Azure Files (azureFile)",
    "storage-csi-network": "{service} (CSI driver {driver})",
    "storage-host-path-network": "hostPath {path}, which looks like a network mount",
    "storage-class-network": (
        "{service} via StorageClass {storage_class} (provisioner {provisioner})"
    ),
    "storage-built-in-class": "{service} ({cloud} built-in StorageClass {storage_class})",
    "storage-pv": ", PV {pv}",
    "storage-pvc": " (PVC {claim})",
    "storage-claim-template": " (claim template {volume}, PVC {claim})",
    "storage-ephemeral": " (ephemeral volume {volume}, PVC {claim})",
}
# Storage that is not a network file system: no check names it in a message (yet).
LOCAL_STORAGE_PHRASES = {
    "storage-csi": "CSI driver {driver}",
    "storage-host-path": "hostPath {path}",
    "storage-local": "{source}",
    "storage-class": "StorageClass {storage_class} (provisioner {provisioner})",
}
STORAGE_PHRASES = {**NETWORK_STORAGE_PHRASES, **LOCAL_STORAGE_PHRASES}


@quick_init
@dataclass(frozen=True)
class Storage:
    """What backs a volume, as far as the paste tells: `network` is None when unknown.

    `phrase` says it from STORAGE_PHRASES (keys and values), for English and translations.
    """

    network: bool | None
    phrase: Phrase
    node: Map | None = None

    @property
    def description(self) -> str:
        """What backs the volume, in English."""
        args = {name: str(value) for name, value in self.phrase.args.items()}
        return "".join(render(STORAGE_PHRASES[key], args) or "" for key in self.phrase.key.split())

    def via(self, key: str, **args: str) -> Storage:
        """This storage reached through one more step (a PV, a claim)."""
        phrase = Phrase(f"{self.phrase.key} {key}", {**self.phrase.args, **args})
        return Storage(self.network, phrase, self.node)


def _storage(network: bool | None, key: str, node: Map | None = None, **args: str) -> Storage:
    return Storage(network, Phrase(key, args), node)


@quick_init
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
# Class name: (what it is, the cluster that creates it).
BUILT_IN_NETWORK_CLASSES = {
    "azurefile": ("Azure Files", "AKS"),
    "azurefile-premium": ("Azure Files", "AKS"),
    "azurefile-csi": ("Azure Files", "AKS"),
    "azurefile-csi-premium": ("Azure Files", "AKS"),
    "standard-rwx": ("Filestore NFS", "GKE"),
    "premium-rwx": ("Filestore NFS", "GKE"),
    "enterprise-rwx": ("Filestore NFS", "GKE"),
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
        server, path = nfs.str("server") or "?", nfs.str("path") or "?"
        return _storage(True, "storage-nfs", nfs, server=server, path=path)
    if (azure := source.map("azureFile")) is not None:
        return _storage(True, "storage-azure-file", azure)
    if (csi := source.map("csi")) is not None:
        driver = csi.str("driver") or ""
        if driver in NETWORK_CSI_DRIVERS:
            service = NETWORK_CSI_DRIVERS[driver]
            return _storage(True, "storage-csi-network", csi, service=service, driver=driver)
        return _storage(False, "storage-csi", csi, driver=driver or "?")
    if (host := source.map("hostPath")) is not None:
        path = host.str("path") or ""
        if _nfs_looking(path):
            return _storage(True, "storage-host-path-network", host, path=path)
        return _storage(False, "storage-host-path", host, path=path)
    for local in ("emptyDir", "configMap", "secret", "projected", "downwardAPI", "azureDisk"):
        if source.get(local) is not None:
            return _storage(False, "storage-local", source.map(local), source=local)
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

    def add(self, obj: K8sObject) -> K8sObject | None:
        """Index one object; a later duplicate replaces an earlier one, like `kubectl apply`.

        Returns the object it replaced (same kind, namespace and name), if any.
        """
        key = (obj.kind, obj.namespace, obj.name)
        previous = self._index.get(key) if obj.name is not None else None
        if previous is not None:
            self.objects = [item for item in self.objects if item is not previous]
            self._by_kind[obj.kind] = [
                item for item in self._by_kind[obj.kind] if item is not previous
            ]
            self.workloads = [item for item in self.workloads if item.obj is not previous]
        self.objects.append(obj)
        self._lookups.clear()
        self._index[key] = obj
        self._by_kind[obj.kind].append(obj)
        self._add_workload(obj)
        return previous

    def _add_workload(self, obj: K8sObject) -> None:
        path = POD_TEMPLATE_PATHS.get(obj.kind)
        if obj.kind == "Pod":
            spec, metadata = obj.node.map("spec"), obj.node.map("metadata")
        elif path is not None:
            template = obj.node.map(*path)
            spec = template.map("spec") if template is not None else None
            metadata = template.map("metadata") if template is not None else None
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
        label = {"storage_class": str(sc.name), "provisioner": provisioner or "?"}
        if described:
            return _storage(True, "storage-class-network", sc.node, service=described, **label)
        return _storage(False, "storage-class", sc.node, **label)

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
                return storage.via("storage-pv", pv=str(pv.name))
            if spec is not None and spec.str("storageClassName"):
                return self.storage_class_storage(spec.str("storageClassName"))
            return None
        pvc = self.get("PersistentVolumeClaim", namespace, claim)
        if pvc is None:
            return None
        return self.claim_spec_storage(pvc.node.map("spec"))

    def claim_spec_storage(self, spec: Map | None) -> Storage | None:
        """What would back a PVC with this spec: its StorageClass (or the default)."""
        class_node = spec.get("storageClassName") if spec is not None else None
        if isinstance(class_node, Scalar):
            # An explicit "" means "no class": only pre-bound PVs, which we did not find.
            if not class_node.raw:
                return None
            storage = self.storage_class_storage(class_node.raw)
            if storage is None and class_node.raw in BUILT_IN_NETWORK_CLASSES:
                service, cloud = BUILT_IN_NETWORK_CLASSES[class_node.raw]
                return _storage(
                    True,
                    "storage-built-in-class",
                    service=service,
                    cloud=cloud,
                    storage_class=class_node.raw,
                )
            return storage
        return self.storage_class_storage(None)

    def volume_storage(self, workload: Workload, volume: Volume | Map) -> Storage | None:
        """What backs a pod volume; None when the paste does not say."""
        if isinstance(volume, Map):
            volume = workload.volumes().get(volume.str("name") or "") or Volume("", volume)
        if volume.origin == "volume" and volume.claim is None:
            return volume_source_storage(volume.node)
        claim = volume.claim
        storage = self.claim_storage(workload.namespace, claim) if claim else None
        step, names = "storage-pvc", {"claim": str(claim)}
        if storage is None and volume.origin != "volume":
            storage = self.claim_spec_storage(volume.claim_spec)
            step = (
                "storage-claim-template"
                if volume.origin == "claimTemplate"
                else "storage-ephemeral"
            )
            names["volume"] = str(volume.name)
        if storage is None:
            return None
        return storage.via(step, **names)

    def environment(self, workload: Workload, container: Container) -> Environment:
        """A container's variables: `envFrom` sources in order, then `env`, which wins."""
        result = Environment()
        for source in container.node.maps("envFrom"):
            prefix = source.str("prefix") or ""
            for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                ref = source.map(key)
                if ref is None:
                    continue
                name = ref.str("name")
                obj = self.get(kind, workload.namespace, name) if name else None
                if obj is None:
                    result.unknown.append(f"{kind} {name or '?'}")
                    continue
                data_keys = ("data", "stringData") if kind == "Secret" else ("data",)
                for data_key in data_keys:
                    data = obj.node.map(data_key)
                    for variable in data.value if data else ():
                        # The kubelet skips keys that are not valid variable names.
                        if variable and "=" not in variable:
                            full = prefix + variable
                            result.variables[full] = EnvVar(full, source, f"{kind} {name}")
        for item in container.node.maps("env"):
            if name := item.str("name"):
                result.variables[name] = EnvVar(name, item, "env")
        return result

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
            for projected in volume.node.maps("projected", "sources"):
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
    """Index parsed documents; a `kind: List` contributes each of its items.

    Of several objects with the same kind, namespace and name only the last is kept (as
    `kubectl apply` of the stream leaves it), with a note on each earlier one.
    """
    objects: list[K8sObject] = []
    for document in documents:
        root = document.root
        if not isinstance(root, Map):
            errors.append(ParseError(document.line, 1, **notice("not-a-mapping")))
            continue
        candidates = [root]
        # `kubectl get -o yaml` wraps objects in `kind: List` (or `PodList`, ...).
        if (root.str("kind") or "").endswith("List") and isinstance(root.get("items"), Seq):
            candidates = list(root.maps("items"))
        for node in candidates:
            kind = node.str("kind")
            if not kind:
                errors.append(ParseError(node.line, node.column, **notice("no-kind")))
                continue
            if len(objects) >= limits.max_objects:
                errors.append(
                    ParseError(
                        node.line,
                        node.column,
                        **notice("too-many-objects", max_objects=f"{limits.max_objects:,}"),
                    )
                )
                return _index(objects, lines, errors)
            # `metadata` is looked up once for both fields (as `node.str("metadata", ...)`).
            metadata = node.value.get("metadata")
            is_map = metadata.__class__ is Map
            name = metadata.str("name") if is_map else None
            namespace = None
            if kind not in CLUSTER_SCOPED:
                namespace = (metadata.str("namespace") if is_map else None) or "default"
            ref = ObjectRef(kind, namespace, name, document.source)
            objects.append(K8sObject(kind, name, namespace, node, document.source, ref))
    return _index(objects, lines, errors)


def _index(objects: list[K8sObject], lines: list[str], errors: list[ParseError]) -> Model:
    """A model of the objects, each duplicate replaced by its last occurrence (one pass)."""
    last: dict[tuple[str, str | None, str], K8sObject] = {}
    for obj in objects:
        if obj.name is not None:
            last[(obj.kind, obj.namespace, obj.name)] = obj
    model = Model(lines=lines)
    for obj in objects:
        kept = last.get((obj.kind, obj.namespace, obj.name)) if obj.name is not None else obj
        if kept is not obj:
            said = notice(
                "duplicate-object-in-namespace" if obj.namespace else "duplicate-object",
                object=f"{obj.kind}/{obj.name}",
                kept_line=kept.node.line,
                **({"namespace": obj.namespace} if obj.namespace else {}),
            )
            errors.append(ParseError(obj.node.line, obj.node.column, **said, severity="note"))
            continue
        model.add(obj)
    return model
