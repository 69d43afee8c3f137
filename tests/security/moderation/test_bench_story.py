"""The story benchmark: refuses without consent, and runs end to end on a few rows (no timing)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditLog


@pytest.mark.django_db
def test_refuses_to_load_rows_without_consent():
    with pytest.raises(CommandError, match="--yes-load-rows"):
        call_command("bench_story", "--rows", "10", stdout=io.StringIO())
    assert not AuditLog.unscoped.exists()


@pytest.mark.django_db
def test_loads_rows_and_prints_every_page():
    out = io.StringIO()
    call_command(
        "bench_story",
        "--rows=300",
        "--iterations=1",
        "--requests-per-key=5",
        "--yes-load-rows",
        stdout=out,
    )
    assert AuditLog.unscoped.count() >= 300
    printed = out.getvalue()
    for page in ("story of bench-user-7", "history of a tenant", "explorer: about", "admin index"):
        assert page in printed
