"""PHP uploads with nowhere writable to go: `upload_tmp_dir`, `sys_temp_dir` and a read-only root.

**What it finds.**

* A `*.ini` file from a ConfigMap in the paste, seen by a container, that sets `upload_tmp_dir`
  or `sys_temp_dir` to a path no writable volume of that container is mounted at or above: a
  **warning** on that line of the ConfigMap. A path that is `/tmp` or under it is accepted
  when the container's root filesystem is writable (`readOnlyRootFilesystem` not `true`),
  since `/tmp` exists and is writable in PHP images. A path under a `configMap`, `secret`,
  `projected` or `downwardAPI` volume, or a volume mounted `readOnly: true`, does not count
  as writable. When several ini files set the same key, the one PHP reads last wins
  (`php.ini`, then the others in path order).
* A PHP container (image name containing `php`, a known PHP application image such as
  `wordpress`, `drupal` or `nextcloud`, or a mounted `.ini` under a `php` path) with
  `readOnlyRootFilesystem: true` that sets neither key and has no writable volume at `/tmp`: a
  **warning** on `readOnlyRootFilesystem`.

The `TMPDIR` variable is ignored: php-fpm clears the environment of its workers by default
(`clear_env = yes`), so FPM uploads use `/tmp` whatever the container's env says.
`open_basedir` restrictions and directory ownership inside the image are not checked.

**Why it matters.** PHP writes each uploaded file to a temporary file before the script runs:
in `upload_tmp_dir` if it can create a file there, else in `sys_temp_dir`, else in `/tmp`.
When none works, it logs `File upload error - unable to create a temporary file`, sets the
file's `error` to 6 (`UPLOAD_ERR_NO_TMP_DIR`) and leaves `tmp_name` empty, and the application
later fails with `file_get_contents(): Filename cannot be empty` (PHP 7) or `ValueError: Path
cannot be empty` (PHP 8). A path carried over from a VM seldom exists in the image, and with
`readOnlyRootFilesystem: true` only volumes are writable, `/tmp` included. `sys_temp_dir` has no
fallback of its own: a missing directory there breaks uploads whenever `upload_tmp_dir` does
not work.

**How to fix it.** Mount an emptyDir at the configured directory (and at `/tmp` when the root
filesystem is read-only)::

    containers:
      - name: php-fpm
        volumeMounts:
          - name: php-upload-tmp
            mountPath: /var/lib/php/uploads
    volumes:
      - name: php-upload-tmp
        emptyDir:
          sizeLimit: 1Gi

or point both settings at `/tmp` and mount the emptyDir there. Size it for
`upload_max_filesize` × `max_file_uploads` × concurrent uploads.

**Suppressing.** `kb.troubleshooter/ignore: "php-upload-tmp-dir: <reason>"` on the workload,
or `# kb-ignore: php-upload-tmp-dir <reason>` on the line above (inside a php.ini, write it
after a semicolon: `; # kb-ignore: ...`).

**Reads.** Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (jobTemplate)
and ReplicationController pod templates, also inside List objects and Helm or kustomize output;
app containers, restartable sidecars and ephemeral containers; their volume mounts (claims from
volumeClaimTemplates and generic ephemeral volumes count as writable); php.ini files from
`configMap` and `projected` volumes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from troubleshooter.analyzer.checks._common import (
    config_line_position,
    image_repository,
    key_position,
)
from troubleshooter.analyzer.configs import Setting, parse_php_ini
from troubleshooter.analyzer.messages import say
from troubleshooter.analyzer.model import Container, Model, Mount, MountedFile, Volume, Workload
from troubleshooter.analyzer.results import Finding
from troubleshooter.analyzer.tree import Map

ID = "php-upload-tmp-dir"
TITLE = "PHP upload temp directory missing or read-only in the container"
SEVERITY = "warning"
ARTICLE = "php-upload-tmp-dir"

FAILING_EXAMPLE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: php-ini
data:
  uploads.ini: |
    file_uploads = On
    upload_tmp_dir = /tmp/php7temp
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: php-app
spec:
  selector:
    matchLabels: {app: php-app}
  template:
    metadata:
      labels: {app: php-app}
    spec:
      containers:
        - name: php-fpm
          image: php:8.3-fpm
          securityContext:
            readOnlyRootFilesystem: true
          volumeMounts:
            - name: php-ini
              mountPath: /usr/local/etc/php/conf.d/uploads.ini
              subPath: uploads.ini
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
  uploads.ini: |
    file_uploads = On
    upload_tmp_dir = /tmp/php7temp
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: php-app
spec:
  selector:
    matchLabels: {app: php-app}
  template:
    metadata:
      labels: {app: php-app}
    spec:
      containers:
        - name: php-fpm
          image: php:8.3-fpm
          securityContext:
            readOnlyRootFilesystem: true
          volumeMounts:
            - name: php-ini
              mountPath: /usr/local/etc/php/conf.d/uploads.ini
              subPath: uploads.ini
            - name: upload-tmp
              mountPath: /tmp/php7temp
      volumes:
        - name: php-ini
          configMap:
            name: php-ini
        - name: upload-tmp
          emptyDir:
            sizeLimit: 1Gi
"""

TMP = "/tmp"
KEYS = ("upload_tmp_dir", "sys_temp_dir")
# Volume sources the kubelet always mounts read-only.
READ_ONLY_SOURCES = ("configMap", "secret", "projected", "downwardAPI")
# Official images of PHP applications whose names do not say "php".
PHP_APP_IMAGES = frozenset({"wordpress", "drupal", "joomla", "nextcloud", "mediawiki", "matomo"})


@dataclass(frozen=True)
class _IniSetting:
    setting: Setting
    file: MountedFile


def _within(path: str, root: str) -> bool:
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root if root == "/" else root + "/")


def _covering_mount(container: Container, path: str) -> Mount | None:
    """The deepest volumeMount at or above a path."""
    best = None
    for mount in container.mounts():
        mount_path = posixpath.normpath(mount.mount_path)
        if _within(path, mount_path) and (
            best is None or len(mount_path) > len(posixpath.normpath(best.mount_path))
        ):
            best = mount
    return best


def _writable(mount: Mount, volumes: dict[str, Volume]) -> bool:
    if mount.node.bool("readOnly") is True:
        return False
    volume = volumes.get(mount.name)
    if volume is None:
        return True  # unknown volume: give it the benefit of the doubt
    for key, source in volume.node.value.items() if volume.origin == "volume" else ():
        if key in READ_ONLY_SOURCES:
            return False
        if isinstance(source, Map) and source.bool("readOnly") is True:
            return False
    return True


def _ini_settings(files: list[MountedFile]) -> dict[str, _IniSetting]:
    """The effective upload_tmp_dir / sys_temp_dir, in PHP's reading order (last wins)."""
    ini_files = [file for file in files if file.path.endswith(".ini")]
    ini_files.sort(key=lambda file: (posixpath.basename(file.path) != "php.ini", file.path))
    result: dict[str, _IniSetting] = {}
    for file in ini_files:
        settings = parse_php_ini(file.value.value)
        for key in KEYS:
            if key in settings:
                result[key] = _IniSetting(settings[key], file)
    return {key: item for key, item in result.items() if item.setting.value}


def _is_php(container: Container, files: list[MountedFile]) -> bool:
    repository, _ = image_repository(container.image or "")
    name = repository.rsplit("/", 1)[-1]
    if "php" in repository.lower() or name in PHP_APP_IMAGES:
        return True
    return any(file.path.endswith(".ini") and "php" in file.path.lower() for file in files)


def _fix(container: Container, path: str) -> str:
    return (
        f"# container {container.name or '?'}:\n"
        "volumeMounts:\n"
        "  - name: php-tmp\n"
        f"    mountPath: {path}\n"
        "# pod spec:\n"
        "volumes:\n"
        "  - name: php-tmp\n"
        "    emptyDir:\n"
        "      sizeLimit: 1Gi\n"
    )


# The finding messages (translations: docs/php-upload-tmp-dir.<lang>.messages.yaml). A
# setting's message is three parts said in turn: the setting, why its path is unusable, and
# what that means for uploads.
MESSAGES = {
    "sets-path": (
        "{file} (ConfigMap {configmap}) sets {key} = {value} for container {container}, but"
    ),
    "read-only-volume": "the volume {volume} mounted at {mount} is read-only;",
    "read-only-root": "no volume is mounted there and the root filesystem is read-only;",
    "no-volume": "no volume is mounted there, so it exists only if the image created it;",
    "falls-back": (
        "PHP then falls back to {sys_temp} for every upload (and fails if that stops being"
        " writable)."
    ),
    "no-fallback-either": (
        "and the fallback {sys_temp} is not writable either, so uploads fail with"
        " UPLOAD_ERR_NO_TMP_DIR (6) and an empty tmp_name."
    ),
    "sys-temp-no-fallback": (
        "sys_temp_dir has no fallback, so uploads fail with UPLOAD_ERR_NO_TMP_DIR (6)"
        " whenever upload_tmp_dir is unset or unusable."
    ),
    "read-only-tmp": (
        "PHP container {container} has a read-only root filesystem and no writable volume"
        " at /tmp, where PHP stores uploads when upload_tmp_dir and sys_temp_dir are unset:"
        " every upload fails with UPLOAD_ERR_NO_TMP_DIR (6) and an empty tmp_name."
    ),
}


@dataclass(frozen=True)
class Problem:
    """Why PHP cannot create files at a path: a MESSAGES key and its values."""

    key: str
    args: dict[str, str]


def _path_problem(
    container: Container, volumes: dict[str, Volume], path: str, read_only_root: bool
) -> Problem | None:
    """Why PHP cannot create files at a path, or None when it can (as far as we can tell)."""
    mount = _covering_mount(container, path)
    if mount is not None:
        if _writable(mount, volumes):
            return None
        return Problem("read-only-volume", {"volume": repr(mount.name), "mount": mount.mount_path})
    if read_only_root:
        return Problem("read-only-root", {})
    if _within(path, TMP):
        return None
    return Problem("no-volume", {})


def _check_container(model: Model, workload: Workload, container: Container) -> Iterator[Finding]:
    volumes = workload.volumes()
    files = model.mounted_files(workload, container)
    security = container.node.map("securityContext")
    read_only_root = security is not None and security.bool("readOnlyRootFilesystem") is True
    ini = _ini_settings(files)
    label = container.name or "?"
    sys_temp = (
        posixpath.normpath(ini["sys_temp_dir"].setting.value) if "sys_temp_dir" in ini else TMP
    )
    fallback_problem = _path_problem(container, volumes, sys_temp, read_only_root)

    for key in KEYS:
        if key not in ini:
            continue
        item = ini[key]
        raw = item.setting.value
        if not raw.startswith("/"):
            continue
        path = posixpath.normpath(raw)
        problem = _path_problem(container, volumes, path, read_only_root)
        if problem is None:
            continue
        if key == "upload_tmp_dir":
            consequence = "falls-back" if fallback_problem is None else "no-fallback-either"
        else:
            consequence = "sys-temp-no-fallback"
        line, column = config_line_position(model.lines, item.file.value, item.setting.line)
        yield Finding(
            check=ID,
            severity="warning",
            article=ARTICLE,
            object=workload.ref,
            line=line,
            column=column,
            fix=_fix(container, path),
            **say(
                MESSAGES,
                "sets-path",
                problem.key,
                consequence,
                file=item.file.path,
                configmap=item.file.configmap.name,
                key=key,
                value=raw,
                container=repr(label),
                sys_temp=sys_temp,
                **problem.args,
            ),
        )

    if not read_only_root or ini or not _is_php(container, files):
        return
    if fallback_problem is None:
        return
    assert security is not None
    line, column = key_position(security, "readOnlyRootFilesystem")
    yield Finding(
        check=ID,
        severity="warning",
        article=ARTICLE,
        object=workload.ref,
        line=line,
        column=column,
        fix=_fix(container, TMP),
        **say(MESSAGES, "read-only-tmp", container=repr(label)),
    )


def check(model: Model) -> Iterator[Finding]:
    """Yield findings for PHP containers whose upload temp directory cannot be written."""
    for workload in model.workloads:
        for container in workload.containers(init=False):
            yield from _check_container(model, workload, container)
