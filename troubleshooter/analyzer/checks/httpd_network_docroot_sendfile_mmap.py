"""httpd or nginx serving files from a network file system with sendfile or mmap on.

**What it finds.** A web server container whose document root is on a volume backed by a
network file system: Azure Files (SMB or NFS), Amazon EFS, NFS, SMB/CIFS, either inline
(`nfs`, `azureFile`, a CSI driver such as `file.csi.azure.com`) or through a PVC whose
PersistentVolume or StorageClass is in the paste. A PVC whose storage is not in the paste is
left alone: the check does not guess.

* **httpd** (the `httpd` images, `php:*-apache`, or any container mounting an httpd.conf from a
  ConfigMap): the document root is `DocumentRoot` from the mounted httpd.conf, otherwise the
  image's default (`/usr/local/apache2/htdocs`, or `/var/www/html` for `php:*-apache`). httpd
  maps files with `mmap` unless `EnableMMAP Off` is set (default On), and uses `sendfile` when
  `EnableSendfile On` is set (default Off since 2.3.9, but many configs turn it on).
  `<Directory>` blocks covering the document root are taken into account.
* **nginx** (the official image, or a mounted nginx.conf): `sendfile on` (the image's stock
  nginx.conf has it) with a `root` (default `/usr/share/nginx/html`) on such a volume.

**Why it matters.** Apache's documentation advises turning both off for network-mounted
document roots: if a mapped file is truncated or replaced on the server, httpd can crash with
SIGBUS/SIGSEGV, and with sendfile the kernel may serve stale or mangled data from a network
file system (seen on Azure Files as responses missing their first bytes). It is an error when
sendfile is on and a warning when only mmap is.

**How to fix it.** In the httpd.conf you mount (or a `<Directory>` block for the document
root)::

    EnableMMAP Off
    EnableSendfile Off

For nginx, in the `http`, `server` or `location` block: `sendfile off;`.

**Suppressing.** `kb.troubleshooter/ignore: "httpd-network-docroot-sendfile-mmap: <reason>"` on
the workload, or `# kb-ignore: httpd-network-docroot-sendfile-mmap <reason>` above the
`mountPath` line.

**Reads.** Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (jobTemplate)
and ReplicationController pod templates, also inside List objects and Helm or kustomize output;
app containers, restartable sidecars and ephemeral containers; pod volumes, StatefulSet
volumeClaimTemplates and generic ephemeral volumes, followed to their PersistentVolume or
StorageClass (pasted or AKS/GKE built-in); httpd and nginx files from configMap and
projected volumes.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from troubleshooter.analyzer.checks._common import image_repository
from troubleshooter.analyzer.configs import line_mapper, parse_httpd, parse_nginx
from troubleshooter.analyzer.messages import Phrase, say
from troubleshooter.analyzer.model import (
    NETWORK_STORAGE_PHRASES,
    Container,
    Model,
    Mount,
    MountedFile,
    Storage,
    Workload,
)
from troubleshooter.analyzer.results import Finding, quick_init

ID = "httpd-network-docroot-sendfile-mmap"
TITLE = "Web server serves a network file system with sendfile or mmap on"
SEVERITY = "error"
ARTICLE = "httpd-network-docroot-sendfile-mmap"

FAILING_EXAMPLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  selector:
    matchLabels: {app: site}
  template:
    metadata:
      labels: {app: site}
    spec:
      containers:
        - name: httpd
          image: httpd:2.4
          volumeMounts:
            - name: htdocs
              mountPath: /usr/local/apache2/htdocs
      volumes:
        - name: htdocs
          csi:
            driver: file.csi.azure.com
            volumeAttributes:
              secretName: site-storage
              shareName: htdocs
"""

PASSING_EXAMPLE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: httpd-conf
data:
  httpd.conf: |
    ServerRoot "/usr/local/apache2"
    Listen 80
    DocumentRoot "/usr/local/apache2/htdocs"
    EnableMMAP Off
    EnableSendfile Off
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  selector:
    matchLabels: {app: site}
  template:
    metadata:
      labels: {app: site}
    spec:
      containers:
        - name: httpd
          image: httpd:2.4
          volumeMounts:
            - name: htdocs
              mountPath: /usr/local/apache2/htdocs
            - name: conf
              mountPath: /usr/local/apache2/conf/httpd.conf
              subPath: httpd.conf
      volumes:
        - name: htdocs
          csi:
            driver: file.csi.azure.com
            volumeAttributes:
              secretName: site-storage
              shareName: htdocs
        - name: conf
          configMap:
            name: httpd-conf
"""

HTTPD_DEFAULT_ROOT = "/usr/local/apache2/htdocs"
PHP_APACHE_DEFAULT_ROOT = "/var/www/html"
NGINX_DEFAULT_ROOT = "/usr/share/nginx/html"
NGINX_IMAGES = frozenset({"nginx", "nginxinc/nginx-unprivileged"})


@quick_init
@dataclass(frozen=True)
class _Switch:
    """An effective on/off setting and where it came from (for the message: a MESSAGES key)."""

    on: bool
    origin: Phrase | None  # None for nginx's default (off): no finding ever names it


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class _Roots:
    """Document roots, indexed so a mount that touches none is dismissed without a scan.

    `first(path)` is the first root (in configuration order) at, above or below a path,
    as a scan with `_within` finds it; the index only answers "none" early: ancestors of
    the path are looked up in a set, descendants found by bisecting the sorted roots.
    """

    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.stripped = {root.rstrip("/") for root in roots}
        self.ordered = sorted(roots)
        self.found: dict[str, str | None] = {}

    def _may_touch(self, path: str) -> bool:
        if len(path) > 4096:  # past PATH_MAX: no cheap answer, let the scan decide
            return True
        if path in self.stripped or path.rstrip("/") in self.stripped:
            return True
        slash = path.find("/")
        while slash >= 0:
            if path[:slash] in self.stripped:
                return True
            slash = path.find("/", slash + 1)
        prefix = path.rstrip("/") + "/"
        index = bisect.bisect_left(self.ordered, prefix)
        return index < len(self.ordered) and self.ordered[index].startswith(prefix)

    def first(self, path: str, model: Model) -> str | None:
        if path not in self.found:
            match = None
            if self._may_touch(path):
                for root in self.roots:
                    model.check_deadline()
                    if _within(root, path) or _within(path, root):
                        match = root
                        break
            self.found[path] = match
        return self.found[path]


def _network_mounts(
    model: Model, workload: Workload, container: Container, roots: list[str]
) -> Iterator[tuple[Mount, Storage, str]]:
    """Mounts that put a network file system at, above or below a document root."""
    volumes = workload.volumes()
    index = _Roots(roots)
    for mount in container.mounts():
        volume = volumes.get(mount.name)
        if volume is None:
            continue
        storage = model.volume_storage(workload, volume)
        if storage is None or not storage.network:
            continue
        root = index.first(posixpath.normpath(mount.mount_path), model)
        if root is not None:
            yield mount, storage, root


def _httpd_files(files: list[MountedFile]) -> list[MountedFile]:
    result = []
    for file in files:
        name = posixpath.basename(file.path)
        if name in ("httpd.conf", "apache2.conf") or (
            name.endswith(".conf")
            and file.path.startswith(("/usr/local/apache2/conf/", "/etc/apache2/", "/etc/httpd/"))
        ):
            result.append(file)
    return result


def _httpd_settings(
    files: list[MountedFile], root: str | None
) -> tuple[str | None, _Switch, _Switch]:
    """DocumentRoot and the effective EnableMMAP/EnableSendfile for it."""
    mmap = _Switch(True, Phrase("httpd-default-mmap", {}))
    sendfile = _Switch(False, Phrase("httpd-default-sendfile", {}))
    parsed = []
    for file in files:
        conf = parse_httpd(file.value.value)
        parsed.append((file, conf, line_mapper(file.value)))
        if "documentroot" in conf.settings:
            root = posixpath.normpath(conf.settings["documentroot"].value)

    def switch(setting, to_line, key: str, **where: object) -> _Switch:
        where.update(value=setting.value, line=to_line(setting.line))
        return _Switch(setting.value.lower() == "on", Phrase(key, where))

    for file, conf, to_line in parsed:
        label = {"configmap": file.configmap.name, "configmap_key": file.key}
        if "enablemmap" in conf.settings:
            setting = conf.settings["enablemmap"]
            mmap = switch(setting, to_line, "set-in-configmap", directive="EnableMMAP", **label)
        if "enablesendfile" in conf.settings:
            setting = conf.settings["enablesendfile"]
            sendfile = switch(
                setting, to_line, "set-in-configmap", directive="EnableSendfile", **label
            )
    if root is not None:
        # <Directory> blocks covering the root override the server-wide value, the most
        # specific (longest path) last, as httpd merges them.
        blocks = [
            (directory, file, to_line)
            for file, conf, to_line in parsed
            for directory in conf.directories
            if not directory.is_regex and _within(root, posixpath.normpath(directory.path))
        ]
        blocks.sort(key=lambda item: len(item[0].path))
        for directory, file, to_line in blocks:
            label = {"directory": directory.path, "configmap": file.configmap.name}
            for key, name in (("enablemmap", "EnableMMAP"), ("enablesendfile", "EnableSendfile")):
                if key in directory.settings:
                    setting = directory.settings[key]
                    value = switch(setting, to_line, "set-in-directory", directive=name, **label)
                    if key == "enablemmap":
                        mmap = value
                    else:
                        sendfile = value
    return root, mmap, sendfile


def _nginx_settings(files: list[MountedFile]) -> tuple[list[str], _Switch] | None:
    """Document roots and the sendfile setting of a container's mounted nginx configuration."""
    confs = [
        file
        for file in files
        if file.path == "/etc/nginx/nginx.conf"
        or (file.path.startswith("/etc/nginx/conf.d/") and file.path.endswith(".conf"))
        or (file.path.startswith("/etc/nginx/templates/") and file.path.endswith(".template"))
    ]
    sendfile = _Switch(True, Phrase("nginx-stock-conf", {}))
    if any(file.path == "/etc/nginx/nginx.conf" for file in confs):
        sendfile = _Switch(False, None)
    roots: list[str] = []
    replaces_default_server = False
    for file in confs:
        to_line = line_mapper(file.value)
        if posixpath.basename(file.path) in ("default.conf", "default.conf.template"):
            replaces_default_server = True
        for directive in parse_nginx(file.value.value):
            if directive.name == "sendfile" and directive.args:
                where = {
                    "directive": "sendfile",
                    "value": directive.args[0],
                    "configmap": file.configmap.name,
                    "configmap_key": file.key,
                    "line": to_line(directive.line),
                }
                sendfile = _Switch(directive.args[0] == "on", Phrase("set-in-configmap", where))
            elif directive.name == "root" and directive.args and "$" not in directive.args[0]:
                roots.append(posixpath.normpath(directive.args[0]))
    if not replaces_default_server:
        roots.append(NGINX_DEFAULT_ROOT)
    # Each root once, in order: _network_mounts compares every mount with every root.
    return list(dict.fromkeys(roots)), sendfile


# The finding messages (translations: docs/<ID>.<lang>.messages.yaml). {storage} and the
# settings' origins are phrases said from their own templates below ("NFS via StorageClass
# shared-nfs ...", "EnableSendfile on (ConfigMap httpd-conf key httpd.conf, line 34)").
MESSAGES = {
    "httpd-one-setting": (
        "httpd serves DocumentRoot {root} from volume {volume} on {storage} with {setting}."
    ),
    "httpd-both-settings": (
        "httpd serves DocumentRoot {root} from volume {volume} on {storage} with {mmap} and"
        " {sendfile}."
    ),
    "mmap-crash": "mmap can crash httpd (SIGBUS) when a mapped file changes.",
    "sendfile-stale": "sendfile can send stale or mangled content.",
    "nginx-sendfile": (
        "nginx serves root {root} from volume {volume} on {storage} with {setting}; sendfile"
        " from a network file system can send stale or mangled content."
    ),
    # Where a setting's effective value came from.
    "httpd-default-mmap": "httpd's default (EnableMMAP On)",
    "httpd-default-sendfile": "httpd's default (EnableSendfile Off)",
    "set-in-configmap": (
        "{directive} {value} (ConfigMap {configmap} key {configmap_key}, line {line})"
    ),
    "set-in-directory": (
        "{directive} {value} (<Directory {directory}> in ConfigMap {configmap}, line {line})"
    ),
    "nginx-stock-conf": "the image's stock nginx.conf (sendfile on)",
    # What backs the volume: always a network file system here.
    **NETWORK_STORAGE_PHRASES,
}


def _finding(workload: Workload, mount: Mount, severity: str, message: dict, fix: str) -> Finding:
    node = mount.path_node
    return Finding(
        check=ID,
        severity=severity,
        article=ARTICLE,
        object=workload.ref,
        line=node.line,
        column=node.column,
        fix=fix,
        **message,
    )


def _files_key(files: list[MountedFile]) -> tuple:
    return tuple((file.path, file.key, id(file.value)) for file in files)


def check(model: Model) -> Iterator[Finding]:
    """Yield a finding per web-server mount of network storage under its document root."""
    # Settings per distinct set of mounted files: containers that mount the same configs
    # share them (re-reading a config of many directives per container multiplied the two).
    memo: dict[tuple, object] = {}
    for workload in model.workloads:
        for container in workload.containers(init=False):
            repository, tag = image_repository(container.image or "")
            files = model.mounted_files(workload, container)
            httpd_files = _httpd_files(files)
            # php:*-apache keeps its own DocumentRoot when Apache files are mounted too;
            # only a DocumentRoot in those files moves it (see _httpd_settings).
            if repository == "php" and "apache" in tag:
                default = PHP_APACHE_DEFAULT_ROOT
            elif repository == "httpd" or repository.endswith("/httpd") or httpd_files:
                default = HTTPD_DEFAULT_ROOT
            else:
                default = None
            if default is not None or httpd_files:
                yield from _check_httpd(model, workload, container, httpd_files, default, memo)
            elif repository in NGINX_IMAGES or any(
                file.path == "/etc/nginx/nginx.conf" for file in files
            ):
                yield from _check_nginx(model, workload, container, files, memo)


def _check_httpd(model, workload, container, files, default, memo) -> Iterator[Finding]:
    key = ("httpd", default, _files_key(files))
    if key not in memo:
        memo[key] = _httpd_settings(files, default)
    root, mmap, sendfile = memo[key]
    if root is None or not (mmap.on or sendfile.on):
        return
    for mount, storage, _ in _network_mounts(model, workload, container, [root]):
        head = "httpd-both-settings" if mmap.on and sendfile.on else "httpd-one-setting"
        effects = [key for key, on in (("mmap-crash", mmap), ("sendfile-stale", sendfile)) if on.on]
        yield _finding(
            workload,
            mount,
            "error" if sendfile.on else "warning",
            say(
                MESSAGES,
                head,
                *effects,
                root=root,
                volume=repr(mount.name),
                storage=storage.phrase,
                setting=mmap.origin if mmap.on else sendfile.origin,
                mmap=mmap.origin,
                sendfile=sendfile.origin,
            ),
            f'<Directory "{root}">\n    EnableMMAP Off\n    EnableSendfile Off\n</Directory>\n'
            "# or server-wide in httpd.conf:\nEnableMMAP Off\nEnableSendfile Off\n",
        )


def _check_nginx(model, workload, container, files, memo) -> Iterator[Finding]:
    key = ("nginx", _files_key(files))
    if key not in memo:
        memo[key] = _nginx_settings(files)
    roots, sendfile = memo[key]
    if not sendfile.on:
        return
    for mount, storage, root in _network_mounts(model, workload, container, roots):
        yield _finding(
            workload,
            mount,
            "error",
            say(
                MESSAGES,
                "nginx-sendfile",
                root=root,
                volume=repr(mount.name),
                storage=storage.phrase,
                setting=sendfile.origin,
            ),
            "http {\n    sendfile off;\n}\n",
        )
