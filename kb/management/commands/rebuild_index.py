"""`manage.py rebuild_index`: rebuild the search index from the database."""

import signal

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from kb.search import index_dir, rebuild_index
from kb.search.healing import BUSY_STATUS
from kb.search.index import rebuild_lock, rebuild_locked


class Command(BaseCommand):
    help = (
        "Rebuild the Whoosh search index from the articles in the database. Readers keep "
        "the old index until the new one is committed atomically."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-changed",
            action="store_true",
            help="Leave the index alone when it was built from exactly the articles the "
            "database holds now (one table read instead of a rebuild).",
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help=f"Exit with status {BUSY_STATUS} at once when another rebuild is running "
            "(the background heal of a serving instance uses it).",
        )

        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes that analyse the articles (default: one per core; 1: none). The "
            "background heal of a serving instance uses 1, leaving the other cores to it.",
        )
        parser.add_argument(
            "--max-seconds",
            type=int,
            default=0,
            help="Die (SIGALRM) if the rebuild is still running after this many seconds: a "
            "heal's child bounds itself even if the worker that started it is gone.",
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["max_seconds"] > 0:
            signal.alarm(options["max_seconds"])  # the default action ends the process
        try:
            # Asked for by hand, a rebuild happens even when nothing changed: it also repairs
            # an index damaged on disk.
            if options["no_wait"]:
                with rebuild_lock(wait=0.0) as locked:
                    if not locked:
                        self.stderr.write("another rebuild of the search index is running")
                        raise SystemExit(BUSY_STATUS)
                    count = rebuild_locked(
                        articles=None,
                        force=not options["if_changed"],
                        workers=options["workers"],
                    )
            else:
                count = rebuild_index(force=not options["if_changed"], workers=options["workers"])
        except DatabaseError as error:
            raise CommandError(
                f"cannot read the articles ({error}); run `manage.py migrate` first"
            ) from error
        self.stdout.write(f"Indexed {count} articles into {index_dir()}")
