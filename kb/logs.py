"""Log formatting that keeps what users pasted out of the logs.

An exception's message often quotes its input: `invalid literal for int() with base 10:
'<a line of the pasted manifest>'`, a YAML error with the offending snippet, a decode error
with the bytes. The README promises that pasted manifests and logs are never written to logs,
so tracebacks are logged with their frames (file, line, code) and each exception's type only.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

WITHHELD = "(message withheld: it may quote user input)"


class NoExceptionTextFormatter(logging.Formatter):
    """A Formatter whose tracebacks name each exception's type but never print its message."""

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 - logging's name
        chain: list[BaseException] = []
        seen: set[int] = set()
        error: BaseException | None = ei[1]
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            chain.append(error)
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        lines: list[str] = []
        for position, error in enumerate(reversed(chain)):
            if position:
                lines.append("\nwhile handling it, or because of it:\n\n")
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(error.__traceback__))
            kind = type(error)
            lines.append(f"{kind.__module__}.{kind.__qualname__}: {WITHHELD}\n")
        return "".join(lines).rstrip("\n")
