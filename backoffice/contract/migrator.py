"""Apply the contract's Drizzle migrations (``drizzle/``) the way drizzle-kit's migrator does.

For dev, demo and test databases only: production databases are migrated by the gateway's own
drizzle-kit. The bookkeeping is drizzle-kit's, so either tool can take over from the other:
``drizzle.__drizzle_migrations`` records each applied file's SHA-256 and its journal ``when``; a
migration newer than the last recorded one is applied, each file in its own transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction

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
RECORDED_SQL = 'SELECT hash, created_at FROM "drizzle"."__drizzle_migrations" ORDER BY created_at'
RECORD_SQL = 'INSERT INTO "drizzle"."__drizzle_migrations" (hash, created_at) VALUES (%s, %s)'


class JournalMismatch(Exception):
    """The database records a migration that no file in the journal has."""


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


def pending_migrations(using: str = "default", folder: Path | None = None) -> list[Migration]:
    """What ``apply_migrations`` would run now; raises ``JournalMismatch`` like it does."""
    migrations = read_migrations(folder)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return migrations
        cursor.execute(RECORDED_SQL)
        recorded = cursor.fetchall()
    _check_journal(migrations, recorded)
    last_when = max((created_at or 0 for _, created_at in recorded), default=None)
    return [m for m in migrations if last_when is None or m.when > last_when]


def apply_migrations(using: str = "default", folder: Path | None = None) -> list[Migration]:
    """Apply what is pending, each file in one transaction; return what was applied."""
    migrations = read_migrations(folder)
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(ADVISORY_LOCK_SQL)
        cursor.execute(CREATE_JOURNAL_SQL)
    applied = []
    for migration in migrations:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(ADVISORY_LOCK_SQL)
            cursor.execute(RECORDED_SQL)
            recorded = cursor.fetchall()
            _check_journal(migrations, recorded)
            last_when = max((created_at or 0 for _, created_at in recorded), default=None)
            if last_when is not None and migration.when <= last_when:
                continue
            # drizzle-kit runs with the default search_path; ours puts Django's schema first,
            # which would send unqualified CREATE TABLEs there.
            cursor.execute("SET LOCAL search_path TO public")
            for statement in migration.statements:
                cursor.execute(statement)
            cursor.execute(RECORD_SQL, [migration.hash, migration.when])
        applied.append(migration)
    return applied


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
