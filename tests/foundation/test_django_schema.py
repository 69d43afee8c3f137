"""Django stays out of `public`: its tables live in a schema of their own."""

import io
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import CreateModel

CATALOG_SQL = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE n.nspname = 'public' ORDER BY 1, 2""",
    "relations": """
        SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' ORDER BY 1""",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "constraints": """
        SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
        JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' ORDER BY 1""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1""",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
    "types": """
        SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_type t
        JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY 1 ORDER BY 1""",
}


def _catalog(db) -> dict[str, list[tuple]]:
    return {name: db.sql(sql) for name, sql in CATALOG_SQL.items()}


def test_migrate_leaves_the_contract_exactly_as_it_was(contract_db):
    before = _catalog(contract_db)
    assert len(before["indexes"]) >= 38 and before["functions"] and before["views"]

    result = contract_db.manage("migrate", "--noinput")
    assert result.returncode == 0, result.stderr

    assert _catalog(contract_db) == before
    django_tables = contract_db.sql(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_name LIKE 'django_%' OR table_name LIKE 'auth_%'"
    )
    assert django_tables
    assert {schema for schema, _ in django_tables} == {settings.BACKOFFICE_DB_SCHEMA}


def test_migrate_refuses_a_database_without_the_contract(scratch_db):
    result = scratch_db.manage("migrate", "--noinput")
    assert result.returncode == 1
    assert "the Drizzle contract is not applied" in result.stderr
    assert scratch_db.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    ) == [(0,)]


def test_migrate_creates_the_backoffice_schema(contract_db):
    assert contract_db.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'backoffice'") == [
        (0,)
    ]
    result = contract_db.manage("migrate", "--noinput")
    assert result.returncode == 0, result.stderr
    schemas = contract_db.sql(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'django_migrations'"
    )
    assert schemas == [(settings.BACKOFFICE_DB_SCHEMA,)]


@pytest.mark.django_db
def test_every_table_django_owns_is_outside_public():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        public_tables = {row[0] for row in cursor.fetchall()}
    contract_tables = {m._meta.db_table for m in apps.get_models() if not m._meta.managed}
    managed_tables = {m._meta.db_table for m in apps.get_models() if m._meta.managed}
    assert not (public_tables & managed_tables)
    # Everything in public is the contract's (its tables and views).
    assert public_tables <= contract_tables


@pytest.mark.django_db
def test_makemigrations_finds_nothing_to_do():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


CONTRACT_TABLES = {
    "tenants",
    "user",
    "session",
    "account",
    "verification",
    "mcp_servers",
    "server_health_checks",
    "mcp_tools",
    "mcp_resources",
    "api_keys",
    "audit_logs",
    "request_logs",
    "database_size_summary",
    "index_usage_summary",
    "performance_monitoring",
}


def test_every_contract_table_has_an_unmanaged_model():
    by_table = {m._meta.db_table: m for m in apps.get_models()}
    assert set(by_table) >= CONTRACT_TABLES
    for table in CONTRACT_TABLES:
        assert by_table[table]._meta.managed is False, f"{table} must stay unmanaged"


def test_no_django_migration_would_create_or_alter_a_contract_table():
    # Flipping managed=False off produces a migration with no visible SQL; catch it here.
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app_label, name), migration in loader.disk_migrations.items():
        for operation in migration.operations:
            if isinstance(operation, CreateModel):
                table = operation.options.get("db_table")
                if table in CONTRACT_TABLES:
                    assert operation.options.get("managed") is False, (app_label, name, table)
            else:
                model_name = getattr(operation, "model_name", None) or getattr(
                    operation, "name", None
                )
                if model_name is None:
                    continue
                try:
                    model = apps.get_model(app_label, model_name)
                except LookupError:
                    continue
                assert model._meta.managed or type(operation).__name__ in {
                    "AlterModelOptions",
                    "AlterModelTable",
                    "DeleteModel",
                }, (app_label, name, operation)


def test_no_many_to_many_on_a_contract_model_without_an_unmanaged_through():
    for model in apps.get_models():
        for field in model._meta.local_many_to_many:
            related: Any = field.related_model
            through: Any = field.remote_field.through
            if not model._meta.managed or not related._meta.managed:
                assert through._meta.managed is False, field
