"""manage.py translation_status: which translations fell behind their English original."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from kb.models import Article


class Command(BaseCommand):
    help = (
        "List every imported translation as fresh or stale, with the sha256 of its original's "
        "current body (the value `translated_from` takes once the translation is updated)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale", action="store_true", help="List only the translations that fell behind."
        )

    def handle(self, *args: object, **options: object) -> None:
        rows = Article.objects.filter(translation_of__isnull=False).select_related("translation_of")
        stale_count = 0
        for translation in rows.order_by("slug", "lang"):
            stale = translation.stale
            stale_count += stale
            if options["stale"] and not stale:
                continue
            state = "stale" if stale else "fresh"
            current = translation.translation_of.body_sha256
            self.stdout.write(f"{state:5}  {translation.slug}.{translation.lang}  {current}")
        self.stdout.write(f"{rows.count()} translation(s), {stale_count} stale")
