"""NodePort/LoadBalancer Services in front of web servers that will log node addresses.

**What it finds.** A Service of `type: NodePort` or `LoadBalancer` without
`externalTrafficPolicy: Local`, whose selector matches web pods in the paste: pods or
workload pod templates in the same namespace whose labels contain the selector, with a
container that serves HTTP (a `containerPort` 80, 443, 8080 or 8443, a port named `http` or
`https`, or an nginx, httpd/apache, php, caddy, envoy, traefik, haproxy or ingress-nginx
image). When the selector matches nothing in the paste, a Service exposing port 80 or 443 is
reported too, and the message says that it assumes web pods behind it. The finding sits on
the `type` line, or on the `externalTrafficPolicy` line when `Cluster` is written out: an
explicit `Cluster` is still reported, because the consequence is the same; suppress the
finding with a reason if the choice is deliberate.

Left alone: ClusterIP, headless and ExternalName Services, Services without a selector
(their endpoints are managed elsewhere), Services whose selected pods are not web servers,
Services with `externalTrafficPolicy: Local`, and LoadBalancers with a PROXY protocol
annotation (for example `service.beta.kubernetes.io/aws-load-balancer-proxy-protocol: "*"`),
which carry the client address in the protocol, and LoadBalancers of a class that does not
reach the pods through node ports (loadBalancerClass: tailscale: the Tailscale operator's
proxy pod forwards to the Service's cluster IP, so the traffic policy plays no part).

**Why it matters.** With the default `Cluster` policy a node may forward external traffic to
a pod on another node, so kube-proxy rewrites the packet's source to the receiving node's
address (SNAT) to get the reply back through it. The pod sees a node, bridge or tunnel
address: nginx's `$remote_addr`, PHP's `REMOTE_ADDR`, access logs, rate limits and IP
allow-lists all see the cluster instead of the client. This is reported as information:
it is the default, and many setups recover the address at another layer.

**How to fix it.** Keep the client address at layer 4::

    spec:
      type: LoadBalancer
      externalTrafficPolicy: Local

Trade-offs: only nodes with a ready local endpoint receive traffic (for LoadBalancers, the
cloud checks the allocated `healthCheckNodePort`; a bare NodePort on a node without a pod
times out), and load is spread per node rather than per pod, so spread the replicas across
nodes. `Local` keeps only the address the node receives: behind a load balancer that proxies
the connection (AWS Classic ELB and ALB, proxy-based cloud load balancers) the pod still sees
the load balancer's address, and traffic from inside the cluster to the LoadBalancer IP always
gets `Cluster` semantics. Alternatively keep `Cluster` and have the load balancer pass the
address in `X-Forwarded-For` or with PROXY protocol, and let nginx's realip module trust only
that hop.

**Suppressing.** `kb.troubleshooter/ignore: "client-source-ip-external-traffic-policy:
<reason>"` on the Service, or `# kb-ignore: client-source-ip-external-traffic-policy
<reason>` above its `type` line.

**Reads.** Services, and the workloads their selector matches: Pod, Deployment, ReplicaSet,
StatefulSet, DaemonSet, Job, CronJob (jobTemplate) and ReplicationController pod templates,
also inside List objects and Helm or kustomize output; app containers and restartable sidecars.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from troubleshooter.analyzer.checks._common import image_repository
from troubleshooter.analyzer.messages import say
from troubleshooter.analyzer.model import K8sObject, Model, Workload
from troubleshooter.analyzer.results import Finding
from troubleshooter.analyzer.tree import Map, Scalar

ID = "client-source-ip-external-traffic-policy"
TITLE = "NodePort/LoadBalancer Service hides the client IP from web pods"
SEVERITY = "info"
ARTICLE = "client-source-ip-external-traffic-policy"

FAILING_EXAMPLE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
---
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
          image: nginxinc/nginx-unprivileged:1.27
          ports:
            - containerPort: 8080
"""

PASSING_EXAMPLE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
---
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
          image: nginxinc/nginx-unprivileged:1.27
          ports:
            - containerPort: 8080
"""

EXTERNAL_TYPES = ("NodePort", "LoadBalancer")
HTTP_PORTS = frozenset({80, 443, 8080, 8443})
HTTP_PORT_NAMES = frozenset({"http", "https"})
_WEB_IMAGE = re.compile(r"nginx|httpd|apache|php|caddy|envoy|traefik|haproxy", re.IGNORECASE)
_PROXY_PROTOCOL_KEY = re.compile(r"proxy-?protocol", re.IGNORECASE)
_OFF = frozenset({"", "false", "0", "no", "off", "none", "disabled"})
_NAMED = 5  # web workloads named in a message; the rest are counted


def _selector(service: Map) -> dict[str, str] | None:
    """The Service's selector as plain strings; None when absent, empty or mistyped."""
    selector = service.map("spec", "selector")
    if selector is None:
        return None
    labels = {
        key: value.raw
        for key, value in selector.value.items()
        if isinstance(value, Scalar) and value.value is not None
    }
    return labels or None


def _pod_labels(workload: Workload) -> dict[str, str]:
    labels = workload.template_metadata.map("labels") if workload.template_metadata else None
    if labels is None:
        return {}
    return {
        key: value.raw
        for key, value in labels.value.items()
        if isinstance(value, Scalar) and value.value is not None
    }


def _serves_http(workload: Workload) -> bool:
    """Whether a container of the pod listens on an HTTP port or runs a web server image."""
    for container in workload.containers(init=False):
        for port in container.node.maps("ports"):
            number = port.scalar("containerPort")
            if number is not None and number.value in HTTP_PORTS:
                return True
            if (port.str("name") or "").lower() in HTTP_PORT_NAMES:
                return True
        if container.image:
            repository, _ = image_repository(container.image)
            if "ingress-nginx" in repository or _WEB_IMAGE.search(repository.rsplit("/", 1)[-1]):
                return True
    return False


# Load-balancer classes whose controller runs its own proxy in front of the Service's cluster
# IP instead of sending traffic to node ports: externalTrafficPolicy does not apply to them.
# Tailscale operator: https://tailscale.com/kb/1236/kubernetes-operator
PROXYING_LOAD_BALANCER_CLASSES = frozenset({"tailscale"})


def _exposes_web_port(service: Map) -> bool:
    for port in service.maps("spec", "ports"):
        number = port.scalar("port")
        if number is not None and number.value in (80, 443):
            return True
    return False


def _proxy_protocol(service: K8sObject) -> bool:
    annotations = service.annotations
    if annotations is None:
        return False
    return any(
        _PROXY_PROTOCOL_KEY.search(key)
        and isinstance(value, Scalar)
        and value.raw.strip().lower() not in _OFF
        for key, value in annotations.value.items()
    )


def _fix(kind: str) -> str:
    reach = (
        "# LoadBalancer: the cloud health-checks healthCheckNodePort and skips nodes with no pod"
        if kind == "LoadBalancer"
        else "# NodePort: clients that hit a node without a ready pod time out"
    )
    return (
        "spec:\n"
        f"  type: {kind}\n"
        "  externalTrafficPolicy: Local\n"
        f"{reach};\n"
        "# spread replicas over nodes (topologySpreadConstraints), as load is split per node.\n"
        "# Or keep Cluster and pass the client IP via X-Forwarded-For or PROXY protocol.\n"
    )


# The finding messages (translations: docs/<ID>.<lang>.messages.yaml): the setting, who loses
# the client's address, and what to do.
MESSAGES = {
    "explicit-cluster": "type: {type} with externalTrafficPolicy: Cluster:",
    "default-cluster": "type: {type} with the default Cluster policy:",
    "web-pods": (
        "kube-proxy SNATs external traffic to a node address, so its web pods ({names}) see"
        " node or bridge IPs instead of the client's in access logs, REMOTE_ADDR, rate limits"
        " and IP allow-lists."
    ),
    "web-pods-and-more": (
        "kube-proxy SNATs external traffic to a node address, so its web pods ({names} and"
        " {more} more) see node or bridge IPs instead of the client's in access logs,"
        " REMOTE_ADDR, rate limits and IP allow-lists."
    ),
    "assumed-web-pods": (
        "kube-proxy SNATs external traffic to a node address, so the pods behind it (none in"
        " the paste; assumed to serve HTTP, as the Service exposes port 80/443) see node or"
        " bridge IPs instead of the client's in access logs, REMOTE_ADDR, rate limits and IP"
        " allow-lists."
    ),
    "advice": (
        "Set externalTrafficPolicy: Local, or carry the client IP in X-Forwarded-For or PROXY"
        " protocol."
    ),
}


def check(model: Model) -> Iterator[Finding]:
    """Yield an info finding per external Service whose web pods will see node addresses."""
    # Pod labels per namespace, read once; Services with the same selector share the answer
    # (every Service against every workload, re-read each time, was quadratic).
    pods: dict[str | None, list[tuple[Workload, dict[str, str]]]] = {}
    for workload in model.workloads:
        pods.setdefault(workload.namespace, []).append((workload, _pod_labels(workload)))
    answers: dict[tuple, tuple[list[Workload], list[Workload]]] = {}
    for service in model.of_kind("Service"):
        type_node = service.node.scalar("spec", "type")
        if type_node is None or type_node.value not in EXTERNAL_TYPES:
            continue
        policy = service.node.scalar("spec", "externalTrafficPolicy")
        if policy is not None and policy.value == "Local":
            continue
        if type_node.value == "LoadBalancer" and _proxy_protocol(service):
            continue
        if type_node.value == "LoadBalancer" and (
            service.node.str("spec", "loadBalancerClass") in PROXYING_LOAD_BALANCER_CLASSES
        ):
            continue
        selector = _selector(service.node)
        if selector is None:
            continue
        key = (service.namespace, tuple(sorted(selector.items())))
        if key not in answers:
            matched = [
                workload
                for workload, labels in pods.get(service.namespace, ())
                if selector.items() <= labels.items()
            ]
            answers[key] = (matched, [workload for workload in matched if _serves_http(workload)])
        matched, web = answers[key]
        names = ", ".join(workload.ref.label() for workload in web[:_NAMED])
        if web:
            target = "web-pods-and-more" if len(web) > _NAMED else "web-pods"
        elif not matched and _exposes_web_port(service.node):
            target = "assumed-web-pods"
        else:
            continue
        explicit = policy is not None and policy.value == "Cluster"
        anchor = policy if explicit else type_node
        setting = "explicit-cluster" if explicit else "default-cluster"
        yield Finding(
            check=ID,
            severity=SEVERITY,
            article=ARTICLE,
            object=service.ref,
            line=anchor.line,
            column=anchor.column,
            fix=_fix(type_node.value),
            **say(
                MESSAGES,
                setting,
                target,
                "advice",
                type=type_node.value,
                names=names,
                more=f"{len(web) - _NAMED:,}",
            ),
        )
