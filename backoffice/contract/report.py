"""The contract report: does the live database still match the models and the Drizzle contract?

``contract_report()`` reads the catalog and the migration journal once and returns everything
the back office says about the contract: drift (a missing table, view, column, index or function,
a type or nullability mismatch: errors; a ``json`` column where the model reads ``jsonb``: a
warning), information (tables and columns the gateway added that no model maps) and the
migrations (recorded beside this checkout's files, pending, the database ahead). Its one source
serves ``manage.py schema_drift``, the system check (``backoffice.contract.checks``), the
Contract page and ``/readyz`` (through ``contract_is_ready``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections, models

from backoffice.contract.migrator import (
    Migration,
    RecordedMigration,
    newer_than_recorded,
    read_migrations,
    recorded_migrations,
)

COLUMNS_SQL = """
SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.atthasdef
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
ORDER BY c.relname, a.attnum
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
RELKINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view"}


@dataclass(frozen=True)
class Drift:
    """One difference between what the back office expects and what the database has."""

    severity: str  # "error", "warning" or "information"
    obj: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity.upper()}: {self.obj}: {self.message}"


@dataclass(frozen=True)
class MigrationRow:
    """One line of "recorded beside the files": a file, a journal row, or both."""

    tag: str | None
    when: int | None  # the journal's ``when`` (file) or ``created_at`` (row), in milliseconds
    file_hash: str | None
    recorded: RecordedMigration | None
    state: str  # applied, pending, not recorded, ahead, unknown


@dataclass(frozen=True)
class MigrationStatus:
    """The database's ``drizzle.__drizzle_migrations`` beside this checkout's ``drizzle/``."""

    files: list[Migration]
    recorded: list[RecordedMigration] | None  # None: the database has no journal table
    pending: list[Migration]
    # Rows no file has, newer than every file: the gateway shipped a migration first.
    ahead: list[RecordedMigration]
    # Rows no file has, not newer: a file edited after it was applied, or another history.
    unknown: list[RecordedMigration]

    @property
    def rows(self) -> list[MigrationRow]:
        recorded = self.recorded or []
        by_hash = {r.hash: r for r in recorded}
        pending = {m.tag for m in self.pending}
        rows = [
            MigrationRow(
                m.tag,
                m.when,
                m.hash,
                by_hash.get(m.hash),
                "applied"
                if m.hash in by_hash
                else "pending"
                if m.tag in pending
                else "not recorded",
            )
            for m in self.files
        ]
        ahead = {r.id for r in self.ahead}
        rows += [
            MigrationRow(None, r.created_at, None, r, "ahead" if r.id in ahead else "unknown")
            for r in recorded
            if r.tag is None
        ]
        return rows


@dataclass(frozen=True)
class ContractReport:
    drift: list[Drift]  # errors and warnings: what schema_drift and the system check report
    information: list[Drift]  # tables and columns no model maps
    migrations: MigrationStatus

    @property
    def errors(self) -> list[Drift]:
        return [d for d in self.drift if d.severity == "error"]

    @property
    def warnings(self) -> list[Drift]:
        return [d for d in self.drift if d.severity == "warning"]

    @property
    def problems(self) -> list[str]:
        """Why the back office is not ready on this database: drift errors, pending migrations.

        A database ahead of this checkout is not a problem: the gateway shipped first.
        """
        problems = [str(d) for d in self.errors]
        if self.migrations.pending:
            tags = ", ".join(m.tag for m in self.migrations.pending)
            problems.append(f"{len(self.migrations.pending)} Drizzle migration(s) pending: {tags}")
        return problems


def contract_models() -> list[type[models.Model]]:
    """Every unmanaged model: the ones that sit on the Drizzle contract."""
    return [m for m in apps.get_models() if not m._meta.managed and not m._meta.proxy]


def contract_index_names() -> set[str]:
    return _contract_files(_folder()).index_names


def contract_function_names() -> set[str]:
    return _contract_files(_folder()).function_names


def contract_report(using: str = "default", folder: Path | None = None) -> ContractReport:
    """Everything about the contract in this database, from one read of the catalog."""
    files = _contract_files(folder or _folder())
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(COLUMNS_SQL)
        rows = cursor.fetchall()
        cursor.execute(INDEXES_SQL)
        indexes = {r[0] for r in cursor.fetchall()}
        cursor.execute(FUNCTIONS_SQL)
        functions = {r[0] for r in cursor.fetchall()}
    migrations = _migration_status(files.migrations, using)

    relations: dict[str, dict[str, tuple[str, bool, bool]]] = {}
    relkinds: dict[str, str] = {}
    for relname, relkind, column, type_name, not_null, has_default in rows:
        relations.setdefault(relname, {})[column] = (type_name, not_null, has_default)
        relkinds[relname] = relkind

    if not relations:
        not_applied = Drift(
            "error",
            "public",
            "the Drizzle contract is not applied to this database "
            "(run `manage.py drizzle_migrate` first on dev, demo and test databases)",
        )
        return ContractReport([not_applied], [], migrations)
    drift: list[Drift] = []
    for model in contract_models():
        drift.extend(_model_drift(model, relations, relkinds, connection))
    for name in sorted(files.index_names - indexes):
        drift.append(Drift("error", name, "contract index is missing"))
    for name in sorted(files.function_names - functions):
        drift.append(Drift("error", f"{name}()", "contract function is missing"))
    return ContractReport(drift, list(_unmapped(relations, relkinds)), migrations)


def find_drift(using: str = "default") -> list[Drift]:
    """The report's drift alone (errors and warnings)."""
    return contract_report(using).drift


def contract_is_ready(using: str = "default") -> tuple[bool, list[str]]:
    """For ``/readyz``: ready when nothing is missing or pending; the reasons when not.

    The reasons name tables, columns and migrations only: nothing from the connection settings.
    """
    try:
        report = contract_report(using)
    except DatabaseError:
        return False, ["the database could not be read"]
    problems = report.problems
    return not problems, problems


@dataclass(frozen=True)
class _ContractFiles:
    migrations: list[Migration]
    index_names: set[str]
    function_names: set[str]


def _folder() -> Path:
    return Path(settings.DRIZZLE_MIGRATIONS_DIR)


def _contract_files(folder: Path) -> _ContractFiles:
    # Read once per version of the folder: /readyz asks every second, the files rarely change.
    stamp = tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted([*folder.glob("*.sql"), folder / "meta" / "_journal.json"])
    )
    return _read_contract_files(folder, stamp)


@functools.lru_cache(maxsize=8)
def _read_contract_files(folder: Path, stamp: tuple[tuple[str, int, int], ...]) -> _ContractFiles:
    migrations = read_migrations(folder)
    return _ContractFiles(
        migrations,
        {n for m in migrations for n in CREATE_INDEX_RE.findall(m.sql)},
        {n for m in migrations for n in CREATE_FUNCTION_RE.findall(m.sql)},
    )


def _migration_status(files: list[Migration], using: str) -> MigrationStatus:
    recorded = recorded_migrations(files, using)
    if recorded is None:
        return MigrationStatus(files, None, list(files), [], [])
    pending = newer_than_recorded(files, [(r.hash, r.created_at) for r in recorded])
    newest_file = max((m.when for m in files), default=0)
    strangers = [r for r in recorded if r.tag is None]
    ahead = [r for r in strangers if (r.created_at or 0) > newest_file]
    unknown = [r for r in strangers if (r.created_at or 0) <= newest_file]
    return MigrationStatus(files, recorded, pending, ahead, unknown)


def _model_drift(
    model: type[models.Model],
    relations: dict[str, dict[str, tuple[str, bool, bool]]],
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
        actual_type, not_null, _ = columns[field.column]
        expected_type = field.db_type(connection)  # type: ignore[arg-type]
        if expected_type != actual_type:
            severity = "warning" if (expected_type, actual_type) in TOLERATED else "error"
            yield Drift(severity, name, f"type is {actual_type}, model expects {expected_type}")
        if not is_view and field.null == not_null:
            expected = "nullable" if field.null else "NOT NULL"
            actual = "NOT NULL" if not_null else "nullable"
            yield Drift("error", name, f"column is {actual}, model expects {expected}")


def _unmapped(
    relations: dict[str, dict[str, tuple[str, bool, bool]]], relkinds: dict[str, str]
) -> Iterable[Drift]:
    """Tables, views and columns in ``public`` that no model maps: the gateway added them."""
    mapped: dict[str, set[str]] = {}
    for model in contract_models():
        mapped.setdefault(model._meta.db_table, set()).update(
            f.column for f in model._meta.concrete_fields
        )
    for relname, columns in sorted(relations.items()):
        kind = RELKINDS.get(relkinds[relname], "relation")
        if relname not in mapped:
            yield Drift(
                "information", relname, f"{kind} that no model maps ({len(columns)} columns)"
            )
            continue
        for column, (type_name, not_null, has_default) in columns.items():
            if column in mapped[relname]:
                continue
            message = f"column that no model maps ({type_name})"
            if not_null and not has_default and kind == "table":
                message += (
                    ", NOT NULL without a default: the back office cannot insert rows into "
                    f"{relname} until its model maps it"
                )
            yield Drift("information", f"{relname}.{column}", message)
