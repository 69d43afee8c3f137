"""The benchmark command: refuses without consent, and runs end to end on a few rows.

Benchmarks print figures; these tests assert no timing, only that the command still works.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

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


@pytest.mark.django_db
def test_rows_are_spread_evenly_with_ids_rising_with_time_across_batches():
    call_command(
        "bench_audit",
        "--rows=900",
        "--batch-rows=200",
        "--days=30",
        "--tenants=2",
        "--iterations=1",
        "--stock-iterations=1",
        "--skip-export",
        "--yes-load-rows",
        stdout=io.StringIO(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE created_at < previous), "
            "extract(epoch FROM max(created_at) - min(created_at)) / 86400, "
            "count(*) FILTER (WHERE created_at >= max_at - interval '15 days') "
            "FROM (SELECT created_at, lag(created_at) OVER (ORDER BY id) AS previous, "
            "max(created_at) OVER () AS max_at FROM audit_logs) AS rows"
        )
        going_back, days, last_half = cursor.fetchone()
    assert going_back == 0  # no id is older than the id before it
    assert 29.9 < days <= 30  # over the whole period ...
    assert 445 <= last_half <= 455  # ... evenly: half the rows in its second half
