"""`manage.py analyze`: the manifest analyzer for CI, on files or standard input.

`manage.py` runs `troubleshooter.analyzer.cli` itself for this command, before Django starts;
this class serves `call_command("analyze", ...)` and `manage.py help analyze` with the same
options and the limits from the settings.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from troubleshooter.analyzer import cli
from troubleshooter.forms import manifest_limits


class Command(BaseCommand):
    help = cli.DESCRIPTION
    # `stdin` lets tests (and call_command users) pass a stream in place of sys.stdin.
    stealth_options = ("stdin",)
    # Analysing needs no database or system checks; starting fast matters in CI.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = cli.run(
            files=options["files"],
            output=options["format"],
            fail_on=options["fail_on"],
            disable=options["disable"],
            base_url=options["base_url"],
            limits=manifest_limits(),
            max_seconds=options["max_seconds"],
            stdin=options.get("stdin") or sys.stdin,
            stdout=self.stdout,
            stderr=self.stderr,
        )
        if outcome.code:
            raise CommandError(outcome.message, returncode=outcome.code)
