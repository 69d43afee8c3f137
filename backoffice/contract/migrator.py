"""Apply the contract's Drizzle migrations (``drizzle/``) the way drizzle-orm's migrator does.

For dev, demo and test databases only: production databases are migrated by the gateway's own
drizzle-kit. The bookkeeping is drizzle-kit's, so either tool can take over from the other:
``drizzle.__drizzle_migrations`` records each applied file's SHA-256 and its journal ``when``; a
migration newer than the last recorded one is pending. Like drizzle-orm's PostgreSQL migrator, the
journal table is created first, then the whole pending batch (every file's statements and its
journal row) runs in ONE transaction: a failing statement in the fourth file leaves nothing of the
first three either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections, transaction

STATEMENT_BREAKPOINT = "--> statement-breakpoint"

CREATE_JOURNAL_SQL = """
CREATE SCHEMA IF NOT EXISTS "drizzle";
CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (
    id SERIAL PRIMARY KEY,
    hash text NOT NULL,
    created_at bigint
)
"""
# Serialises concurrent runs (two dev servers starting at once); the number is arbitrary.
ADVISORY_LOCK_SQL = "SELECT pg_advisory_xact_lock(7263541)"
JOURNAL_EXISTS_SQL = "SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL"
RECORDED_SQL = 'SELECT hash, created_at FROM "drizzle"."__drizzle_migrations" ORDER BY created_at'
RECORDED_ROWS_SQL = (
    'SELECT id, hash, created_at FROM "drizzle"."__drizzle_migrations" ORDER BY created_at, id'
)
RECORD_SQL = 'INSERT INTO "drizzle"."__drizzle_migrations" (hash, created_at) VALUES (%s, %s)'


class JournalMismatch(Exception):
    """The database records a migration that no file in the journal has."""


class MigrationFailed(Exception):
    """A statement of the pending batch failed; the whole batch was rolled back."""

    def __init__(self, *, file: str, statement: str, error: DatabaseError, batch: int) -> None:
        self.file = file
        self.first_line = next(
            (line.strip() for line in statement.splitlines() if line.strip()), ""
        )
        self.postgres_message = _postgres_message(error)
        super().__init__(
            f"{file} failed at the statement starting `{self.first_line[:200]}`: "
            f"{self.postgres_message}. Nothing was applied: the batch of {batch} pending "
            "migration(s) was rolled back, as drizzle-kit does."
        )


@dataclass(frozen=True)
class Migration:
    tag: str
    when: int
    sql: str

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def statements(self) -> list[str]:
        return [s.strip() for s in self.sql.split(STATEMENT_BREAKPOINT) if s.strip()]


@dataclass(frozen=True)
class RecordedMigration:
    """A row of ``drizzle.__drizzle_migrations``; ``tag`` is None when no file has its hash."""

    id: int
    hash: str
    created_at: int | None
    tag: str | None


def read_migrations(folder: Path | None = None) -> list[Migration]:
    """The journal's migrations, in order, with the SQL of their files."""
    folder = folder or Path(settings.DRIZZLE_MIGRATIONS_DIR)
    journal = json.loads((folder / "meta" / "_journal.json").read_text())
    return [
        # Bytes decoded as they are: drizzle-kit hashes the file's exact text, line endings too.
        Migration(
            tag=e["tag"],
            when=int(e["when"]),
            sql=(folder / f"{e['tag']}.sql").read_bytes().decode(),
        )
        for e in journal["entries"]
    ]


def recorded_migrations(
    migrations: list[Migration], using: str = "default"
) -> list[RecordedMigration] | None:
    """What the database's journal records, oldest first; None when it has no journal table."""
    tags = {m.hash: m.tag for m in migrations}
    with connections[using].cursor() as cursor:
        cursor.execute(JOURNAL_EXISTS_SQL)
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(RECORDED_ROWS_SQL)
        rows = cursor.fetchall()
    return [RecordedMigration(id_, h, created_at, tags.get(h)) for id_, h, created_at in rows]


def newer_than_recorded(
    migrations: list[Migration], recorded: list[tuple[str, int | None]]
) -> list[Migration]:
    """drizzle-orm's rule: a migration whose ``when`` is newer than the last recorded one."""
    last_when = max((created_at or 0 for _, created_at in recorded), default=None)
    return [m for m in migrations if last_when is None or m.when > last_when]


def pending_migrations(using: str = "default", folder: Path | None = None) -> list[Migration]:
    """What ``apply_migrations`` would run now; raises ``JournalMismatch`` like it does."""
    migrations = read_migrations(folder)
    with connections[using].cursor() as cursor:
        cursor.execute(JOURNAL_EXISTS_SQL)
        if not cursor.fetchone()[0]:
            return migrations
        cursor.execute(RECORDED_SQL)
        recorded = cursor.fetchall()
    _check_journal(migrations, recorded)
    return newer_than_recorded(migrations, recorded)


def apply_migrations(using: str = "default", folder: Path | None = None) -> list[Migration]:
    """Apply the pending batch in one transaction; return what was applied.

    Raises ``MigrationFailed`` (nothing applied) when a statement fails, ``JournalMismatch``
    (nothing applied) when the database records a migration no file has.
    """
    folder = folder or Path(settings.DRIZZLE_MIGRATIONS_DIR)
    migrations = read_migrations(folder)
    connection = connections[using]
    # drizzle-orm creates its journal before, and outside, the batch's transaction: a failed
    # batch leaves the schema and an empty journal table behind, and so does this.
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(ADVISORY_LOCK_SQL)
        cursor.execute(CREATE_JOURNAL_SQL)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(ADVISORY_LOCK_SQL)
        cursor.execute(RECORDED_SQL)
        recorded = cursor.fetchall()
        _check_journal(migrations, recorded)
        pending = newer_than_recorded(migrations, recorded)
        # drizzle-kit runs with the default search_path; ours puts Django's schema first,
        # which would send unqualified CREATE TABLEs there.
        cursor.execute("SET LOCAL search_path TO public")
        for migration in pending:
            for statement in migration.statements:
                try:
                    cursor.execute(statement)
                except DatabaseError as exc:
                    # Leaving the atomic block with this exception rolls the whole batch back.
                    raise MigrationFailed(
                        file=f"{folder.name}/{migration.tag}.sql",
                        statement=statement,
                        error=exc,
                        batch=len(pending),
                    ) from exc
            cursor.execute(RECORD_SQL, [migration.hash, migration.when])
    return pending


def _postgres_message(error: DatabaseError) -> str:
    """PostgreSQL's own words (primary message and SQLSTATE), not the driver's wrapping."""
    diag = getattr(error.__cause__, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary:
        return str(error).strip().splitlines()[0]
    sqlstate = getattr(diag, "sqlstate", None)
    return f"{primary} (SQLSTATE {sqlstate})" if sqlstate else primary


def _check_journal(migrations: list[Migration], recorded: list[tuple[str, int | None]]) -> None:
    known = {m.hash for m in migrations}
    unknown = [h for h, _ in recorded if h not in known]
    if unknown:
        raise JournalMismatch(
            f"the database records {len(unknown)} migration(s) that no file in "
            f"{settings.DRIZZLE_MIGRATIONS_DIR} has (hash {unknown[0][:12]}...): the journal "
            "and the database disagree. Was a migration file edited after it was applied, or "
            "is this database ahead of this checkout? Nothing was applied."
        )
