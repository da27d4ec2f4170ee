import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.health import check_database, check_redis


class Command(BaseCommand):
    help = "Wait until the database and Redis answer (and, with --migrated, the schema is current)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60.0)
        parser.add_argument("--migrated", action="store_true")

    def handle(self, *args, timeout: float, migrated: bool, **options):
        deadline = time.monotonic() + timeout
        while True:
            try:
                check_database()
                check_redis()
                if migrated and self._unapplied():
                    raise RuntimeError("migrations not applied yet")
                return
            except Exception as exc:
                connection.close()
                if time.monotonic() > deadline:
                    raise CommandError(f"services not ready after {timeout:.0f}s: {exc}") from exc
                time.sleep(0.5)

    def _unapplied(self) -> bool:
        executor = MigrationExecutor(connection)
        return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
