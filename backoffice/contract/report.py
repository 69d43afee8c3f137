"""Drift detection: does the live database still match the models and the Drizzle contract?

Compares every unmanaged model with the ``public`` schema (tables and views, columns, types,
nullability) and checks that the contract's indexes and functions exist. Used by the system check
``backoffice.E001``/``W001`` (``manage.py check --database default``, and ``migrate``) and by
``manage.py schema_drift``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.core import checks
from django.db import DatabaseError, connections, models

from backoffice.contract.migrator import read_migrations

COLUMNS_SQL = """
SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
"""
INDEXES_SQL = "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
FUNCTIONS_SQL = """
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public'
"""
CREATE_INDEX_RE = re.compile(r'CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?"([^"]+)"', re.I)
CREATE_FUNCTION_RE = re.compile(
    r'CREATE (?:OR REPLACE )?FUNCTION (?:"public"\.)?"?([a-z_0-9]+)"?\s*\(', re.I
)

# The same data in a looser type that the models still read correctly.
TOLERATED = {("jsonb", "json")}


@dataclass(frozen=True)
class Drift:
    """One difference between what the back office expects and what the database has."""

    severity: str  # "error" or "warning"
    obj: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity.upper()}: {self.obj}: {self.message}"


def contract_models() -> list[type[models.Model]]:
    """Every unmanaged model: the ones that sit on the Drizzle contract."""
    return [m for m in apps.get_models() if not m._meta.managed and not m._meta.proxy]


def contract_index_names() -> set[str]:
    return {n for m in read_migrations() for n in CREATE_INDEX_RE.findall(m.sql)}


def contract_function_names() -> set[str]:
    return {n for m in read_migrations() for n in CREATE_FUNCTION_RE.findall(m.sql)}


def find_drift(using: str = "default") -> list[Drift]:
    """All drift between the unmanaged models / contract and the live database."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(COLUMNS_SQL)
        rows = cursor.fetchall()
        cursor.execute(INDEXES_SQL)
        indexes = {r[0] for r in cursor.fetchall()}
        cursor.execute(FUNCTIONS_SQL)
        functions = {r[0] for r in cursor.fetchall()}

    relations: dict[str, dict[str, tuple[str, bool]]] = {}
    relkinds: dict[str, str] = {}
    for relname, relkind, column, type_name, not_null in rows:
        relations.setdefault(relname, {})[column] = (type_name, not_null)
        relkinds[relname] = relkind

    if not relations:
        return [
            Drift(
                "error",
                "public",
                "the Drizzle contract is not applied to this database "
                "(run `manage.py drizzle_migrate` first on dev, demo and test databases)",
            )
        ]
    drift: list[Drift] = []
    for model in contract_models():
        drift.extend(_model_drift(model, relations, relkinds, connection))
    for name in sorted(contract_index_names() - indexes):
        drift.append(Drift("error", name, "contract index is missing"))
    for name in sorted(contract_function_names() - functions):
        drift.append(Drift("error", f"{name}()", "contract function is missing"))
    return drift


def _model_drift(
    model: type[models.Model],
    relations: dict[str, dict[str, tuple[str, bool]]],
    relkinds: dict[str, str],
    connection: object,
) -> Iterable[Drift]:
    table = model._meta.db_table
    label = model._meta.label
    if table not in relations:
        yield Drift("error", table, f"table or view of {label} is missing")
        return
    is_view = relkinds[table] in ("v", "m")
    columns = relations[table]
    for field in model._meta.concrete_fields:
        name = f"{table}.{field.column}"
        if field.column not in columns:
            yield Drift("error", name, f"column of {label}.{field.name} is missing")
            continue
        actual_type, not_null = columns[field.column]
        expected_type = field.db_type(connection)  # type: ignore[arg-type]
        if expected_type != actual_type:
            severity = "warning" if (expected_type, actual_type) in TOLERATED else "error"
            yield Drift(severity, name, f"type is {actual_type}, model expects {expected_type}")
        if not is_view and field.null == not_null:
            expected = "nullable" if field.null else "NOT NULL"
            actual = "NOT NULL" if not_null else "nullable"
            yield Drift("error", name, f"column is {actual}, model expects {expected}")


@checks.register(checks.Tags.database)
def check_schema_drift(databases: Iterable[str] | None = None, **kwargs: object) -> list:
    """System check: drift is an error (a json column where jsonb is expected, a warning)."""
    messages: list[checks.CheckMessage] = []
    for alias in databases or []:
        try:
            drift = find_drift(alias)
        except DatabaseError as exc:
            messages.append(
                checks.Warning(f"Could not check the schema for drift: {exc}", id="backoffice.W002")
            )
            continue
        for d in drift:
            if d.severity == "error":
                messages.append(checks.Error(str(d), obj=d.obj, id="backoffice.E001"))
            else:
                messages.append(checks.Warning(str(d), obj=d.obj, id="backoffice.W001"))
    return messages
