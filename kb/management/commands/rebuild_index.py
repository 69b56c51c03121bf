"""`manage.py rebuild_index`: rebuild the search index from the database."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from kb.search import index_dir, rebuild_index


class Command(BaseCommand):
    help = (
        "Rebuild the Whoosh search index from the articles in the database. Readers keep "
        "the old index until the new one is committed atomically."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            count = rebuild_index()
        except DatabaseError as error:
            raise CommandError(
                f"cannot read the articles ({error}); run `manage.py migrate` first"
            ) from error
        self.stdout.write(f"Indexed {count} articles into {index_dir()}")
