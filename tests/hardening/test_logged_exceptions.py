"""A logged exception names its type and frames, never its message: messages quote input."""

from __future__ import annotations

import logging
import sys

from kb.logs import WITHHELD

MARKER = "PASTED-7d21-SECRET"


def configured_formatter() -> logging.Formatter:
    """The formatter settings.LOGGING gives the console handler, as Django configured it."""
    handlers = [h for h in logging.getLogger().handlers if h.formatter is not None]
    formatters = {type(h.formatter).__name__: h.formatter for h in handlers}
    assert "NoExceptionTextFormatter" in formatters, formatters
    return formatters["NoExceptionTextFormatter"]


def fails_on(text: str) -> None:
    try:
        int(text)  # ValueError: invalid literal for int() with base 10: '<text>'
    except ValueError as error:
        raise RuntimeError(f"could not read {text!r}") from error


def test_the_configured_log_format_keeps_frames_and_types_but_not_messages():
    formatter = configured_formatter()
    try:
        fails_on(f"replicas: {MARKER}")
    except RuntimeError:
        exc_info = sys.exc_info()
    # What django.request logs for a 500.
    record = logging.LogRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "Internal Server Error: %s",
        ("/api/analyze/",),
        exc_info=exc_info,
    )
    written = formatter.format(record)
    assert MARKER not in written
    assert "Internal Server Error: /api/analyze/" in written
    assert f"builtins.ValueError: {WITHHELD}" in written
    assert f"builtins.RuntimeError: {WITHHELD}" in written
    assert "in fails_on" in written and "int(text)" in written
