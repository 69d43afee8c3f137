"""The Contract page: the Drizzle contract as this database has it, for admins, read-only.

Everything on it comes from one call to ``contract_report()``, the report that also backs
``schema_drift``, the system check and ``/readyz``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from backoffice.access import staff_view
from backoffice.contract.report import MigrationRow, contract_report
from backoffice.roles import Capability

STATE_TONES = {
    "applied": "good",
    "pending": "warn",
    "not recorded": "warn",
    "ahead": "muted",
    "unknown": "warn",
}


@dataclass(frozen=True)
class MigrationLine:
    """A row of the migrations table, with the journal's milliseconds as a time."""

    row: MigrationRow
    when: dt.datetime | None
    recorded_at: dt.datetime | None

    @property
    def tone(self) -> str:
        return STATE_TONES.get(self.row.state, "muted")


def _time(milliseconds: int | None) -> dt.datetime | None:
    if milliseconds is None:
        return None
    return dt.datetime.fromtimestamp(milliseconds / 1000, tz=dt.UTC)


@staff_view(Capability.VIEW_CONTRACT)
@require_safe
def contract(request: HttpRequest) -> HttpResponse:
    """Migrations recorded beside this checkout's files, pending ones, drift and information."""
    report = contract_report()
    lines = [
        MigrationLine(
            row,
            _time(row.when),
            _time(row.recorded.created_at) if row.recorded else None,
        )
        for row in report.migrations.rows
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Contract",
        "report": report,
        "migrations": report.migrations,
        "lines": lines,
    }
    return TemplateResponse(request, "monitoring/contract.html", context)
