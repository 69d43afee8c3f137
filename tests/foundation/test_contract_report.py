"""The contract report: drift, what no model maps, and the migrations beside this checkout's files.

Each test changes the test database inside its own transaction (PostgreSQL's DDL is
transactional), so the change is gone after the test.
"""

from __future__ import annotations

import hashlib

import pytest
from django.conf import settings
from django.db import connection

from backoffice.contract.report import contract_is_ready, contract_report

pytestmark = pytest.mark.django_db

FUTURE_WHEN = 4102444800000  # 2100-01-01: newer than every file of this checkout


def _sql(*statements: str) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _file_hashes() -> list[str]:
    folder = settings.DRIZZLE_MIGRATIONS_DIR
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.sql"))]


def test_the_test_database_is_clean_applied_and_ready():
    report = contract_report()
    assert report.drift == [] and report.information == []
    assert [r.state for r in report.migrations.rows] == ["applied"] * 3
    assert [r.hash for r in report.migrations.recorded or []] == _file_hashes()
    assert [r.tag for r in report.migrations.recorded or []] == [
        "0000_gateway_schema",
        "0001_analytics_functions",
        "0002_monitoring_views",
    ]
    assert contract_is_ready() == (True, [])


def test_a_table_and_columns_the_gateway_added_are_information_not_drift():
    _sql(
        "CREATE TABLE public.gateway_webhooks (id uuid PRIMARY KEY, url text NOT NULL)",
        "ALTER TABLE tenants ADD COLUMN billing_ref text",
        "ALTER TABLE mcp_servers ADD COLUMN region text NOT NULL DEFAULT 'eu'",
        "ALTER TABLE api_keys ADD COLUMN owner_team text NOT NULL",
    )
    report = contract_report()
    assert report.drift == []
    info = {d.obj: d.message for d in report.information}
    assert set(info) == {
        "gateway_webhooks",
        "tenants.billing_ref",
        "mcp_servers.region",
        "api_keys.owner_team",
    }
    assert info["gateway_webhooks"] == "table that no model maps (2 columns)"
    assert info["tenants.billing_ref"] == "column that no model maps (text)"
    assert info["mcp_servers.region"] == "column that no model maps (text)"
    # The one the back office must know about: its inserts into api_keys would now fail.
    assert "NOT NULL without a default" in info["api_keys.owner_team"]
    assert contract_is_ready() == (True, [])


def test_a_dropped_index_is_an_error_and_not_ready():
    _sql("DROP INDEX idx_request_logs_errors")
    report = contract_report()
    assert [str(d) for d in report.errors] == [
        "ERROR: idx_request_logs_errors: contract index is missing"
    ]
    ready, reasons = contract_is_ready()
    assert not ready
    assert reasons == ["ERROR: idx_request_logs_errors: contract index is missing"]


def test_a_json_column_is_a_warning_and_still_ready():
    _sql("ALTER TABLE tenants ALTER COLUMN settings TYPE json USING settings::json")
    report = contract_report()
    assert [str(d) for d in report.warnings] == [
        "WARNING: tenants.settings: type is json, model expects jsonb"
    ]
    assert report.errors == []
    assert contract_is_ready() == (True, [])


def test_a_database_ahead_of_this_checkout_is_a_note_not_a_problem():
    _sql(
        "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) "
        f"VALUES (repeat('a', 64), {FUTURE_WHEN})"
    )
    migrations = contract_report().migrations
    assert [(r.hash, r.created_at) for r in migrations.ahead] == [("a" * 64, FUTURE_WHEN)]
    assert migrations.pending == [] and migrations.unknown == []
    assert [r.state for r in migrations.rows] == ["applied", "applied", "applied", "ahead"]
    assert contract_is_ready() == (True, [])


def test_a_migration_of_this_checkout_not_recorded_is_pending_and_not_ready():
    _sql("DELETE FROM drizzle.__drizzle_migrations WHERE created_at = 1762128000000")
    migrations = contract_report().migrations
    assert [m.tag for m in migrations.pending] == ["0002_monitoring_views"]
    assert [r.state for r in migrations.rows] == ["applied", "applied", "pending"]
    assert contract_is_ready() == (False, ["1 Drizzle migration(s) pending: 0002_monitoring_views"])


def test_an_edited_file_shows_as_an_unknown_row_and_a_file_never_recorded():
    # As if 0001 had been edited after it was applied: the database keeps the old hash.
    _sql(
        "UPDATE drizzle.__drizzle_migrations SET hash = repeat('b', 64) "
        "WHERE created_at = 1762041600000"
    )
    migrations = contract_report().migrations
    assert [r.hash for r in migrations.unknown] == ["b" * 64]
    assert migrations.ahead == [] and migrations.pending == []
    assert [(r.tag, r.state) for r in migrations.rows] == [
        ("0000_gateway_schema", "applied"),
        ("0001_analytics_functions", "not recorded"),
        ("0002_monitoring_views", "applied"),
        (None, "unknown"),
    ]


def test_a_database_without_the_journal_has_everything_pending():
    _sql("DROP TABLE drizzle.__drizzle_migrations")
    migrations = contract_report().migrations
    assert migrations.recorded is None
    assert len(migrations.pending) == 3
    assert not contract_is_ready()[0]


def test_schema_drift_prints_information_and_the_note_but_exits_0(contract_db):
    contract_db.sql("ALTER TABLE tenants ADD COLUMN billing_ref text")
    contract_db.sql(
        "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) "
        f"VALUES (repeat('a', 64), {FUTURE_WHEN})"
    )
    result = contract_db.manage("schema_drift")
    assert result.returncode == 0, result.stdout
    assert "INFORMATION: tenants.billing_ref: column that no model maps (text)" in result.stdout
    assert "NOTE: the database is ahead of this checkout" in result.stdout
    assert "No schema drift." in result.stdout


def test_system_check_warns_about_pending_migrations(contract_db):
    contract_db.sql("DELETE FROM drizzle.__drizzle_migrations WHERE created_at = 1762128000000")
    result = contract_db.manage("check", "--database", "default")
    assert result.returncode == 0, result.stderr
    assert "backoffice.W003" in result.stderr
    assert "0002_monitoring_views" in result.stderr
