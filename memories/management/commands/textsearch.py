"""Keyword search's full-text side: which configuration (language) indexes the memories, and
the dictionary of stems that typos are corrected against.

    manage.py textsearch                    what is in use, what the setting asks for
    manage.py textsearch apply [--config C] regenerate the index with C (default: the setting)
    manage.py textsearch lexicon            rebuild the typo dictionary from every memory
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from memories.lexicon import lexicon_rebuild
from memories.text_config import UnknownTextConfig, column_text_config, text_config_apply


class Command(BaseCommand):
    help = "Show or change keyword search's text search configuration; rebuild its dictionary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", nargs="?", choices=["status", "apply", "lexicon"])
        parser.add_argument("--config", help="with apply: a text search configuration name")

    def handle(self, *args, action: str | None, config: str | None, **options) -> None:
        if action == "apply":
            wanted = config or settings.SEARCH_TEXT_CONFIG
            self.stdout.write(f"regenerating the search index with {wanted!r}…")
            try:
                changed = text_config_apply(wanted)
            except UnknownTextConfig as exc:
                raise CommandError(str(exc)) from exc
            if not changed:
                self.stdout.write(f"already {wanted!r}: nothing to do")
                return
            self.stdout.write(f"indexed with {wanted!r}; rebuilding the typo dictionary…")
            action = "lexicon"
        if action == "lexicon":
            size = lexicon_rebuild()
            if size is None:
                raise CommandError("a refresh of the typo dictionary is running; try again")
            self.stdout.write(f"typo dictionary: {size:,} stems (per user)")
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM memories_searchlexeme")
            stems = cursor.fetchone()[0]
        column = column_text_config()
        self.stdout.write(f"indexed with:       {column}")
        self.stdout.write(f"SEARCH_TEXT_CONFIG: {settings.SEARCH_TEXT_CONFIG}")
        self.stdout.write(f"typo dictionary:    {stems:,} stems (per user)")
        if column != settings.SEARCH_TEXT_CONFIG:
            self.stdout.write("they differ: run `manage.py textsearch apply`")
