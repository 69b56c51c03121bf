"""kubelet `maxPods` above what the node's pod address range can hold.

**What it finds.** A `KubeletConfiguration` (`apiVersion: kubelet.config.k8s.io/v1beta1`)
whose `maxPods` is larger than the number of pod addresses in the node's pod CIDR. The range
is taken, in this order, from the KubeletConfiguration's own `podCIDR`, from `spec.podCIDR`
(or the IPv4 entry of `spec.podCIDRs`) of Node objects in the paste (the smallest range wins,
since the configuration is applied to each of them), or from `--node-cidr-mask-size`
(`node-cidr-mask-size-ipv4`) in a kubeadm `ClusterConfiguration`'s controllerManager extraArgs.
The finding sits on the `maxPods` line.

* `maxPods` above the addresses of a known range: **error**.
* No range in the paste: kube-controller-manager's default `--node-cidr-mask-size` for IPv4,
  `/24`, is assumed and said so. Above its 253 addresses: **warning**; between 111 and 253:
  **info**, because 110 is the kubelet's default and the figure Kubernetes is tested at
  ("no more than 110 pods per node",
  https://kubernetes.io/docs/setup/best-practices/cluster-large/).

Node `status.capacity.pods` is an observation, not configuration, and is ignored.
`maxPods` at or below 110 with no range in the paste, or within a known larger range (a `/23`
with 250), is fine. IPv6 ranges are never too small.

**Why it matters.** The scheduler only counts pods against `maxPods`; it does not know how
many addresses the node has. With a CNI plugin that allocates from the node's `podCIDR`
(flannel, kubenet, the bridge plugin with host-local IPAM, Cilium in `kubernetes` IPAM mode),
pods beyond the range are scheduled and then stick in `ContainerCreating` with
`failed to allocate for range 0: no IP addresses available in range set`.

The rule used for the address count is host-local's: it allocates from the first address
after the network address up to the one before the broadcast address, and skips the gateway,
which defaults to the first address (the `cni0` bridge); see `Canonicalize` and `lastIP` in
https://github.com/containernetworking/plugins/blob/main/plugins/ipam/host-local/backend/allocator/range.go.
So a `/M` range holds 2^(32−M) − 3 pods: 253 for a `/24`, 509 for a `/23`. Pods with
`hostNetwork: true` take no address, so a few of them can run beyond that count. Plugins that
allocate their own blocks (Calico IPAM, the AWS VPC CNI, Azure CNI) ignore `podCIDR`; there
the provider's per-node limit applies instead, and you can suppress this check.

**How to fix it.** Keep `maxPods` within the range (`maxPods: 250` for a `/24`), or give new
nodes a larger range before they join: `--node-cidr-mask-size=23` on kube-controller-manager
(existing nodes keep their range until re-registered). Check the CNI's own pool settings
agree. On kubeadm nodes, change `maxPods` in the `kubelet-config` ConfigMap of `kube-system`
and run `kubeadm upgrade node phase kubelet-config` on each node: a hand edit of
`/var/lib/kubelet/config.yaml` is overwritten by the next `kubeadm upgrade node`.

**Suppressing.** `kb.troubleshooter/ignore: "kubelet-max-pods: <reason>"` on the
KubeletConfiguration's metadata, or `# kb-ignore: kubelet-max-pods <reason>` above `maxPods`.

**Reads.** KubeletConfiguration documents, Nodes (`spec.podCIDR`) and kubeadm
ClusterConfiguration; no workloads.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from troubleshooter.analyzer.messages import Phrase, say
from troubleshooter.analyzer.model import K8sObject, Model
from troubleshooter.analyzer.results import Finding
from troubleshooter.analyzer.tree import Map, Scalar

ID = "kubelet-max-pods"
TITLE = "kubelet maxPods larger than the node's pod address range"
SEVERITY = "error"
ARTICLE = "kubelet-max-pods"

FAILING_EXAMPLE = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
maxPods: 400
---
apiVersion: v1
kind: Node
metadata:
  name: worker-1
spec:
  podCIDR: 10.244.1.0/24
"""

PASSING_EXAMPLE = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
maxPods: 250
---
apiVersion: v1
kind: Node
metadata:
  name: worker-1
spec:
  podCIDR: 10.244.0.0/23
"""

KUBELET_API_GROUP = "kubelet.config.k8s.io/"
DEFAULT_MAX_PODS = 110  # kubelet default and the tested per-node figure (cluster-large)
DEFAULT_NODE_MASK = 24  # kube-controller-manager --node-cidr-mask-size default for IPv4
_MASK_ARGS = ("node-cidr-mask-size-ipv4", "node-cidr-mask-size")


@dataclass(frozen=True)
class PodRange:
    """A node's IPv4 pod range (or just its mask) and where the paste said so."""

    prefix: int
    source: Phrase | None = None  # where the range came from, a MESSAGES key and its values
    assumed: bool = False

    @property
    def addresses(self) -> int:
        """Pod addresses host-local hands out: minus network, broadcast and gateway."""
        return max(2 ** (32 - self.prefix) - 3, 0)


def pod_addresses(prefix: int) -> int:
    """Pod addresses in an IPv4 range of this prefix length under host-local IPAM."""
    return PodRange(prefix).addresses


def _ipv4_prefix(text: str | None) -> int | None:
    if not text:
        return None
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    return network.prefixlen if network.version == 4 else None


def _node_ranges(model: Model) -> list[PodRange]:
    ranges = []
    for node in model.of_kind("Node"):
        texts = [node.node.str("spec", "podCIDR")]
        podcidrs = node.node.seq("spec", "podCIDRs")
        if podcidrs is not None:
            texts.extend(item.raw for item in podcidrs.value if isinstance(item, Scalar))
        for text in texts:
            prefix = _ipv4_prefix(text)
            if prefix is not None:
                source = Phrase("range-from-node", {"cidr": text, "node": node.name})
                ranges.append(PodRange(prefix, source))
                break
    return ranges


def _kubeadm_mask(model: Model) -> PodRange | None:
    """`node-cidr-mask-size` from a kubeadm ClusterConfiguration (v1beta3 map, v1beta4 list)."""
    for obj in model.of_kind("ClusterConfiguration"):
        if not (obj.node.str("apiVersion") or "").startswith("kubeadm.k8s.io/"):
            continue
        args: dict[str, str] = {}
        extra = obj.node.get("controllerManager", "extraArgs")
        if isinstance(extra, Map):
            args = {
                key: value.raw for key, value in extra.value.items() if isinstance(value, Scalar)
            }
        else:
            for item in obj.node.maps("controllerManager", "extraArgs"):
                name, value = item.str("name"), item.str("value")
                if name and value:
                    args[name] = value
        for key in _MASK_ARGS:
            value = args.get(key, "")
            # ASCII and short before int(): "²" is a digit to isdigit() but not to int(),
            # and int() refuses more than 4 300 digits.
            if value.isascii() and value.isdigit() and len(value) <= 2 and 0 < int(value) <= 32:
                source = Phrase("range-from-kubeadm", {"mask": value, "arg": key})
                return PodRange(int(value), source)
    return None


def pod_range(model: Model, config: K8sObject) -> PodRange:
    """The pod range a KubeletConfiguration's node gets, or the /24 assumption."""
    prefix = _ipv4_prefix(config.node.str("podCIDR"))
    if prefix is not None:
        source = Phrase("range-from-config", {"cidr": config.node.str("podCIDR")})
        return PodRange(prefix, source)
    nodes = _node_ranges(model)
    if nodes:
        return max(nodes, key=lambda item: item.prefix)
    return _kubeadm_mask(model) or PodRange(
        DEFAULT_NODE_MASK,
        Phrase("range-assumed", {"mask": DEFAULT_NODE_MASK}),
        assumed=True,
    )


def _mask_for(pods: int) -> int:
    """The longest IPv4 prefix whose range holds this many pods."""
    prefix = 30
    while prefix > 8 and pod_addresses(prefix) < pods:
        prefix -= 1
    return prefix


def _fix(addresses: int, wanted: int) -> str:
    keep = min(addresses, 250)
    return (
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "kind: KubeletConfiguration\n"
        f"maxPods: {keep}\n"
        f"# or, for {wanted} pods, give new nodes a larger range before they join:\n"
        f"#   kube-controller-manager --node-cidr-mask-size={_mask_for(wanted)}\n"
    )


# The finding messages (translations: docs/kubelet-max-pods.<lang>.messages.yaml).
MESSAGES = {
    "over-range": (
        "maxPods: {max_pods} is more than the {addresses} pod addresses in the node's pod"
        " range ({range}): 2^(32-{prefix}) - 3, as host-local IPAM skips the"
        " network address, the broadcast address and the gateway. The scheduler will"
        " place up to {max_pods} pods on the node; with a CNI that allocates from the"
        " node's podCIDR (flannel, kubenet, bridge), pods past the range stay in"
        " ContainerCreating with `no IP addresses available in range set`."
    ),
    "above-default": (
        "maxPods: {max_pods} is above {default}, the kubelet default and the"
        " per-node figure Kubernetes is designed and tested for. It fits the"
        " {addresses} pod addresses of the node's pod range ({range});"
        " make sure the real podCIDR is that large and load-test the kubelet and runtime"
        " at this density."
    ),
    # Where the node's pod range came from, said inside the two messages above as {range}.
    "range-from-node": "{cidr}, from Node {node} spec.podCIDR",
    "range-from-kubeadm": "/{mask}, from {arg} in the kubeadm ClusterConfiguration",
    "range-from-config": "{cidr}, from podCIDR in this configuration",
    "range-assumed": (
        "/{mask}, assumed: kube-controller-manager's default --node-cidr-mask-size, as no Node"
        " podCIDR is in the paste"
    ),
}


def check(model: Model) -> Iterator[Finding]:
    """Yield a finding per KubeletConfiguration whose maxPods exceeds its node's pod range."""
    for config in model.of_kind("KubeletConfiguration"):
        if not (config.node.str("apiVersion") or "").startswith(KUBELET_API_GROUP):
            continue
        node = config.node.scalar("maxPods")
        if node is None or isinstance(node.value, bool) or not isinstance(node.value, int):
            continue
        max_pods = node.value
        known = pod_range(model, config)
        addresses = known.addresses
        if max_pods > addresses:
            severity = "warning" if known.assumed else "error"
            message = say(
                MESSAGES,
                "over-range",
                max_pods=max_pods,
                addresses=addresses,
                range=known.source,
                prefix=known.prefix,
            )
            fix = _fix(addresses, max_pods)
        elif known.assumed and max_pods > DEFAULT_MAX_PODS:
            severity = "info"
            message = say(
                MESSAGES,
                "above-default",
                max_pods=max_pods,
                default=DEFAULT_MAX_PODS,
                addresses=addresses,
                range=known.source,
            )
            fix = (
                "# check each node's range and allocatable pods:\n"
                "# kubectl get nodes -o custom-columns="
                "NAME:.metadata.name,CIDR:.spec.podCIDR,PODS:.status.allocatable.pods\n"
                f"maxPods: {DEFAULT_MAX_PODS}\n"
            )
        else:
            continue
        yield Finding(
            check=ID,
            severity=severity,
            article=ARTICLE,
            object=config.ref,
            line=node.line,
            column=node.column,
            fix=fix,
            **message,
        )
