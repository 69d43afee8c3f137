"""System checks on the contract: drift is an error, pending migrations a warning.

Run by ``manage.py check --database default`` and by ``migrate``; the findings are the contract
report's (``backoffice.contract.report``): the same ones ``schema_drift`` and the Contract page
show.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core import checks
from django.db import DatabaseError

from backoffice.contract.report import contract_report


@checks.register(checks.Tags.database)
def check_schema_drift(
    databases: Iterable[str] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """Drift is an error (a json column where jsonb is expected, a warning)."""
    messages: list[checks.CheckMessage] = []
    for alias in databases or []:
        try:
            report = contract_report(alias)
        except DatabaseError as exc:
            messages.append(
                checks.Warning(f"Could not check the schema for drift: {exc}", id="backoffice.W002")
            )
            continue
        for d in report.drift:
            if d.severity == "error":
                messages.append(checks.Error(str(d), obj=d.obj, id="backoffice.E001"))
            else:
                messages.append(checks.Warning(str(d), obj=d.obj, id="backoffice.W001"))
        if report.migrations.pending:
            tags = ", ".join(m.tag for m in report.migrations.pending)
            messages.append(
                checks.Warning(
                    f"{len(report.migrations.pending)} Drizzle migration(s) of this checkout are "
                    f"not applied to this database: {tags}",
                    hint="On dev, demo and test databases run `manage.py drizzle_migrate`; "
                    "production databases are migrated by the gateway's drizzle-kit.",
                    id="backoffice.W003",
                )
            )
    return messages
