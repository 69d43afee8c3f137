"""``manage.py schema_drift``: compare the models and the contract with the live database."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backoffice.contract.report import find_drift


class Command(BaseCommand):
    help = (
        "Report drift between the unmanaged models / Drizzle contract and the live database: "
        "missing tables, views, columns, indexes and functions, type and nullability mismatches. "
        "Exit status 1 on any error-level drift, 0 when clean (warnings alone exit 0)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        drift = find_drift(options["database"])
        for d in drift:
            style = self.style.ERROR if d.severity == "error" else self.style.WARNING
            self.stdout.write(style(str(d)))
        errors = sum(d.severity == "error" for d in drift)
        if errors:
            self.stdout.write(self.style.ERROR(f"Schema drift: {errors} error(s)."))
            raise SystemExit(1)
        warnings = len(drift)
        suffix = f" ({warnings} warning(s))" if warnings else ""
        self.stdout.write(self.style.SUCCESS(f"No schema drift{suffix}."))
