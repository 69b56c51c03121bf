"""manage.py import_articles: load Markdown and plain-text documents into the database."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from kb.importer import SLUG_SOURCES, display_name, import_paths
from kb.search import rebuild_index

# With more files than this, unchanged files are counted instead of listed one by one.
LONG_IMPORT = 200


class Command(BaseCommand):
    help = (
        "Import articles from .md, .markdown and .txt files (recursively under folders), "
        "then rebuild the search index. Exits with status 1 if any file failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths",
            nargs="*",
            type=Path,
            help="Files or folders to import (default: settings.KB_ARTICLES_DIR).",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Delete articles imported from these folders whose file is gone.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Re-import unchanged files and overwrite articles edited in the admin.",
        )
        parser.add_argument(
            "--slug-from",
            choices=SLUG_SOURCES,
            default="front-matter",
            help=(
                "Where slugs come from: front-matter (`slug:`, else the file name; the "
                "default), title (`slug:`, else the title's ASCII words: readable URLs for "
                "blog write-ups), or stem (always the file name). A slug that changes keeps "
                "its old URL as a redirect."
            ),
        )
        parser.add_argument(
            "--no-index",
            action="store_true",
            help="Do not rebuild the search index afterwards.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes that render documents and analyse them for the index (default: "
            "one per core, used only for large imports; 1: all in this process).",
        )
        parser.add_argument(
            "--quiet",
            action="store_true",
            help="Print only conflicts, failures and the summary line.",
        )

    def handle(self, *args: object, **options: object) -> None:
        _require_migrated()
        paths = options["paths"] or [Path(settings.KB_ARTICLES_DIR)]
        quiet = bool(options["quiet"])
        verbose = int(options.get("verbosity", 1)) >= 2
        counter = {"files": 0}

        def progress(path: Path, status: str) -> None:
            counter["files"] += 1
            if quiet or status in ("failed", "conflict"):
                return  # listed with their reasons below
            if status == "unchanged" and not verbose:
                if counter["files"] % LONG_IMPORT == 0:
                    self.stdout.write(f"... {counter['files']} files")
                return
            # Names are escaped: a file name is chosen by whoever wrote the folder, and ESC or
            # CR in it must not rewrite the terminal or forge a line of a CI log.
            self.stdout.write(f"{status:>9}  {display_name(path)}")

        report = import_paths(
            paths,
            prune=bool(options["prune"]),
            force=bool(options["force"]),
            progress=progress,
            slug_from=str(options["slug_from"]),
            workers=options["workers"],
        )
        for problem in report.conflicts:
            self.stderr.write(f"conflict  {problem}")
        for problem in report.failed:
            self.stderr.write(f"failed    {problem}")
        if not quiet:
            for problem in report.skipped:
                self.stdout.write(f"skipped   {problem}")
        self.stdout.write(report.summary_line())

        if not options["no_index"]:
            saved = (
                report.created
                or report.updated
                or report.pruned
                or report.unpublished
                or report.renamed
                or report.conflicts
            )
            count = rebuild_index(workers=options["workers"], nothing_saved=not saved)
            if not quiet:
                self.stdout.write(f"search index rebuilt: {count} articles")
        if report.failed:
            raise CommandError(f"{len(report.failed)} file(s) failed to import", returncode=1)


def _require_migrated() -> None:
    """Stop with one clear line, not a traceback, before a database without our tables.

    Importing into a fresh database before `manage.py migrate` is the usual first mistake.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise CommandError(
            f"the database has {len(plan)} unapplied migration(s); run `manage.py migrate` first"
        )
