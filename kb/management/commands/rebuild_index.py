"""`manage.py rebuild_index`: rebuild the search index from the database."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from kb.search import index_dir, rebuild_index


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

    def handle(self, *args: object, **options: object) -> None:
        try:
            # Asked for by hand, a rebuild happens even when nothing changed: it also repairs
            # an index damaged on disk.
            count = rebuild_index(force=not options["if_changed"])
        except DatabaseError as error:
            raise CommandError(
                f"cannot read the articles ({error}); run `manage.py migrate` first"
            ) from error
        self.stdout.write(f"Indexed {count} articles into {index_dir()}")
