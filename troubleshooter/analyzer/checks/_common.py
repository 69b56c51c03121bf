"""Small helpers shared by checks: image names and positions."""

from __future__ import annotations

from troubleshooter.analyzer.configs import line_mapper
from troubleshooter.analyzer.model import POD_TEMPLATE_PATHS
from troubleshooter.analyzer.tree import Map, Node, Scalar

_REGISTRY_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/")


def image_repository(image: str) -> tuple[str, str]:
    """Split an image reference into (repository without Docker Hub prefix, tag)."""
    reference = image.split("@", 1)[0]
    repository, tag = reference, ""
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        repository, tag = reference[:colon], reference[colon + 1 :]
    for prefix in _REGISTRY_PREFIXES:
        if repository.startswith(prefix):
            repository = repository[len(prefix) :]
            break
    return repository, tag


def position(node: Node | None, fallback: Node) -> tuple[int, int]:
    """(line, column) of a node, or of a fallback when the node is missing."""
    target = node if node is not None else fallback
    return target.line, target.column


def key_position(mapping: Map, key: str) -> tuple[int, int]:
    """(line, column) of a key in a mapping, or of the mapping itself."""
    return mapping.keys.get(key) or (mapping.line, mapping.column)


def pod_spec_snippet(kind: str, body: str) -> str:
    """Indent a pod-spec YAML fragment under the path where this kind keeps its pod spec."""
    path = [*POD_TEMPLATE_PATHS.get(kind, ()), "spec"]
    lines = [f"{'  ' * depth}{key}:" for depth, key in enumerate(path)]
    indent = "  " * len(path)
    lines.extend(indent + line if line else line for line in body.rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n"


def config_line_position(lines: list[str], value: Scalar, inner_line: int) -> tuple[int, int]:
    """(line, column) in the manifest of a 1-based line inside a ConfigMap value.

    The column is that of the line's first non-blank character when the value is a literal
    block (`|`), whose lines map exactly; otherwise it is the value's own position.
    """
    line = line_mapper(value)(inner_line)
    if value.style == "|" and 0 < line <= len(lines):
        text = lines[line - 1]
        return line, len(text) - len(text.lstrip()) + 1
    return value.line, value.column
