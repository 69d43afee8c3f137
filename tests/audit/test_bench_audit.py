"""The benchmark command: refuses without consent, and runs end to end on a few rows.

Benchmarks print figures; these tests assert no timing, only that the command still works.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditLog


@pytest.mark.django_db
def test_refuses_to_load_rows_without_consent():
    with pytest.raises(CommandError, match="--yes-load-rows"):
        call_command("bench_audit", "--rows", "10", stdout=io.StringIO())
    assert not AuditLog.unscoped.exists()


@pytest.mark.django_db
def test_loads_rows_with_set_based_sql_and_prints_every_page():
    out = io.StringIO()
    call_command(
        "bench_audit",
        "--rows=400",
        "--tenants=3",
        "--iterations=1",
        "--stock-iterations=1",
        "--skip-export",
        "--yes-load-rows",
        stdout=out,
    )
    assert AuditLog.unscoped.count() == 400
    printed = out.getvalue()
    for page in ("first page", "tenant + 24 hours", "page 4", "action user.*"):
        assert page in printed
