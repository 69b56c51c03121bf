"""Value types shared by the parser, the checks and the report formats.

Everything here is a plain dataclass so a view, a management command, the JSON API
and a test can build, compare and serialise them without any framework.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

# What a check may report: an error breaks the workload, a warning risks breaking it, info is
# advice. A note is about the input itself (duplicate keys or objects, a suppression that is
# not applied); notes come with parse errors in `Report.errors`, never from a check.
SEVERITIES = ("error", "warning", "info")
NOTE = "note"


class ManifestRejected(Exception):
    """The input was refused before parsing: too large, binary or undecodable."""

    def __init__(
        self,
        message: str,
        *,
        message_key: str | None = None,
        message_args: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        # As for ParseError: the notice template and values, for a page in ja or zh.
        self.message_key = message_key
        self.message_args = dict(message_args or {})


def quick_init(cls: type) -> type:
    """Give a frozen dataclass an `__init__` that fills the instance's dict in one step.

    The `__init__` dataclasses writes for a frozen class sets each field through
    `object.__setattr__`, one call per field: a Finding of 13 fields took 9 µs on the shared
    machine, 3 µs this way, and an analysis of 50 objects builds about 340 frozen instances.
    The signature, defaults and default factories are the dataclass's own; the instances are
    as frozen as before (assigning a field still raises), and equal, hashed, printed,
    pickled and `dataclasses.replace`d alike.
    """
    if "__post_init__" in vars(cls) or "__slots__" in vars(cls):
        raise TypeError(f"{cls.__name__}: quick_init needs a plain dataclass")
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__) or not all(item.init for item in fields):
        raise TypeError(f"{cls.__name__}: quick_init needs plain init fields only")
    namespace: dict[str, object] = {"_MISSING": dataclasses.MISSING}
    positional, keyword, factories = [], [], []
    for item in fields:
        if item.default is not dataclasses.MISSING:
            namespace[f"_default_{item.name}"] = item.default
            param = f"{item.name}=_default_{item.name}"
        elif item.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{item.name}"] = item.default_factory
            param = f"{item.name}=_MISSING"
            factories.append(
                f"    if {item.name} is _MISSING:\n        {item.name} = _factory_{item.name}()\n"
            )
        else:
            param = item.name
        (keyword if item.kw_only else positional).append(param)
    params = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    filled = ", ".join(f"{item.name!r}: {item.name}" for item in fields)
    body = "".join(factories) + f"    self.__dict__.update({{{filled}}})\n"
    source = f"def __init__({params}):\n{body}"
    exec(source, namespace)  # noqa: S102 - built from the dataclass's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    return cls


@dataclass(frozen=True)
class Limits:
    """Bounds that keep one request cheap whatever is pasted."""

    max_bytes: int = 2_000_000
    max_documents: int = 5_000
    max_objects: int = 5_000
    max_depth: int = 100
    max_aliases: int = 100
    max_scalar_bytes: int = 1_000_000
    # Wall-clock budget of one analysis (None: unbounded); checked between documents, objects
    # and checks, the report then says what was not checked.
    max_seconds: float | None = 5.0
    # Notes of one kind and findings of one check kept in a report; the rest is counted.
    max_notes_per_kind: int = 50
    max_findings_per_check: int = 500


@quick_init
@dataclass(frozen=True)
class ObjectRef:
    """Which pasted object a finding is about; `source` is Helm's `# Source:` path."""

    kind: str
    namespace: str | None
    name: str | None
    source: str | None = None

    def label(self) -> str:
        """`Kind/name` as shown in text output."""
        return f"{self.kind}/{self.name or '?'}"


@quick_init
@dataclass(frozen=True, kw_only=True)
class Finding:
    """One problem, pinned to the 1-based line and column of the field it is about."""

    check: str
    severity: str
    article: str
    object: ObjectRef
    line: int
    column: int
    message: str
    fix: str
    section: str = "fix"
    suppressed: bool = False
    suppression_reason: str | None = None
    # Which of the check's MESSAGES templates `message` was built from, and the values filled
    # in: a page can then say it in its reader's language (see messages.py). The English
    # `message` is what every machine format prints; these two are never serialised.
    message_key: str | None = None
    message_args: Mapping[str, str] = field(default_factory=dict, compare=False)


@quick_init
@dataclass(frozen=True)
class ParseError:
    """A document that could not be understood (`severity` "error"), or a note about the
    input (`severity` "note": a duplicate, a suppression not applied); 1-based position."""

    line: int | None
    column: int | None
    message: str
    severity: str = "error"
    # As for Finding: the template `message` was built from and its values (see messages.py).
    message_key: str | None = None
    message_args: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass
class Report:
    """The outcome of one analysis: findings sorted by position, errors, and the input lines."""

    objects: int
    findings: list[Finding] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Active findings per severity, how many were suppressed, parse errors and notes."""
        result = {"error": 0, "warning": 0, "info": 0, "suppressed": 0}
        for finding in self.findings:
            if finding.suppressed:
                result["suppressed"] += 1
            else:
                result[finding.severity] += 1
        result["notes"] = sum(1 for error in self.errors if error.severity == NOTE)
        result["parse_errors"] = len(self.errors) - result["notes"]
        return result

    def parse_errors(self) -> list[ParseError]:
        """The documents that could not be analysed (notes left out)."""
        return [error for error in self.errors if error.severity != NOTE]

    def notes(self) -> list[ParseError]:
        """Notes about the input: duplicates and suppressions not applied."""
        return [error for error in self.errors if error.severity == NOTE]
