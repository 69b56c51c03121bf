"""`results.quick_init`: a frozen dataclass built in one step behaves as dataclasses built it."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from troubleshooter.analyzer.messages import Phrase
from troubleshooter.analyzer.results import Finding, ObjectRef, ParseError, quick_init

REF = ObjectRef("Deployment", "web", "app")


def _finding(**changes) -> Finding:
    values = {
        "check": "run-as-non-root",
        "severity": "error",
        "article": "run-as-non-root",
        "object": REF,
        "line": 3,
        "column": 5,
        "message": "m",
        "fix": "f",
    }
    return Finding(**{**values, **changes})


def test_it_keeps_defaults_and_gives_each_instance_its_own_factory_value() -> None:
    first, second = _finding(), _finding()
    assert (first.section, first.suppressed, first.suppression_reason) == ("fix", False, None)
    assert first.message_key is None and first.message_args == {}
    assert first.message_args is not second.message_args
    assert ParseError(1, 2, "m").message_args is not ParseError(1, 2, "m").message_args
    assert ParseError(1, 2, "m").severity == "error"


def test_it_stays_frozen_equal_hashable_and_replaceable() -> None:
    finding = _finding(message_args={"a": "b"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.line = 4  # type: ignore[misc]
    assert finding == _finding(message_args={"other": "values"})  # args are compare=False
    assert hash(finding) == hash(_finding())
    assert {REF: 1}[ObjectRef("Deployment", "web", "app")] == 1
    replaced = dataclasses.replace(finding, suppressed=True, suppression_reason="known")
    assert replaced.suppressed and replaced.message_args == {"a": "b"} and not finding.suppressed
    assert pickle.loads(pickle.dumps(finding)) == finding
    assert repr(Phrase("k", {"x": "1"})) == "Phrase(key='k', args={'x': '1'})"


def test_it_keeps_the_signature() -> None:
    with pytest.raises(TypeError):
        ObjectRef("Deployment")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _finding(unknown=1)
    with pytest.raises(TypeError):
        Finding("run-as-non-root")  # type: ignore[misc] - keyword-only fields


def test_it_refuses_a_class_it_cannot_build_alike() -> None:
    @dataclasses.dataclass(frozen=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            raise AssertionError

    with pytest.raises(TypeError):
        quick_init(Checked)
