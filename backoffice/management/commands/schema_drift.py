"""``manage.py schema_drift``: compare the models and the contract with the live database."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backoffice.contract.report import MigrationStatus, contract_report


class Command(BaseCommand):
    help = (
        "Report drift between the unmanaged models / Drizzle contract and the live database: "
        "missing tables, views, columns, indexes and functions, type and nullability mismatches; "
        "then, as information, tables and columns no model maps, and the migrations pending or "
        "recorded ahead of this checkout. Exit status 1 on any error-level drift, 0 when clean "
        "(warnings and information alone exit 0)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = contract_report(options["database"])
        for d in report.drift:
            style = self.style.ERROR if d.severity == "error" else self.style.WARNING
            self.stdout.write(style(str(d)))
        for d in report.information:
            self.stdout.write(str(d))
        self._write_migrations(report.migrations)
        errors = len(report.errors)
        if errors:
            self.stdout.write(self.style.ERROR(f"Schema drift: {errors} error(s)."))
            raise SystemExit(1)
        warnings = len(report.warnings)
        suffix = f" ({warnings} warning(s))" if warnings else ""
        self.stdout.write(self.style.SUCCESS(f"No schema drift{suffix}."))

    def _write_migrations(self, migrations: MigrationStatus) -> None:
        if migrations.pending:
            tags = ", ".join(m.tag for m in migrations.pending)
            self.stdout.write(self.style.WARNING(f"Pending Drizzle migration(s): {tags}"))
        if migrations.ahead:
            self.stdout.write(
                f"NOTE: the database is ahead of this checkout: it records "
                f"{len(migrations.ahead)} migration(s) newer than every file in drizzle/ "
                "(the gateway shipped them first)."
            )
        if migrations.unknown:
            self.stdout.write(
                self.style.WARNING(
                    f"The database records {len(migrations.unknown)} migration(s) whose hash no "
                    "file has, older than the newest file: was a file edited after it was applied?"
                )
            )
