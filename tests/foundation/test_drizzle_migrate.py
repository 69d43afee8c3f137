"""drizzle_migrate applies the contract as drizzle-kit does, once, and refuses a mismatch."""

import hashlib
import json

from django.conf import settings

from backoffice.contract.migrator import STATEMENT_BREAKPOINT, read_migrations


def test_journal_lists_three_migration_files_with_breakpoints():
    folder = settings.DRIZZLE_MIGRATIONS_DIR
    journal = json.loads((folder / "meta" / "_journal.json").read_text())
    entries = journal["entries"]
    assert [e["idx"] for e in entries] == [0, 1, 2]
    assert [e["when"] for e in entries] == sorted(e["when"] for e in entries)
    for entry in entries:
        assert set(entry) == {"idx", "version", "when", "tag", "breakpoints"}
        assert STATEMENT_BREAKPOINT in (folder / f"{entry['tag']}.sql").read_text()


def test_applies_each_file_once_recording_its_sha256(scratch_db):
    first = scratch_db.manage("drizzle_migrate")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("applied ") == 3

    recorded = scratch_db.sql(
        "SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id"
    )
    # Computed from the files' bytes here, as drizzle-kit does, not through the code under test.
    folder = settings.DRIZZLE_MIGRATIONS_DIR
    journal = json.loads((folder / "meta" / "_journal.json").read_text())["entries"]
    expected = [
        (hashlib.sha256((folder / f"{e['tag']}.sql").read_bytes()).hexdigest(), e["when"])
        for e in journal
    ]
    assert recorded == expected

    second = scratch_db.manage("drizzle_migrate")
    assert second.returncode == 0
    assert "nothing to apply" in second.stdout
    assert scratch_db.sql("SELECT count(*) FROM drizzle.__drizzle_migrations") == [(3,)]


def test_check_lists_pending_migrations(scratch_db):
    result = scratch_db.manage("drizzle_migrate", "--check")
    assert result.returncode == 1
    assert "pending: 0000_gateway_schema" in result.stdout


def test_refuses_when_database_records_a_migration_no_file_has(contract_db):
    contract_db.sql(
        "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) "
        "VALUES ('deadbeef' || repeat('0', 56), 1)"
    )
    result = contract_db.manage("drizzle_migrate")
    assert result.returncode == 1
    assert "Refusing to migrate" in result.stderr
    assert "journal and the database disagree" in result.stderr


def test_only_newer_migrations_are_applied(scratch_db):
    # A database migrated by drizzle-kit up to 0001 gets only 0002.
    migrations = read_migrations()
    for migration in migrations[:2]:
        for statement in migration.statements:
            scratch_db.sql(statement)
    scratch_db.sql(
        "CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations "
        "(id serial primary key, hash text not null, created_at bigint)"
    )
    for migration in migrations[:2]:
        scratch_db.sql(
            f"INSERT INTO drizzle.__drizzle_migrations (hash, created_at) "
            f"VALUES ('{migration.hash}', {migration.when})"
        )
    result = scratch_db.manage("drizzle_migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("applied ") == 1
    assert "0002_monitoring_views" in result.stdout


def test_a_file_is_hashed_byte_for_byte_line_endings_included(tmp_path):
    (tmp_path / "meta").mkdir()
    entry = {"idx": 0, "version": "7", "when": 1, "tag": "0000_x", "breakpoints": True}
    (tmp_path / "meta" / "_journal.json").write_text(json.dumps({"entries": [entry]}))
    raw = b"CREATE TABLE a (id int);\r\n--> statement-breakpoint\r\nSELECT 1;\r\n"
    (tmp_path / "0000_x.sql").write_bytes(raw)
    (migration,) = read_migrations(tmp_path)
    assert migration.hash == hashlib.sha256(raw).hexdigest()
