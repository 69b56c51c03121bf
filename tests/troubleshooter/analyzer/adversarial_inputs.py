"""Adversarial manifests for the analyzer: one family per parser and per check.

Each family builds a manifest of about `size` bytes that pushes one piece of code to its
worst case: a long run a regex could backtrack over, an unterminated construct, many objects
that all refer to each other, a huge or odd number, Unicode digits, deep nesting, one long
line. The test suite runs each one in a separate process with a generous bound (hang
detection); `bench/adversarial_bench.py` times them at growing sizes so quadratic growth shows.

Imported by tests/troubleshooter/analyzer/test_adversarial.py (pytest puts that folder on
sys.path) and by the bench (which adds it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """One adversarial input family: what it attacks and how to build it at a size."""

    name: str
    target: str  # a check id, or "parse", "suppress", "configs", "model", "cli"
    make: Callable[[int], str]
    # True when the work itself is a product of two counts (every container really sees every
    # key of the ConfigMap it mounts): only the analysis deadline bounds it, by design.
    quadratic_by_nature: bool = False


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line + "\n" if line else "\n" for line in text.split("\n"))


def _pod(name: str, body: str, *, kind: str = "Pod") -> str:
    return f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n" + _indent(body, 2)


def _container(image: str, extra: str = "") -> str:
    return f"containers:\n  - name: c\n    image: {image}\n" + _indent(extra, 4)


def _configmap(name: str, key: str, content: str) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {key}: |\n"
        + _indent(content, 4)
    )


def _mounted(image: str, cm: str, key: str, path: str) -> str:
    mounts = f"volumeMounts:\n  - name: conf\n    mountPath: {path}\n    subPath: {key}\n"
    volumes = f"volumes:\n  - name: conf\n    configMap:\n      name: {cm}\n"
    return _pod("p", _container(image, mounts) + volumes)


def _hugepages(quantity: str) -> str:
    resources = (
        "resources:\n"
        f"  requests: {{memory: 1Gi, hugepages-2Mi: '{quantity}'}}\n"
        "  limits: {memory: 1Gi, hugepages-2Mi: 64Mi}\n"
    )
    return _pod("huge", _container("php:8.3-fpm", resources))


def hugepages_quantity_run(size: int) -> str:
    """A quantity of digits that fails at the very end (quadratic in the old regex)."""
    return _hugepages("1" * size + "!")


def hugepages_quantity_huge(size: int) -> str:
    """A well-formed quantity with `size` digits and an exponent suffix (Decimal overflow)."""
    return _hugepages("9" * size + "e999999999")


def hugepages_quantity_suffixes(size: int) -> str:
    """Many containers whose requests use the E/Ei suffixes and exponents."""
    units = ["1E", "1Ei", "2e3", "0.5Ei", "1e18", "1Pi", "٣Mi", "²Mi"]
    body = "containers:\n"
    count = max(1, size // 160)
    for index in range(count):
        unit = units[index % len(units)]
        body += (
            f"  - name: c{index}\n    image: php\n    resources:\n"
            f"      requests: {{memory: 1Gi, hugepages-2Mi: '{unit}'}}\n"
            f"      limits: {{memory: 1Gi, hugepages-2Mi: '{unit}'}}\n"
        )
    return _pod("units", body)


def helm_source_line(size: int) -> str:
    """A `# Source:` comment whose value is a long run of spaces before a last word."""
    return "# Source: chart/" + " " * size + "x\n" + _pod("p", _container("busybox"))


def helm_source_lines(size: int) -> str:
    """Many documents, each with a `# Source:` line: the scan must stay per document."""
    doc = "---\n# Source: chart/templates/a.yaml\n" + _pod("p", _container("busybox"))
    return doc * max(1, size // len(doc))


def annotation_reason(size: int) -> str:
    """An ignore annotation whose reason holds a long run of spaces before the last word."""
    value = "run-as-non-root: reason" + " " * size + "x"
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
        f"    kb.troubleshooter/ignore: '{value}'\nspec:\n" + _indent(_container("busybox"), 2)
    )


def annotation_ids(size: int) -> str:
    """An ignore annotation listing thousands of ids and no colon."""
    value = "a," * (size // 2) + "a"
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
        f"    kb.troubleshooter/ignore: '{value}'\nspec:\n" + _indent(_container("busybox"), 2)
    )


def inline_ignore_ids(size: int) -> str:
    """One `# kb-ignore: a,a,a,...` line: one unknown id repeated (note amplification)."""
    return "# kb-ignore: " + "a," * (size // 2) + "a why\n" + _pod("p", _container("busybox"))


def inline_ignore_lines(size: int) -> str:
    """Thousands of malformed `# kb-ignore` lines (one note each, before the cap)."""
    return "# kb-ignore\n" * (size // 12) + _pod("p", _container("busybox"))


def httpd_section(size: int) -> str:
    """A mounted httpd.conf with an unclosed `<Section` of `size` letters."""
    conf = "<" + "A" * size + "\nEnableMMAP On\n"
    return (
        _configmap("conf", "httpd.conf", conf)
        + "---\n"
        + _mounted("httpd:2.4", "conf", "httpd.conf", "/usr/local/apache2/conf/httpd.conf")
    )


def httpd_spaces(size: int) -> str:
    """A mounted httpd.conf section line with a long run of blanks after `<`."""
    conf = "<" + " " * size + "1\n<Directory /x " + " " * size + "\n"
    return (
        _configmap("conf", "httpd.conf", conf)
        + "---\n"
        + _mounted("httpd:2.4", "conf", "httpd.conf", "/usr/local/apache2/conf/httpd.conf")
    )


def httpd_continuations(size: int) -> str:
    """A mounted httpd.conf of thousands of backslash-continued lines."""
    conf = "EnableSendfile \\\n" * (size // 18) + "On\n"
    return (
        _configmap("conf", "httpd.conf", conf)
        + "---\n"
        + _mounted("httpd:2.4", "conf", "httpd.conf", "/usr/local/apache2/conf/httpd.conf")
    )


def _nginx(conf: str) -> str:
    return (
        _configmap("nginx", "nginx.conf", conf)
        + "---\n"
        + _mounted("nginx:1.27", "nginx", "nginx.conf", "/etc/nginx/nginx.conf")
    )


def nginx_many_directives(size: int) -> str:
    """A mounted nginx.conf of many short directives (line counting per directive)."""
    return _nginx("a b;\n" * (size // 5) + "sendfile on;\n")


def nginx_unterminated_quote(size: int) -> str:
    """A mounted nginx.conf with an unterminated quote full of escaped quotes."""
    return _nginx('root "' + '\\"' * (size // 2) + "\n")


def nginx_nested_blocks(size: int) -> str:
    """A mounted nginx.conf with thousands of nested blocks, never closed."""
    return _nginx("http {\n" * (size // 7) + "sendfile on;\n")


def php_ini_long(size: int) -> str:
    """A mounted php.ini of many lines, one of them huge, with odd booleans."""
    ini = "x=1\n" * (size // 8) + "opcache.huge_code_pages=" + "٣" * (size // 2) + "\n"
    return (
        _configmap("php", "php.ini", ini)
        + "---\n"
        + _mounted("php:8.3-fpm", "php", "php.ini", "/usr/local/etc/php/conf.d/php.ini")
    )


def configmap_items(size: int) -> str:
    """One big config mounted through thousands of `items` entries of the same key."""
    content = "opcache.huge_code_pages=1\n" + "x=1\n" * 5000
    items = "".join(f"        - {{key: php.ini, path: f{i}.ini}}\n" for i in range(size // 40))
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
        "  containers:\n    - name: c\n      image: php:8.3-apache\n"
        "      volumeMounts:\n        - {name: conf, mountPath: /usr/local/etc/php/conf.d}\n"
        "  volumes:\n    - name: conf\n      configMap:\n        name: php\n        items:\n"
        + _indent(items, 0)
    )
    return _configmap("php", "php.ini", content) + "---\n" + pod


def yaml_base60(size: int) -> str:
    """A YAML 1.1 base-60 integer `1:1:1:...` (quadratic big-int construction)."""
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: "
        + "1:" * (size // 2)
        + "1\n"
    )


def yaml_huge_ints(size: int) -> str:
    """Integers with thousands of digits, in decimal and hex, where checks read numbers."""
    digits = "9" * max(10, size // 4)
    hexes = "0x" + "f" * max(10, size // 4)
    return (
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        f"maxPods: {hexes}\n---\n"
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        f"maxPods: {digits}\n---\n"
        + _pod("p", _container("php", f"securityContext: {{runAsUser: {digits}}}\n"))
    )


def yaml_deep_flow(size: int) -> str:
    """Deep flow nesting `[[[[...` (the depth guard must refuse it without recursion)."""
    return "a: " + "[" * (size // 2) + "]" * (size // 2) + "\n"


def yaml_deep_block(size: int) -> str:
    """Deep block nesting `- - - - ...`."""
    return "a:\n" + "".join("  " * i + "- x:\n" for i in range(min(size // 200, 5000)))


def yaml_long_line(size: int) -> str:
    """One plain scalar as long as the input, then many short objects."""
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: " + "a" * size


def yaml_many_documents(size: int) -> str:
    """Many tiny documents, and `---` lines that are not separators."""
    return "---\na: 1\n--- # c\n---x: 2\n" * (size // 25)


def yaml_unterminated(size: int) -> str:
    """An unterminated quoted scalar and an unterminated flow mapping."""
    return 'a: "' + 'x \\" ' * (size // 12) + "\n---\nb: {" + "k: v, " * (size // 12)


def yaml_aliases(size: int) -> str:
    """Many aliases of one anchor (expansion bounded by the alias limit)."""
    body = "base: &b {a: 1, b: [1, 2, 3]}\nrefs:\n" + "  - *b\n" * (size // 7)
    return body


def yaml_directives(size: int) -> str:
    """Documents that each carry `%YAML` and `%TAG` directives."""
    doc = "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\n" + _pod("p", _container("busybox"))
    return (doc + "...\n") * max(1, size // (len(doc) + 4))


def unicode_digits(size: int) -> str:
    """Numbers written with Unicode digits where checks parse numbers."""
    digits = "²" + "٣" * max(1, size // 8)
    return (
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n"
        f"controllerManager:\n  extraArgs:\n    node-cidr-mask-size: '{digits}'\n"
        "---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "maxPods: 300\n---\n"
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: efs}\nspec:\n"
        "  mountOptions: [nfsvers=4.1, 'timeo=" + digits + "', 'retrans=²']\n"
        "  nfs: {server: fs-1.efs.us-east-1.amazonaws.com, path: /}\n"
    )


def mask_size_digits(size: int) -> str:
    """A kubeadm `node-cidr-mask-size` with thousands of ASCII digits."""
    return (
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n"
        f"controllerManager:\n  extraArgs:\n    node-cidr-mask-size: '{'2' * max(5, size)}'\n"
        "---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "maxPods: 300\n"
    )


def pv_claims(size: int) -> str:
    """N hostPath PVs bound by claimRef and N pods each mounting a claim (all-pairs look-ups)."""
    count = max(1, size // 420)
    parts = []
    for i in range(count):
        parts.append(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n"
            f"  name: pv{i}\nspec:\n  hostPath: {{path: /mnt/nas/v{i}}}\n"
            f"  claimRef: {{name: c{i}, namespace: default}}\n"
        )
        parts.append(
            _pod(
                f"p{i}",
                _container("php:8.3-apache", "volumeMounts: [{name: d, mountPath: /var/www}]\n")
                + f"volumes: [{{name: d, persistentVolumeClaim: {{claimName: c{i}}}}}]\n",
            )
        )
    return "---\n".join(parts)


def virtual_node_claims(size: int) -> str:
    """Pods on AKS virtual nodes, each with claims bound to PVs by claimRef only."""
    count = max(1, size // 520)
    parts = []
    for i in range(count):
        parts.append(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n"
            f"  name: pv{i}\nspec:\n  csi: {{driver: file.csi.azure.com}}\n"
            f"  claimRef: {{name: c{i}, namespace: default}}\n"
        )
        parts.append(
            _pod(
                f"p{i}",
                _container("busybox", "volumeMounts: [{name: d, mountPath: /d}]\n")
                + f"volumes: [{{name: d, persistentVolumeClaim: {{claimName: c{i}}}}}]\n"
                + "nodeSelector: {type: virtual-kubelet}\n"
                + "tolerations: [{key: virtual-kubelet.io/provider, operator: Exists}]\n",
            )
        )
    return "---\n".join(parts)


def pod_many_containers(size: int) -> str:
    """One pod with thousands of containers and volumes (per-container volume look-ups)."""
    count = max(1, size // 160)
    containers = "".join(
        f"  - {{name: c{i}, image: 'httpd:2.4',"
        f" volumeMounts: [{{name: v{i}, mountPath: /usr/local/apache2/htdocs}}]}}\n"
        for i in range(count)
    )
    volumes = "".join(f"  - {{name: v{i}, configMap: {{name: conf}}}}\n" for i in range(count))
    return _pod("many", "containers:\n" + containers + "volumes:\n" + volumes)


def configmap_many_keys(size: int) -> str:
    """A ConfigMap of many keys mounted whole by many containers (keys x containers files)."""
    count = max(1, size // 200)
    data = "".join(f"  k{i}.ini: 'x=1'\n" for i in range(count))
    containers = "".join(
        f"  - {{name: c{i}, image: 'php:8.3-apache',"
        f" volumeMounts: [{{name: conf, mountPath: /usr/local/etc/php/conf.d}}]}}\n"
        for i in range(count)
    )
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata:\n"
        + data
        + "---\n"
        + _pod(
            "many",
            "containers:\n" + containers + "volumes: [{name: conf, configMap: {name: conf}}]\n",
        )
    )


def nginx_shared_config(size: int) -> str:
    """A big nginx.conf mounted by many containers (settings read per container before)."""
    conf = "sendfile on;\n" + "a b;\n" * (size // 10)
    count = max(1, size // 400)
    containers = "".join(
        f"  - {{name: c{i}, image: 'nginx:1.27', volumeMounts: [{{name: conf,"
        f" mountPath: /etc/nginx/nginx.conf, subPath: nginx.conf}}]}}\n"
        for i in range(count)
    )
    return (
        _configmap("nginx", "nginx.conf", conf)
        + "---\n"
        + _pod(
            "many",
            "containers:\n" + containers + "volumes: [{name: conf, configMap: {name: nginx}}]\n",
        )
    )


def nginx_roots_and_mounts(size: int) -> str:
    """Many distinct nginx roots and many NFS mounts that match none of them."""
    conf = "sendfile on;\n" + "".join(f"root /srv/r{i};\n" for i in range(size // 30))
    count = max(1, size // 120)
    mounts = "".join(f"      - {{name: n{i}, mountPath: /data/m{i}}}\n" for i in range(count))
    volumes = "".join(
        f"  - {{name: n{i}, nfs: {{server: nas, path: /e{i}}}}}\n" for i in range(count)
    )
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: c\n      image: nginx:1.27\n      volumeMounts:\n"
        "      - {name: conf, mountPath: /etc/nginx/nginx.conf, subPath: nginx.conf}\n"
        + mounts
        + "  volumes:\n  - {name: conf, configMap: {name: nginx}}\n"
        + volumes
    )
    return _configmap("nginx", "nginx.conf", conf) + "---\n" + pod


def services_and_workloads(size: int) -> str:
    """N LoadBalancer Services and N web pods that all select each other."""
    count = max(1, size // 330)
    parts = []
    for i in range(count):
        parts.append(
            "apiVersion: v1\nkind: Service\nmetadata:\n"
            f"  name: s{i}\nspec:\n  type: LoadBalancer\n  selector: {{app: web}}\n"
            "  ports: [{port: 80}]\n"
        )
        parts.append(
            "apiVersion: v1\nkind: Pod\nmetadata:\n"
            f"  name: w{i}\n  labels: {{app: web}}\nspec:\n"
            "  enableServiceLinks: true\n"
            "  containers: [{name: c, image: 'nginx:1.27',"
            " volumeMounts: [{name: t, mountPath: /etc/nginx/templates}]}]\n"
            "  volumes: [{name: t, emptyDir: {}}]\n"
        )
    return "---\n".join(parts)


def storage_classes(size: int) -> str:
    """Many StorageClasses and claims without a class (default-class look-up per claim)."""
    count = max(1, size // 500)
    parts = []
    for i in range(count):
        parts.append(
            "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n"
            f"  name: sc{i}\nprovisioner: nfs.csi.k8s.io\n"
            "mountOptions: [soft]\n"
        )
        parts.append(
            f"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: c{i}}}\nspec: {{}}\n"
        )
        parts.append(
            _pod(
                f"p{i}",
                _container(
                    "httpd:2.4", "volumeMounts: [{name: d, mountPath: /usr/local/apache2/htdocs}]\n"
                )
                + f"volumes: [{{name: d, persistentVolumeClaim: {{claimName: c{i}}}}}]\n"
                + "nodeSelector: {type: virtual-kubelet}\n",
            )
        )
    return "---\n".join(parts)


def configmap_versions(size: int) -> str:
    """A subPath ConfigMap mount whose name is a long `-v1-1-1...` run."""
    name = "cm-v1" + "-1" * (size // 2) + "x"
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: '{name}'\ndata: {{a: b}}\n---\n"
        + _mounted("nginx", name, "a", "/etc/a")
    )


def efs_server(size: int) -> str:
    """An NFS server name of many `efs.` labels (the EFS host pattern)."""
    server = "efs." * (size // 4) + "x"
    return (
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: efs}\nspec:\n"
        f"  mountOptions: [soft]\n  nfs: {{server: '{server}', path: /}}\n"
    )


def image_names(size: int) -> str:
    """An image reference that is one long run of colons and slashes."""
    image = "a:/" * (size // 3)
    return _pod("p", _container(f"'{image}'"))


def security_contexts(size: int) -> str:
    """Thousands of containers with contradictory securityContexts."""
    body = "securityContext: {runAsNonRoot: true}\ncontainers:\n"
    count = max(1, size // 120)
    for i in range(count):
        body += f"  - {{name: c{i}, image: busybox, securityContext: {{runAsUser: 0}}}}\n"
    return _pod("p", body)


def upload_tmp_dir(size: int) -> str:
    """A php.ini setting upload_tmp_dir to a very long path, mounted in a PHP container."""
    ini = "upload_tmp_dir = /" + "a/" * (size // 2) + "\n"
    return (
        _configmap("php", "php.ini", ini)
        + "---\n"
        + _mounted("php:8.3-apache", "php", "php.ini", "/usr/local/etc/php/conf.d/php.ini")
    )


FAMILIES: tuple[Family, ...] = (
    Family("hugepages-quantity-run", "php-opcache-hugepages", hugepages_quantity_run),
    Family("hugepages-quantity-huge", "php-opcache-hugepages", hugepages_quantity_huge),
    Family("hugepages-suffixes", "php-opcache-hugepages", hugepages_quantity_suffixes),
    Family("helm-source-line", "parse", helm_source_line),
    Family("helm-source-lines", "parse", helm_source_lines),
    Family("annotation-reason", "suppress", annotation_reason),
    Family("annotation-ids", "suppress", annotation_ids),
    Family("inline-ignore-ids", "suppress", inline_ignore_ids),
    Family("inline-ignore-lines", "suppress", inline_ignore_lines),
    Family("httpd-section", "configs", httpd_section),
    Family("httpd-spaces", "configs", httpd_spaces),
    Family("httpd-continuations", "configs", httpd_continuations),
    Family("nginx-many-directives", "configs", nginx_many_directives),
    Family("nginx-unterminated-quote", "configs", nginx_unterminated_quote),
    Family("nginx-nested-blocks", "configs", nginx_nested_blocks),
    Family("php-ini-long", "configs", php_ini_long),
    Family("configmap-items", "model", configmap_items),
    Family("yaml-base60", "parse", yaml_base60),
    Family("yaml-huge-ints", "kubelet-max-pods", yaml_huge_ints),
    Family("yaml-deep-flow", "parse", yaml_deep_flow),
    Family("yaml-deep-block", "parse", yaml_deep_block),
    Family("yaml-long-line", "parse", yaml_long_line),
    Family("yaml-many-documents", "parse", yaml_many_documents),
    Family("yaml-unterminated", "parse", yaml_unterminated),
    Family("yaml-aliases", "parse", yaml_aliases),
    Family("yaml-directives", "parse", yaml_directives),
    Family("unicode-digits", "kubelet-max-pods", unicode_digits),
    Family("mask-size-digits", "kubelet-max-pods", mask_size_digits),
    Family("pv-claims", "nas-hostpath-mount-race", pv_claims),
    Family("virtual-node-claims", "aks-virtual-node-azure-files-pvc", virtual_node_claims),
    Family(
        "services-and-workloads", "client-source-ip-external-traffic-policy", services_and_workloads
    ),
    Family("pod-many-containers", "model", pod_many_containers),
    Family("configmap-many-keys", "model", configmap_many_keys, quadratic_by_nature=True),
    Family("nginx-shared-config", "httpd-network-docroot-sendfile-mmap", nginx_shared_config),
    Family("nginx-roots-and-mounts", "httpd-network-docroot-sendfile-mmap", nginx_roots_and_mounts),
    Family("storage-classes", "httpd-network-docroot-sendfile-mmap", storage_classes),
    Family("configmap-versions", "configmap-subpath-no-update", configmap_versions),
    Family("efs-server", "nfs-efs-mount-options", efs_server),
    Family("image-names", "nginx-envsubst-argument-list-too-long", image_names),
    Family("security-contexts", "run-as-non-root", security_contexts),
    Family("upload-tmp-dir", "php-upload-tmp-dir", upload_tmp_dir),
)


def family(name: str) -> Family:
    """One family by name."""
    for found in FAMILIES:
        if found.name == name:
            return found
    raise KeyError(name)
