"""Readers for the configuration files that ConfigMaps carry: httpd.conf, nginx.conf, php.ini.

The readers understand just enough of each syntax for the checks: directives with their
arguments, the block they sit in, and the line they were written on. `line_mapper` turns a
line inside a ConfigMap value back into a line of the pasted manifest: exact for literal
block scalars (`|`), the value's own line for every other style.

Every reader is one pass over the text (no pattern can re-split a run it has matched), and
within one analysis each distinct text is read once (`parse_cache`): a ConfigMap key mounted
by many containers, or listed in many `items`, is not parsed again for each. What a reader
returns is shared between callers and must not be changed.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .results import quick_init
from .tree import Scalar

_CACHE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("configs_cache", default=None)


@contextlib.contextmanager
def parse_cache() -> Iterator[None]:
    """Within this block, each reader parses a given text once (one analysis, one thread)."""
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def _cached(reader):
    """Memoize a reader by text inside `parse_cache()`; outside it, parse every time."""

    def wrapper(text: str):
        cache = _CACHE.get()
        if cache is None:
            return reader(text)
        key = (reader.__name__, text)
        if key not in cache:
            cache[key] = reader(text)
        return cache[key]

    wrapper.__name__ = reader.__name__
    wrapper.__doc__ = reader.__doc__
    return wrapper


def line_mapper(value: Scalar) -> Callable[[int], int]:
    """Map a 1-based line inside a ConfigMap value to its line in the manifest."""
    if value.style == "|":
        # A literal block's content starts on the line after the `|` indicator and keeps
        # every line break, so the offset is fixed.
        return lambda inner: value.line + inner
    return lambda inner: value.line


@quick_init
@dataclass(frozen=True)
class Setting:
    """A directive's value and the 1-based line (inside the file) it was set on."""

    value: str
    line: int


@dataclass
class HttpdDirectory:
    """A `<Directory>` (or `<DirectoryMatch>`) block and the file settings inside it."""

    path: str
    line: int
    is_regex: bool
    settings: dict[str, Setting] = field(default_factory=dict)


@dataclass
class HttpdConf:
    """Server-level settings (names lower-cased) and the `<Directory>` blocks of an httpd.conf."""

    settings: dict[str, Setting] = field(default_factory=dict)
    directories: list[HttpdDirectory] = field(default_factory=list)


_LETTERS = re.compile(r"[A-Za-z]++")


def _httpd_section(line: str) -> tuple[bool, str, str] | None:
    """(closing, name, argument) of a `<Name arg>` or `</Name>` line, else None.

    Written out by hand: the pattern it replaces let `[A-Za-z]+`, `\\s*` and a lazy `.*?`
    trade characters, so an unclosed `<AAAA...` line took seconds (30 KB: 8.1 s).
    """
    if not (line.startswith("<") and line.endswith(">")):
        return None
    inner = line[1:-1].lstrip()
    closing = inner.startswith("/")
    if closing:
        inner = inner[1:].lstrip()
    name = _LETTERS.match(inner)
    if name is None:
        return None
    return closing, name.group(), inner[name.end() :].lstrip()


def _httpd_logical_lines(text: str) -> list[tuple[int, str]]:
    """Join `\\`-continued lines, drop comments; yields (first line number, text)."""
    result = []
    pending = ""
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        joined = (pending + stripped).strip()
        pending = ""
        if joined and not joined.startswith("#"):
            result.append((start, joined))
    return result


@_cached
def parse_httpd(text: str) -> HttpdConf:
    """Read server-level directives and `<Directory>` blocks from an httpd.conf."""
    conf = HttpdConf()
    stack: list[str] = []
    current: HttpdDirectory | None = None
    for number, line in _httpd_logical_lines(text):
        section = _httpd_section(line)
        if section:
            closing, name, argument = section
            name = name.lower()
            if closing:
                if stack and stack[-1] == name:
                    stack.pop()
                if name in ("directory", "directorymatch"):
                    current = None
                continue
            stack.append(name)
            if name in ("directory", "directorymatch"):
                path = argument.strip().strip("\"'")
                is_regex = name == "directorymatch" or path.startswith("~")
                current = HttpdDirectory(path.lstrip("~ ").strip("\"'"), number, is_regex)
                conf.directories.append(current)
            continue
        parts = line.split(None, 1)
        directive = parts[0].lower()
        value = parts[1].strip().strip("\"'") if len(parts) > 1 else ""
        # Only server-level and <IfModule>/<VirtualHost> context count as global here;
        # <Location>/<Files> blocks are left alone rather than guessed at.
        if current is not None:
            current.settings[directive] = Setting(value, number)
        elif all(name in ("ifmodule", "ifdefine", "virtualhost") for name in stack):
            conf.settings[directive] = Setting(value, number)
    return conf


@dataclass(frozen=True)
class NginxDirective:
    """An nginx directive, the blocks around it (e.g. `("http", "server")`) and its line."""

    name: str
    args: tuple[str, ...]
    context: tuple[str, ...]
    line: int


# A quoted string runs to its closing quote, or to the end of the text when there is none
# (nginx refuses such a file; we read what is there). Without that end the pattern failed at
# every quote and rescanned the rest of the text each time.
_NGINX_TOKEN = re.compile(
    r"""\#[^\n]*+"""
    r"""|"(?P<double>(?:[^"\\]|\\[\s\S]?)*+)"?"""
    r"""|'(?P<single>(?:[^'\\]|\\[\s\S]?)*+)'?"""
    r"""|[{};]|[^\s{};"'#]++"""
)


_MAX_NGINX_DEPTH = 32


@_cached
def parse_nginx(text: str) -> list[NginxDirective]:
    """Tokenise an nginx configuration into directives with their block context."""
    directives: list[NginxDirective] = []
    context: list[str] = []
    # Blocks nested deeper than _MAX_NGINX_DEPTH are counted, not named: copying a context
    # thousands deep into every directive was quadratic.
    hidden = 0
    words: list[str] = []
    first_line = 0
    # One running line count: counting from the start for each directive was quadratic.
    line, counted = 1, 0
    for match in _NGINX_TOKEN.finditer(text):
        token = match.group()
        if token.startswith("#"):
            continue
        if token in (";", "{"):
            if words:
                directive = NginxDirective(words[0], tuple(words[1:]), tuple(context), first_line)
                directives.append(directive)
            if token == "{":
                if len(context) < _MAX_NGINX_DEPTH:
                    context.append(words[0] if words else "")
                else:
                    hidden += 1
            words = []
        elif token == "}":
            if hidden:
                hidden -= 1
            elif context:
                context.pop()
            words = []
        else:
            if not words:
                line += text.count("\n", counted, match.start())
                counted = match.start()
                first_line = line
            quoted = match.group("double")
            if quoted is None:
                quoted = match.group("single")
            if quoted is not None:
                token = quoted
            words.append(token)
    return directives


@_cached
def parse_php_ini(text: str) -> dict[str, Setting]:
    """Read `key = value` pairs of a php.ini (last one wins, sections ignored)."""
    settings: dict[str, Setting] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in ";#[" or "=" not in stripped:
            continue
        key, _, value = stripped.partition("=")
        value = value.split(";", 1)[0].strip().strip("\"'")
        settings[key.strip().lower()] = Setting(value, number)
    return settings
