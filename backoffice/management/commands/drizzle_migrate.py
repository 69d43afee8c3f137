"""``manage.py drizzle_migrate``: apply the Drizzle contract to a dev, demo or test database."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.contract.migrator import (
    JournalMismatch,
    MigrationFailed,
    apply_migrations,
    pending_migrations,
)


class Command(BaseCommand):
    help = (
        "Apply the Drizzle contract migrations in drizzle/ the way drizzle-kit does: the whole "
        "pending batch in one transaction, each migration recorded in "
        "drizzle.__drizzle_migrations with its SHA-256. For dev, demo and test databases only: "
        "production databases are migrated by the gateway's drizzle-kit. A no-op when up to "
        "date; refuses when the database records a migration no file has; when a statement "
        "fails, nothing of the batch is applied."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="Database alias.")
        parser.add_argument(
            "--check", action="store_true", help="Only list pending migrations; exit 1 if any."
        )
        parser.add_argument(
            "--migrations-folder",
            type=Path,
            default=None,
            help="The migrations folder (default: settings.DRIZZLE_MIGRATIONS_DIR, drizzle/).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder = options["migrations_folder"]
        try:
            if options["check"]:
                pending = pending_migrations(options["database"], folder)
                for migration in pending:
                    self.stdout.write(f"pending: {migration.tag}")
                if pending:
                    raise CommandError(f"{len(pending)} Drizzle migration(s) pending.")
                self.stdout.write("The Drizzle contract is up to date.")
                return
            applied = apply_migrations(options["database"], folder)
        except JournalMismatch as exc:
            raise CommandError(f"Refusing to migrate: {exc}") from exc
        except MigrationFailed as exc:
            raise CommandError(f"Migration failed: {exc}") from exc
        for migration in applied:
            self.stdout.write(f"applied {migration.tag} ({migration.hash[:12]})")
        if not applied:
            self.stdout.write("The Drizzle contract is up to date: nothing to apply.")
