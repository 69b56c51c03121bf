"""manage.py translation_status: which translations fell behind their English original."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from kb.models import Article
from troubleshooter.analyzer import check_docs, messages, notices, registry, suppress

# Messages no check owns: analyzer/docs/<name>.<lang>.messages.yaml against these templates.
NOTE_SETS = {"suppress": suppress.NOTES, "parse": notices.NOTES}


class Command(BaseCommand):
    help = (
        "List every imported article translation and every check page translation as fresh or "
        "stale, with the sha256 of its original's current text (the value `translated_from` "
        "takes once the translation is updated): an article's body, a check's TITLE and docstring, "
        "a check's English finding messages (MESSAGES), the notes about suppressions (NOTES), the "
        "parse errors and notes about the input (notices.NOTES)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale", action="store_true", help="List only the translations that fell behind."
        )

    def handle(self, *args: object, **options: object) -> None:
        only_stale = bool(options["stale"])
        rows = Article.objects.filter(translation_of__isnull=False).select_related("translation_of")
        stale_count = 0
        for translation in rows.order_by("slug", "lang"):
            stale_count += translation.stale
            self._line(
                translation.stale,
                f"{translation.slug}.{translation.lang}",
                translation.translation_of.body_sha256,
                only_stale=only_stale,
            )
        self.stdout.write(f"{rows.count()} translation(s), {stale_count} stale")

        # Check pages: checks/docs/<id>.<lang>.md against the check's TITLE and docstring.
        pages = check_docs.all_translations(registry.all_checks())
        for page in pages:
            name = f"checks/{page.check_id}.{page.lang}"
            self._line(page.stale, name, page.current, only_stale=only_stale)
        stale_pages = sum(page.stale for page in pages)
        self.stdout.write(f"{len(pages)} check page translation(s), {stale_pages} stale")

        # Finding messages: checks/docs/<id>.<lang>.messages.yaml against the check's MESSAGES.
        # A check with templates but no file in a language counts as stale: its findings show
        # in English there.
        checks = [check for check in registry.all_checks() if messages.check_messages(check)]
        found = {(t.check_id, t.lang): t for t in messages.all_message_translations(checks)}
        stale_messages = 0
        for check in sorted(checks, key=lambda check: check.ID):
            for lang in check_docs.LANGUAGES:
                translation = found.get((check.ID, lang))
                stale = translation is None or translation.stale
                stale_messages += stale
                missing = " (missing)" if translation is None else ""
                name = f"checks/{check.ID}.{lang}.messages{missing}"
                current = messages.english_messages_sha256(check)
                self._line(stale, name, current, only_stale=only_stale)
        # Notes about suppressions, parse errors: analyzer/docs/<name>.<lang>.messages.yaml.
        for name, english in NOTE_SETS.items():
            current = messages.templates_sha256(english)
            for lang in check_docs.LANGUAGES:
                translation = messages.load_notes(name, english, lang)
                stale = translation is None or translation.stale
                stale_messages += stale
                missing = " (missing)" if translation is None else ""
                label = f"analyzer/{name}.{lang}.messages{missing}"
                self._line(stale, label, current, only_stale=only_stale)
        total = (len(checks) + len(NOTE_SETS)) * len(check_docs.LANGUAGES)
        self.stdout.write(f"{total} message translation(s), {stale_messages} stale")

    def _line(self, stale: bool, name: str, current: str, *, only_stale: bool) -> None:
        if only_stale and not stale:
            return
        state = "stale" if stale else "fresh"
        self.stdout.write(f"{state:5}  {name}  {current}")
