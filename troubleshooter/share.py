"""Shared analyzer results: what is stored when (and only when) a user presses Share.

The manifest is stored with every Secret value replaced: `data`, `stringData` and the
`kubectl.kubernetes.io/last-applied-configuration` annotation (which repeats them) of any
object of kind Secret, at any depth (a `kind: List` included). The replacement works on the
text, at the positions YAML gives for each value, so comments and layout stay as they were.
A manifest that does not parse as a whole is not shared: its Secrets could not be found.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

REDACTED = '"<redacted>"'
SECRET_FIELDS = ("data", "stringData")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class CannotRedact(Exception):
    """The manifest could not be parsed whole, so its Secret values cannot be found."""


@dataclass(frozen=True)
class Redacted:
    """The text to store and how many values were replaced."""

    text: str
    count: int


def _mapping_get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return None


def _secret_value_nodes(node: yaml.Node, seen: set[int]) -> list[yaml.Node]:
    """Every value node to hide, found by walking the composed document."""
    if id(node) in seen:  # aliases can point back; visit each node once
        return []
    seen.add(id(node))
    found: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        kind = _mapping_get(node, "kind")
        if isinstance(kind, yaml.ScalarNode) and kind.value == "Secret":
            for field in SECRET_FIELDS:
                values = _mapping_get(node, field)
                if isinstance(values, yaml.MappingNode):
                    found.extend(value for _key, value in values.value)
                elif values is not None:
                    found.append(values)
            metadata = _mapping_get(node, "metadata")
            if isinstance(metadata, yaml.MappingNode):
                annotations = _mapping_get(metadata, "annotations")
                if isinstance(annotations, yaml.MappingNode):
                    last = _mapping_get(annotations, LAST_APPLIED)
                    if last is not None:
                        found.append(last)
        for key_node, value_node in node.value:
            found.extend(_secret_value_nodes(key_node, seen))
            found.extend(_secret_value_nodes(value_node, seen))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found.extend(_secret_value_nodes(item, seen))
    return found


def redact_secrets(text: str) -> Redacted:
    """The manifest with every Secret value replaced by "<redacted>"; raises CannotRedact."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as error:
        raise CannotRedact(str(error).splitlines()[0]) from None
    spans: set[tuple[int, int]] = set()
    for document in documents:
        if document is None:
            continue
        for node in _secret_value_nodes(document, set()):
            spans.add((node.start_mark.index, node.end_mark.index))
    # Outermost spans only (a value inside an already hidden one needs nothing more).
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    pieces: list[str] = []
    cursor = 0
    for start, end in kept:
        original = text[start:end]
        pieces.append(text[cursor:start])
        # A block scalar's span ends after its last line break: keep the line structure.
        pieces.append(REDACTED + ("\n" if original.endswith("\n") else ""))
        cursor = end
    pieces.append(text[cursor:])
    return Redacted(text="".join(pieces), count=len(kept))
