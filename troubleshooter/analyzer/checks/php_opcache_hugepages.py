"""Huge pages that cannot work: OPcache `huge_code_pages`, hugepages resources and volumes.

**What it finds.**

* A `php.ini` (any `*.ini` file a container sees from a ConfigMap in the paste) that sets
  `opcache.huge_code_pages` to `1`/`On`/`yes`/`true` while that container requests no
  `hugepages-*` resource: a **warning** on that line of the ConfigMap.
* A container whose `hugepages-<size>` request differs from its limit, or that has a request
  but no limit: an **error** on the request. A limit alone is fine (the request defaults to
  it).
* A container with a `hugepages-*` request or limit but no `cpu` or `memory` request or
  limit: an **error**.
* An `emptyDir` with `medium: HugePages` or `HugePages-<size>` when no container of the pod
  requests that page size, when a bare `HugePages` medium is used with several page sizes in
  the pod, or when the container that mounts it does not request that size: an **error**.

Not reported: correct hugepages pods (requests equal to limits, with memory or cpu, and a
matching emptyDir), and `opcache.huge_code_pages=0`.

**Why it matters.** OPcache first maps memory with `MAP_HUGETLB`, which only draws from the
node's pre-allocated pool (`vm.nr_hugepages`). With no pool, current PHP on Linux falls back
to ordinary pages plus `madvise(MADV_HUGEPAGE)` and says nothing, unless that call fails too
(`madvise(HUGEPAGE) failed`, on kernels without transparent huge pages); only builds without
`MADV_HUGEPAGE` log `mmap(HUGETLB) failed: Cannot allocate memory (12)`. The option then buys
nothing, and PHP 8.4 up to at least 8.4.12 ignored it altogether (php-src issue 19638). With a
pool but no `hugepages-*` in the container, the kubelet's hugetlb cgroup limit is zero and the
kernel answers the first touch of the mapping with SIGBUS: every PHP process dies with
`Bus error`. The API server rejects hugepages requests that differ from limits (`must be
equal to hugepages-2Mi limit`), requests without limits (`Limit must be set for non
overcommitable resources`) and hugepages without cpu or memory (`HugePages require cpu or
memory`). The kubelet refuses to set up a `HugePages` emptyDir for a pod that requests no
pages of that size, so the pod stays in ContainerCreating; a container that mounts it without
its own request gets SIGBUS.

**How to fix it.** Usually, switch the option off (it is off by default and its gain is
small)::

    opcache.huge_code_pages=0

or pre-allocate huge pages on the nodes and request them, with memory, requests equal to
limits::

    resources:
      requests:
        memory: 512Mi
        hugepages-2Mi: 64Mi
      limits:
        memory: 512Mi
        hugepages-2Mi: 64Mi

**Suppressing.** `kb.troubleshooter/ignore: "php-opcache-hugepages: <reason>"` on the
workload, or `# kb-ignore: php-opcache-hugepages <reason>` on the line above (inside a php.ini,
write it after a semicolon: `; # kb-ignore: ...`).

**Reads.** Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (jobTemplate)
and ReplicationController pod templates, also inside List objects and Helm or kustomize output;
every container (app, init, sidecar, ephemeral) with its hugepages resources; `emptyDir`
hugepages volumes; php.ini files from configMap and projected volumes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from troubleshooter.analyzer.checks._common import config_line_position, key_position
from troubleshooter.analyzer.configs import parse_php_ini
from troubleshooter.analyzer.messages import say
from troubleshooter.analyzer.model import Container, Model, Mount, Workload
from troubleshooter.analyzer.results import Finding
from troubleshooter.analyzer.tree import Map, Scalar

ID = "php-opcache-hugepages"
TITLE = "OPcache huge_code_pages or hugepages resources that cannot work"
SEVERITY = "error"
ARTICLE = "php-opcache-hugepages"

FAILING_EXAMPLE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: php-ini
data:
  zz-opcache.ini: |
    opcache.enable=1
    opcache.huge_code_pages=1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: php-fpm
spec:
  selector:
    matchLabels: {app: php-fpm}
  template:
    metadata:
      labels: {app: php-fpm}
    spec:
      containers:
        - name: php-fpm
          image: php:8.3-fpm
          volumeMounts:
            - name: php-ini
              mountPath: /usr/local/etc/php/conf.d/zz-opcache.ini
              subPath: zz-opcache.ini
      volumes:
        - name: php-ini
          configMap:
            name: php-ini
"""

PASSING_EXAMPLE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: php-ini
data:
  zz-opcache.ini: |
    opcache.enable=1
    opcache.huge_code_pages=1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: php-fpm
spec:
  selector:
    matchLabels: {app: php-fpm}
  template:
    metadata:
      labels: {app: php-fpm}
    spec:
      containers:
        - name: php-fpm
          image: php:8.3-fpm
          resources:
            requests:
              memory: 512Mi
              hugepages-2Mi: 64Mi
            limits:
              memory: 512Mi
              hugepages-2Mi: 64Mi
          volumeMounts:
            - name: php-ini
              mountPath: /usr/local/etc/php/conf.d/zz-opcache.ini
              subPath: zz-opcache.ini
      volumes:
        - name: php-ini
          configMap:
            name: php-ini
"""

HUGEPAGES_PREFIX = "hugepages-"
MEDIUM_PREFIX = "HugePages"
# PHP's ini booleans (zend_ini_parse_bool): on, yes, true, or a non-zero number.
_INI_TRUE = frozenset({"on", "yes", "true"})

# A Kubernetes resource quantity (apimachinery resource.Quantity), e.g. 64Mi, 1Gi, 2e6, 500m.
# ASCII digits only, possessive runs (one pass, nothing re-split on failure), and an exponent
# only with digits: `1E` and `1Ei` are the exa suffixes, not a broken exponent.
_QUANTITY = re.compile(
    r"\s*+([+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++))"
    r"(?:([eE][+-]?+[0-9]++)|([KMGTPE]i|[kMGTPEm]))?+\s*+"
)
# No real quantity is longer; a longer one is compared as text.
_MAX_QUANTITY = 64
_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    **{f"{p}i": Decimal(2) ** (10 * (i + 1)) for i, p in enumerate("KMGTPE")},
}


def quantity(text: str | None) -> Decimal | None:
    """Parse a Kubernetes quantity into a number (bytes for memory); None if malformed."""
    if not text or len(text) > _MAX_QUANTITY:
        return None
    match = _QUANTITY.fullmatch(text)
    if match is None:
        return None
    number, exponent, suffix = match.groups()
    try:
        if exponent:
            return Decimal(number + exponent)
        return Decimal(number) * _SUFFIX[suffix or ""]
    except (ArithmeticError, KeyError):  # decimal's Overflow and InvalidOperation included
        return None


def _shown(text: str) -> str:
    """A pasted value as quoted in a message: cut when longer than any real quantity."""
    if len(text) <= _MAX_QUANTITY:
        return text
    return f"{text[:24]}... ({len(text):,} characters)"


def _same_quantity(a: str, b: str) -> bool:
    qa, qb = quantity(a), quantity(b)
    if qa is None or qb is None:
        return a.strip() == b.strip()
    return qa == qb


def _page_size(name: str) -> Decimal | None:
    """The page size of `hugepages-2Mi` or `HugePages-2Mi`, in bytes."""
    return quantity(name.split("-", 1)[1]) if "-" in name else None


def _hugepage_entries(resources: Map | None) -> dict[str, Scalar]:
    """`hugepages-*` entries of a requests or limits mapping, by resource name."""
    if resources is None:
        return {}
    return {
        key: node
        for key, node in resources.value.items()
        if key.startswith(HUGEPAGES_PREFIX) and isinstance(node, Scalar)
    }


def _container_sizes(container: Container) -> dict[Decimal, str]:
    """Page sizes the container gets a non-zero hugetlb allowance for (size → resource name)."""
    entries = {
        **_hugepage_entries(container.node.map("resources", "requests")),
        **_hugepage_entries(container.node.map("resources", "limits")),
    }
    sizes = {}
    for name, node in entries.items():
        size, amount = _page_size(name), quantity(node.raw)
        if size is not None and (amount is None or amount > 0):
            sizes[size] = name
    return sizes


# The finding messages (translations: docs/<ID>.<lang>.messages.yaml).
MESSAGES = {
    "request-without-limit": (
        "Container {container} requests {resource}: {request} without a limit; huge pages"
        " cannot be overcommitted, so the API server rejects the pod (`Limit must be set for"
        " non overcommitable resources`)."
    ),
    "request-not-limit": (
        "Container {container} requests {resource}: {request} but limits it to {limit}; huge"
        " pages requests must equal limits, so the API server rejects the pod (`must be equal"
        " to {resource} limit`)."
    ),
    "no-cpu-or-memory": (
        "Container {container} has {resource} but no cpu or memory request or limit; the API"
        " server rejects the pod with `HugePages require cpu or memory`."
    ),
    "volume-without-request": (
        "Volume {volume} is a {medium} emptyDir, but no container of the pod requests"
        " hugepages-*: the kubelet cannot set up the volume and the pod stays in"
        " ContainerCreating."
    ),
    "volume-size-ambiguous": (
        "Volume {volume} uses medium HugePages while the pod requests several page sizes"
        " ({sizes}); the kubelet cannot tell which one to mount. Name the size."
    ),
    "volume-size-not-requested": (
        "Volume {volume} uses medium {medium}, but the pod only requests {sizes}: the kubelet"
        " cannot set up the volume and the pod stays in ContainerCreating."
    ),
    "mount-without-request": (
        "Container {container} mounts the {medium} volume {volume} but does not request"
        " {resource}: its hugetlb cgroup limit is zero, so the first touch of a mapped page"
        " kills it with SIGBUS (Bus error)."
    ),
    "huge-code-pages": (
        "{file} (ConfigMap {configmap}) turns on opcache.huge_code_pages, but container"
        " {container} requests no hugepages-*. Without huge pages on the node the option does"
        " nothing (PHP falls back to ordinary pages; old builds log `mmap(HUGETLB) failed`);"
        " with them on the node, the pod's zero hugetlb limit makes PHP die with `Bus error`."
    ),
}


def _finding(workload: Workload, severity: str, where: tuple[int, int], message: dict, fix: str):
    return Finding(
        check=ID,
        severity=severity,
        article=ARTICLE,
        object=workload.ref,
        line=where[0],
        column=where[1],
        fix=fix,
        **message,
    )


def _resource_fix(name: str, amount: str) -> str:
    return (
        "resources:\n"
        "  requests:\n"
        "    memory: 512Mi\n"
        f"    {name}: {amount}\n"
        "  limits:\n"
        "    memory: 512Mi\n"
        f"    {name}: {amount}\n"
    )


def _check_resources(workload: Workload, container: Container) -> Iterator[Finding]:
    label = container.name or "?"
    requests = container.node.map("resources", "requests")
    limits = container.node.map("resources", "limits")
    requested, limited = _hugepage_entries(requests), _hugepage_entries(limits)
    for name, request in requested.items():
        limit = limited.get(name)
        assert requests is not None  # requested is empty otherwise
        if limit is None:
            yield _finding(
                workload,
                "error",
                key_position(requests, name),
                say(
                    MESSAGES,
                    "request-without-limit",
                    container=repr(label),
                    resource=name,
                    request=_shown(request.raw),
                ),
                _resource_fix(name, _shown(request.raw)),
            )
        elif not _same_quantity(request.raw, limit.raw):
            yield _finding(
                workload,
                "error",
                key_position(requests, name),
                say(
                    MESSAGES,
                    "request-not-limit",
                    container=repr(label),
                    resource=name,
                    request=_shown(request.raw),
                    limit=_shown(limit.raw),
                ),
                _resource_fix(name, _shown(limit.raw)),
            )
    if requested or limited:
        has_cpu_or_memory = any(
            holder is not None and holder.get(key) is not None
            for holder in (requests, limits)
            for key in ("cpu", "memory")
        )
        if not has_cpu_or_memory:
            name, node = next(iter({**limited, **requested}.items()))
            holder = requests if name in requested else limits
            assert holder is not None
            yield _finding(
                workload,
                "error",
                key_position(holder, name),
                say(MESSAGES, "no-cpu-or-memory", container=repr(label), resource=name),
                _resource_fix(name, _shown(node.raw)),
            )


def _check_volumes(workload: Workload) -> Iterator[Finding]:
    containers = list(workload.containers())
    pod_sizes: dict[Decimal, str] = {}
    # Each container's sizes and mounts read once, mounts indexed by volume: per volume and
    # container they were read again (volumes x containers x mounts).
    mounts_of: dict[str, list[tuple[Container, Mount, dict[Decimal, str]]]] = {}
    for container in containers:
        sizes = _container_sizes(container)
        pod_sizes.update(sizes)
        for mount in container.mounts():
            mounts_of.setdefault(mount.name, []).append((container, mount, sizes))
    for volume in workload.spec.maps("volumes"):
        medium_node = volume.scalar("emptyDir", "medium")
        medium = medium_node.raw if medium_node is not None and medium_node.value else ""
        if not medium.startswith(MEDIUM_PREFIX):
            continue
        assert medium_node is not None
        where = (medium_node.line, medium_node.column)
        name = volume.str("name") or "?"
        if medium == MEDIUM_PREFIX:
            size = next(iter(pod_sizes)) if len(pod_sizes) == 1 else None
        else:
            size = _page_size(medium)
        if not pod_sizes:
            yield _finding(
                workload,
                "error",
                where,
                say(MESSAGES, "volume-without-request", volume=repr(name), medium=medium),
                _resource_fix("hugepages-2Mi", "64Mi"),
            )
            continue
        if medium == MEDIUM_PREFIX and size is None:
            sizes = ", ".join(sorted(pod_sizes.values()))
            yield _finding(
                workload,
                "error",
                where,
                say(MESSAGES, "volume-size-ambiguous", volume=repr(name), sizes=sizes),
                f"emptyDir:\n  medium: HugePages-{sorted(pod_sizes.values())[0][10:]}\n",
            )
            continue
        if size is None:
            continue
        if size not in pod_sizes:
            sizes = ", ".join(sorted(pod_sizes.values()))
            yield _finding(
                workload,
                "error",
                where,
                say(
                    MESSAGES,
                    "volume-size-not-requested",
                    volume=repr(name),
                    medium=medium,
                    sizes=sizes,
                ),
                f"emptyDir:\n  medium: HugePages-{sorted(pod_sizes.values())[0][10:]}\n",
            )
            continue
        resource = pod_sizes[size]
        for container, mount, sizes in mounts_of.get(name, ()):
            if size in sizes:
                continue
            yield _finding(
                workload,
                "error",
                (mount.path_node.line, mount.path_node.column),
                say(
                    MESSAGES,
                    "mount-without-request",
                    container=repr(container.name or "?"),
                    medium=medium,
                    volume=repr(name),
                    resource=resource,
                ),
                _resource_fix(resource, "64Mi"),
            )


def _ini_true(value: str) -> bool:
    text = value.strip().lower()
    if text in _INI_TRUE:
        return True
    try:
        return int(text) != 0
    except ValueError:
        return False


def _check_php_ini(model: Model, workload: Workload, container: Container) -> Iterator[Finding]:
    if _container_sizes(container):
        return
    for file in model.mounted_files(workload, container):
        if not file.path.endswith(".ini"):
            continue
        setting = parse_php_ini(file.value.value).get("opcache.huge_code_pages")
        if setting is None or not _ini_true(setting.value):
            continue
        yield _finding(
            workload,
            "warning",
            config_line_position(model.lines, file.value, setting.line),
            say(
                MESSAGES,
                "huge-code-pages",
                file=file.path,
                configmap=file.configmap.name,
                container=repr(container.name or "?"),
            ),
            "opcache.huge_code_pages=0\n",
        )


def check(model: Model) -> Iterator[Finding]:
    """Yield findings for huge pages settings that the API, kubelet or kernel will refuse."""
    for workload in model.workloads:
        for container in workload.containers():
            yield from _check_resources(workload, container)
            yield from _check_php_ini(model, workload, container)
        yield from _check_volumes(workload)
