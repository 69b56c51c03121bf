"""The explicit list of manifest checks.

Adding a check: write `checks/<id_with_underscores>.py` (ID, TITLE, SEVERITY, ARTICLE,
FAILING_EXAMPLE, PASSING_EXAMPLE, a docstring that documents it, and `check(model)`), import it
below and add it to `_MODULES`. Ids are validated and duplicates refused when this module is
imported, so a mistake fails at start-up rather than in a request.
"""

from __future__ import annotations

import re
from types import ModuleType

from .checks import (
    aks_virtual_node_azure_files_pvc,
    client_source_ip_external_traffic_policy,
    configmap_subpath_no_update,
    httpd_network_docroot_sendfile_mmap,
    kubelet_max_pods,
    nas_hostpath_mount_race,
    nfs_efs_mount_options,
    nginx_envsubst_argument_list_too_long,
    php_opcache_hugepages,
    php_upload_tmp_dir,
    run_as_non_root,
)
from .messages import validate_messages
from .results import SEVERITIES

_MODULES: tuple[ModuleType, ...] = (
    nginx_envsubst_argument_list_too_long,
    httpd_network_docroot_sendfile_mmap,
    aks_virtual_node_azure_files_pvc,
    nfs_efs_mount_options,
    php_opcache_hugepages,
    php_upload_tmp_dir,
    configmap_subpath_no_update,
    nas_hostpath_mount_race,
    kubelet_max_pods,
    client_source_ip_external_traffic_policy,
    run_as_non_root,
)

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class UnknownCheck(KeyError):
    """No check is registered under this id."""


class InvalidCheck(Exception):
    """A check module is missing metadata or clashes with another check."""


def _validate(module: ModuleType) -> str:
    check_id = getattr(module, "ID", None)
    if not isinstance(check_id, str) or not _ID.match(check_id):
        raise InvalidCheck(f"{module.__name__}: ID must be a kebab-case string")
    if module.__name__.rsplit(".", 1)[-1] != check_id.replace("-", "_"):
        raise InvalidCheck(f"{module.__name__}: module name must be the ID with underscores")
    if getattr(module, "SEVERITY", None) not in SEVERITIES:
        raise InvalidCheck(f"{module.__name__}: SEVERITY must be one of {SEVERITIES}")
    for name in ("TITLE", "ARTICLE", "FAILING_EXAMPLE", "PASSING_EXAMPLE", "__doc__"):
        value = getattr(module, name, None)
        if not isinstance(value, str) or not value.strip():
            raise InvalidCheck(f"{module.__name__}: {name} must be a non-empty string")
    for problem in validate_messages(module):
        raise InvalidCheck(f"{module.__name__}: {problem}")
    if not callable(getattr(module, "check", None)):
        raise InvalidCheck(f"{module.__name__}: check(model) is missing")
    return check_id


def _build(modules: tuple[ModuleType, ...]) -> dict[str, ModuleType]:
    checks: dict[str, ModuleType] = {}
    for module in modules:
        check_id = _validate(module)
        if check_id in checks:
            raise InvalidCheck(f"duplicate check id {check_id!r}")
        checks[check_id] = module
    return checks


CHECKS: dict[str, ModuleType] = _build(_MODULES)


def get(check_id: str) -> ModuleType:
    """The check module registered under an id; raises UnknownCheck otherwise."""
    try:
        return CHECKS[check_id]
    except KeyError:
        raise UnknownCheck(check_id) from None


def all_checks() -> list[ModuleType]:
    """Every registered check, in registry order."""
    return list(CHECKS.values())
