#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Options only Django's own command runner understands; with any of them `analyze` takes the
# ordinary route through Django.
_DJANGO_OPTIONS = (
    "--settings",
    "--pythonpath",
    "--traceback",
    "--verbosity",
    "-v",
    "--no-color",
    "--force-color",
    "--skip-checks",
)


def main() -> None:
    """Run administrative tasks."""
    args = sys.argv[1:]
    if args[:1] == ["analyze"] and not any(a.startswith(_DJANGO_OPTIONS) for a in args[1:]):
        # The analyzer needs nothing from Django: skipping its set-up halves the start time
        # of a CI step (bench/RESULTS.md).
        from troubleshooter.analyzer.cli import main as analyze

        sys.exit(analyze(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
