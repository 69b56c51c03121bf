"""nginx's template step fails with "envsubst: Argument list too long".

**What it finds.** A container of the official nginx image (`nginx`, `nginxinc/nginx-unprivileged`)
that uses the image's templates mechanism (a volume mounted at `/etc/nginx/templates`, or any
`NGINX_ENVSUBST_*` variable) in a pod whose `enableServiceLinks` is not `false` and which sets
no `NGINX_ENVSUBST_FILTER`.

**Why it matters.** The image's `/docker-entrypoint.d/20-envsubst-on-templates.sh` hands the
names of *all* environment variables to `envsubst` as a single argument, `${NAME} ` per
variable. Linux caps one argument at `MAX_ARG_STRLEN`, 32 pages = 131 072 bytes including the
terminating NUL (`fs/exec.c`), so the container exits with `envsubst: Argument list too long`
once Σ(len(name) + 4) exceeds 131 071. With service links on (the default), the kubelet adds
about seven variables for every Service with a cluster IP in the pod's namespace (more for
extra or named ports), plus eight for the `kubernetes` Service of `default`. Measured with the
real script: it breaks at about 680, 500 and 390 Services for names of 10, 20 and 30 characters.

The check computes the size from the Services in the paste (headless and ExternalName
Services get no variables), the `kubernetes` Service (always assumed present), the
container's own variables (`env`, and envFrom ConfigMaps and Secrets with their prefix
when they are in the paste; an `NGINX_ENVSUBST_FILTER` from either counts), and an estimate
of the image's own variables (PATH, HOSTNAME, HOME, NGINX_VERSION, NJS_VERSION, NJS_RELEASE,
PKG_RELEASE, DYNPKG_RELEASE). It is an error
above the limit, a warning above half of it, and an informational note when the paste holds
no Services of that namespace, because the real namespace may hold hundreds.

**How to fix it.** Turn service links off in the pod spec (the app reaches Services through
DNS anyway)::

    spec:
      enableServiceLinks: false

or, from image 1.22.1/1.23.2 on, let envsubst see only the variables the templates use::

    env:
      - name: NGINX_ENVSUBST_FILTER
        value: "^NGINX_"

**Suppressing.** `kb.troubleshooter/ignore: "nginx-envsubst-argument-list-too-long: <reason>"`
on the workload, or `# kb-ignore: nginx-envsubst-argument-list-too-long <reason>` above the
image line.

**Reads.** Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (jobTemplate)
and ReplicationController pod templates, also inside List objects and Helm or kustomize output;
app containers, restartable sidecars (initContainers with restartPolicy: Always) and
ephemeral containers, not one-shot init containers; `env` and envFrom (ConfigMap and Secret
keys with their prefix, when those objects are in the paste); the Services of the pod's
namespace; `enableServiceLinks`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from troubleshooter.analyzer.checks._common import image_repository, pod_spec_snippet
from troubleshooter.analyzer.messages import say
from troubleshooter.analyzer.model import Container, K8sObject, Model, Workload
from troubleshooter.analyzer.results import Finding

ID = "nginx-envsubst-argument-list-too-long"
TITLE = "nginx templates + service links exceed envsubst's argument limit"
SEVERITY = "error"
ARTICLE = "nginx-envsubst-argument-list-too-long"

FAILING_EXAMPLE = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: nginx
      image: nginx:1.27
      volumeMounts:
        - name: templates
          mountPath: /etc/nginx/templates
  volumes:
    - name: templates
      configMap:
        name: nginx-templates
"""

PASSING_EXAMPLE = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  enableServiceLinks: false
  containers:
    - name: nginx
      image: nginx:1.27
      volumeMounts:
        - name: templates
          mountPath: /etc/nginx/templates
  volumes:
    - name: templates
      configMap:
        name: nginx-templates
"""

# MAX_ARG_STRLEN = 32 * PAGE_SIZE (include/uapi/linux/binfmts.h); the argument's NUL counts.
ARGUMENT_LIMIT = 131_072
TEMPLATE_DIR = "/etc/nginx/templates"
NGINX_IMAGES = frozenset({"nginx", "nginxinc/nginx-unprivileged"})
# Variables set by the image or the runtime, an estimate of what precedes service links.
IMAGE_ENV = (
    "PATH", "HOSTNAME", "HOME", "NGINX_VERSION", "NJS_VERSION", "NJS_RELEASE",
    "PKG_RELEASE", "DYNPKG_RELEASE",
)  # fmt: skip
# The `kubernetes` Service in `default` (one port 443 named https) is linked into every pod.
KUBERNETES_ENV = (
    "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBERNETES_SERVICE_PORT_HTTPS",
    "KUBERNETES_PORT", "KUBERNETES_PORT_443_TCP", "KUBERNETES_PORT_443_TCP_PROTO",
    "KUBERNETES_PORT_443_TCP_PORT", "KUBERNETES_PORT_443_TCP_ADDR",
)  # fmt: skip


def _env_prefix(name: str) -> str:
    return name.upper().replace("-", "_")


def service_link_names(service: K8sObject) -> list[str]:
    """The variable names the kubelet derives from one Service (empty if it gets none).

    Mirrors `FromServices` and `makeLinkVariables` in kubernetes pkg/kubelet/envvars.
    """
    spec = service.node.map("spec")
    if spec is None or service.name is None:
        return []
    if spec.str("type") == "ExternalName":
        return []
    cluster_ip = spec.str("clusterIP")
    if cluster_ip is not None and cluster_ip.lower() == "none":
        return []  # headless
    ports = list(spec.maps("ports"))
    if not ports:
        return []
    prefix = _env_prefix(service.name)
    names = [f"{prefix}_SERVICE_HOST", f"{prefix}_SERVICE_PORT"]
    for port in ports:
        if port_name := port.str("name"):
            names.append(f"{prefix}_SERVICE_PORT_{_env_prefix(port_name)}")
    names.append(f"{prefix}_PORT")
    for port in ports:
        number = port.str("port") or "0"
        protocol = (port.str("protocol") or "TCP").upper()
        base = f"{prefix}_PORT_{number}_{protocol}"
        names.extend((base, f"{base}_PROTO", f"{base}_PORT", f"{base}_ADDR"))
    return names


def _uses_templates(workload: Workload, container: Container, env: set[str]) -> bool:
    if any(name.startswith("NGINX_ENVSUBST_") for name in env):
        return True
    repository, _ = image_repository(container.image or "")
    if repository not in NGINX_IMAGES:
        return False
    for mount in container.mounts():
        path = posixpath.normpath(mount.mount_path)
        if path == TEMPLATE_DIR or path.startswith(TEMPLATE_DIR + "/"):
            return True
    return False


def _template_mount_node(container: Container):
    for mount in container.mounts():
        if posixpath.normpath(mount.mount_path).startswith(TEMPLATE_DIR):
            return mount.path_node
    return None


# The finding messages (translations: docs/<ID>.<lang>.messages.yaml): the size, then one
# verdict, then what the paste did not show.
MESSAGES = {
    "argument-size": (
        "nginx's template step passes {names} variable names to envsubst as one argument of"
        " about {size} bytes ({services} Services of namespace {namespace} in the paste, plus"
        " the kubernetes Service, the container's env and the image's own variables); this"
    ),
    "over-limit": "exceeds the kernel's single-argument limit of 131 072 bytes.",
    "over-half": "is more than half of the kernel's single-argument limit (131 072 bytes).",
    "no-services-pasted": (
        "fits, but the paste has no Services of namespace {namespace}; every Service there"
        " adds about 7 variables, and a few hundred break it."
    ),
    "unknown-env-from": (
        "Not in the paste, so not counted: envFrom {env_from} (if it sets"
        " NGINX_ENVSUBST_FILTER, the template step is safe)."
    ),
}


def check(model: Model) -> Iterator[Finding]:
    """Yield one finding per nginx container whose envsubst argument may be too long."""
    # Per namespace: (service-link and image names, their argument bytes, number of Services
    # that get links), computed once; per container only its own env names are added (summing
    # every name again per container was quadratic in Services x workloads).
    links: dict[str, tuple[set[str], int, int]] = {}
    for workload in model.workloads:
        if workload.spec.bool("enableServiceLinks") is False:
            continue
        for container in workload.containers(init=False):
            environment = model.environment(workload, container)
            env = set(environment.variables)
            if not _uses_templates(workload, container, env) or "NGINX_ENVSUBST_FILTER" in env:
                continue
            if workload.namespace not in links:
                link_names: set[str] = set(KUBERNETES_ENV)
                counted = 0
                for service in model.services(workload.namespace):
                    names = service_link_names(service)
                    counted += bool(names)
                    link_names.update(names)
                link_names.update(IMAGE_ENV)
                link_size = sum(len(name) + 4 for name in link_names)
                links[workload.namespace] = (link_names, link_size, counted)
            link_names, link_size, counted = links[workload.namespace]
            own = env - link_names
            names_count = len(link_names) + len(own)
            size = link_size + sum(len(name) + 4 for name in own)
            if size > ARGUMENT_LIMIT - 1:
                severity, verdict = "error", "over-limit"
            elif size > ARGUMENT_LIMIT // 2:
                severity, verdict = "warning", "over-half"
            elif counted == 0:
                severity, verdict = "info", "no-services-pasted"
            else:
                continue
            node = container.image_node or _template_mount_node(container) or container.node
            yield Finding(
                check=ID,
                severity=severity,
                article=ARTICLE,
                object=workload.ref,
                line=node.line,
                column=node.column,
                **say(
                    MESSAGES,
                    "argument-size",
                    verdict,
                    *(["unknown-env-from"] if environment.unknown else []),
                    names=names_count,
                    size=f"{size:,}",
                    services=counted,
                    namespace=repr(workload.namespace),
                    env_from=", ".join(environment.unknown),
                ),
                fix=pod_spec_snippet(
                    workload.obj.kind,
                    "enableServiceLinks: false\n"
                    "# or, nginx image >= 1.22.1, on the container:\n"
                    "#   env:\n"
                    "#     - name: NGINX_ENVSUBST_FILTER\n"
                    '#       value: "^NGINX_"\n',
                ),
            )
