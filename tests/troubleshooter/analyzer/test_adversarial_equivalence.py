"""The linear rewrites read ordinary input exactly as the patterns they replace.

The old patterns (quadratic on long runs) are kept here as the reference and run only on
short inputs: every combination of a few building blocks, where they are fast.
"""

from __future__ import annotations

import itertools
import re

from troubleshooter.analyzer.configs import _httpd_section, parse_cache, parse_nginx, parse_php_ini
from troubleshooter.analyzer.parse import _HELM_SOURCE
from troubleshooter.analyzer.suppress import _annotation_parts, _ids

OLD_HTTPD_SECTION = re.compile(r"^<\s*(/?)\s*([A-Za-z]+)\s*(.*?)>\s*$")
OLD_ANNOTATION = re.compile(r"^\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*:\s*(.*?)\s*$", re.DOTALL)
OLD_HELM_SOURCE = re.compile(r"^#\s*Source:\s*(\S[^\n]*?)\s*$", re.MULTILINE)


def combinations(blocks: list[str], length: int) -> list[str]:
    return ["".join(parts) for parts in itertools.product(blocks, repeat=length)]


HTTPD_LINES = combinations(["<", ">", "/", " ", "Dir", "x", "~", "1", '"'], 4)


def test_httpd_sections_read_as_before():
    differ = []
    for raw in HTTPD_LINES:
        line = raw.strip()  # logical lines are stripped before they are matched
        old = OLD_HTTPD_SECTION.match(line)
        expected = None
        if old is not None:
            closing, name, argument = old.groups()
            expected = (bool(closing), name, argument)
        if _httpd_section(line) != expected:
            differ.append(line)
    assert differ == []


ANNOTATIONS = combinations(["a", "-", ",", " ", ":", "x y", "\n", "B"], 4)


def test_ignore_annotations_read_as_before():
    differ = []
    for value in ANNOTATIONS:
        old = OLD_ANNOTATION.match(value)
        expected = None if old is None else (_ids(old.group(1)), old.group(2))
        if _annotation_parts(value) != expected:
            differ.append(value)
    assert differ == []


SOURCES = combinations(["#", " ", "Source:", "a", "\t", "\n"], 4)


def test_helm_sources_read_as_before():
    differ = []
    for text in SOURCES:
        old = OLD_HELM_SOURCE.search(text)
        new = _HELM_SOURCE.search(text)
        # The old `\s` also crossed line ends after `#`; a `# Source:` line never needs that.
        if old is not None and "\n" not in old.group(0):
            if new is None or new.group(1).rstrip() != old.group(1):
                differ.append(text)
        elif new is not None and old is None:
            differ.append(text)
    assert differ == []


def test_a_config_text_is_parsed_once_per_analysis_and_again_after():
    text = "http {\n  sendfile on;\n}\n"
    with parse_cache():
        first = parse_nginx(text)
        assert parse_nginx(text) is first
        assert parse_php_ini("a=1\n") is parse_php_ini("a=1\n")
    assert parse_nginx(text) is not first
    assert parse_nginx(text) == first


def test_nginx_lines_come_from_one_running_count():
    text = "a 1;\n\n# c;\nb 2; c 3;\n\nd {\n  e 'x\ny';\n}\n"
    assert [(d.name, d.line, d.context) for d in parse_nginx(text)] == [
        ("a", 1, ()),
        ("b", 4, ()),
        ("c", 4, ()),
        ("d", 6, ()),
        ("e", 7, ("d",)),
    ]
