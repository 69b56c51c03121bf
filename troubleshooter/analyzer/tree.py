"""A light YAML tree that remembers where every value and every key was written.

`Scalar`, `Map` and `Seq` wrap the plain Python value with its 1-based line and column.
Checks read them through the typed accessors below, which return None instead of raising
when a field is missing or has the wrong type (`containers: 5`), so junk input never crashes
a check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class Node:
    """Base of the positioned tree: `value`, `line`, `column` (1-based)."""

    __slots__ = ("value", "line", "column")

    def __init__(self, value: Any, line: int, column: int) -> None:
        self.value = value
        self.line = line
        self.column = column


class Scalar(Node):
    """A scalar: `value` is typed (str, int, float, bool, None), `raw` is the text as written."""

    __slots__ = ("raw", "style")

    def __init__(self, value: Any, line: int, column: int, raw: str, style: str | None) -> None:
        # Assigned here rather than through Node.__init__: one call less per scalar, and a
        # manifest has tens of thousands of them.
        self.value = value
        self.line = line
        self.column = column
        self.raw = raw
        self.style = style

    def __repr__(self) -> str:
        return f"Scalar({self.value!r}@{self.line}:{self.column})"


class Seq(Node):
    """A sequence: `value` is a list of nodes."""

    __slots__ = ()

    def maps(self) -> Iterator[Map]:
        """The items that are mappings, skipping anything else."""
        for item in self.value:
            if item.__class__ is Map:
                yield item


class Map(Node):
    """A mapping with string keys: `value` maps key → node, `keys` maps key → (line, column)."""

    __slots__ = ("keys",)

    def __init__(
        self, value: dict[str, Node], line: int, column: int, keys: dict[str, tuple[int, int]]
    ) -> None:
        self.value = value
        self.line = line
        self.column = column
        self.keys = keys

    def __repr__(self) -> str:
        return f"Map({list(self.value)}@{self.line}:{self.column})"

    # The accessors below are what checks call most (hundreds of thousands of times on a
    # large paste): a one-step path is answered with a single dict look-up (the first key is
    # a parameter of its own, so that no length test or indexing is needed: 15-25% of a
    # call), and the type tests compare classes (the tree classes have no subclasses).

    def get(self, key: str, /, *path: str) -> Node | None:
        """The node at a key path, or None if any step is missing or not a mapping."""
        node: Node | None = self.value.get(key)
        for step in path:
            if node.__class__ is not Map:
                return None
            node = node.value.get(step)
        return node

    def map(self, key: str, /, *path: str) -> Map | None:
        """The mapping at a key path, or None."""
        node = self.value.get(key) if not path else self.get(key, *path)
        return node if node.__class__ is Map else None

    def seq(self, key: str, /, *path: str) -> Seq | None:
        """The sequence at a key path, or None."""
        node = self.value.get(key) if not path else self.get(key, *path)
        return node if node.__class__ is Seq else None

    def maps(self, key: str, /, *path: str) -> Iterator[Map]:
        """The mapping items of the sequence at a key path (nothing if absent or mistyped)."""
        node = self.value.get(key) if not path else self.get(key, *path)
        if node.__class__ is Seq:
            for item in node.value:
                if item.__class__ is Map:
                    yield item

    def scalar(self, key: str, /, *path: str) -> Scalar | None:
        """The scalar at a key path, or None."""
        node = self.value.get(key) if not path else self.get(key, *path)
        return node if node.__class__ is Scalar else None

    def str(self, key: str, /, *path: str) -> str | None:
        """The text of a non-null scalar at a key path (numbers as written), else None."""
        node = self.value.get(key) if not path else self.get(key, *path)
        if node.__class__ is Scalar and node.value is not None:
            return node.raw
        return None

    def bool(self, key: str, /, *path: str) -> bool | None:
        """A boolean at a key path, or None when absent or not a boolean."""
        node = self.value.get(key) if not path else self.get(key, *path)
        if node.__class__ is Scalar and node.value.__class__ is bool:
            return node.value
        return None

    def key_position(self, key: str) -> tuple[int, int] | None:
        """The (line, column) of a key of this mapping."""
        return self.keys.get(key)


def plain(node: Node | None) -> Any:
    """Convert a subtree back to plain Python values (for tests and small lookups)."""
    if isinstance(node, Map):
        return {key: plain(value) for key, value in node.value.items()}
    if isinstance(node, Seq):
        return [plain(item) for item in node.value]
    if isinstance(node, Scalar):
        return node.value
    return None
