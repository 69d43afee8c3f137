"""A failing migration leaves what drizzle-kit leaves: nothing of the pending batch.

drizzle-orm's PostgreSQL migrator creates ``drizzle.__drizzle_migrations`` first, on its own,
then runs every pending migration and its journal row in one transaction. So a broken fourth
file on a fresh database leaves the (empty) journal table and nothing else: 0 migrations, 0
tables; on a database already at the third migration it leaves the three migrations exactly as
they were. The command says which file and statement failed and PostgreSQL's message, without a
traceback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings

BROKEN_SQL = (
    'CREATE TABLE "public"."gateway_webhooks" (\n\t"id" uuid PRIMARY KEY NOT NULL\n);\n'
    "--> statement-breakpoint\n"
    'ALTER TABLE "public"."no_such_table" ADD COLUMN "note" text;\n'
)
# Everything a migration can leave in ``public``: relations, types, functions.
PUBLIC_CATALOG_SQL = """
SELECT 'relation', c.relname, c.relkind::text FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'type', t.typname, t.typtype::text FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'function', p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
ORDER BY 1, 2, 3
"""
TABLES_SQL = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
RECORDED_SQL = "SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id"


@pytest.fixture
def folder_with_a_broken_fourth(tmp_path: Path) -> Path:
    """The three real migrations and a fourth whose second statement fails."""
    folder = tmp_path / "drizzle"
    shutil.copytree(settings.DRIZZLE_MIGRATIONS_DIR, folder)
    journal = json.loads((folder / "meta" / "_journal.json").read_text())
    last = journal["entries"][-1]
    journal["entries"].append(
        {**last, "idx": last["idx"] + 1, "when": last["when"] + 86_400_000, "tag": "0003_broken"}
    )
    (folder / "meta" / "_journal.json").write_text(json.dumps(journal, indent=2))
    (folder / "0003_broken.sql").write_text(BROKEN_SQL)
    return folder


def _assert_clean_error(result, folder: Path) -> None:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "ProgrammingError" not in result.stderr
    assert f"{folder.name}/0003_broken.sql" in result.stderr
    assert 'ALTER TABLE "public"."no_such_table" ADD COLUMN "note" text;' in result.stderr
    assert 'relation "public.no_such_table" does not exist' in result.stderr
    assert "Nothing was applied" in result.stderr


def test_a_failing_fourth_file_on_a_fresh_database_applies_nothing(
    scratch_db, folder_with_a_broken_fourth
):
    result = scratch_db.manage(
        "drizzle_migrate", "--migrations-folder", str(folder_with_a_broken_fourth)
    )
    _assert_clean_error(result, folder_with_a_broken_fourth)
    # What drizzle-kit leaves: its journal table, empty, and nothing of the four files.
    assert scratch_db.sql(RECORDED_SQL) == []
    assert scratch_db.sql(TABLES_SQL) == [(0,)]
    assert scratch_db.sql(PUBLIC_CATALOG_SQL) == []


def test_a_failing_fourth_file_after_three_leaves_the_three_as_they_were(
    contract_db, folder_with_a_broken_fourth
):
    catalog_before = contract_db.sql(PUBLIC_CATALOG_SQL)
    recorded_before = contract_db.sql(RECORDED_SQL)
    assert len(recorded_before) == 3
    result = contract_db.manage(
        "drizzle_migrate", "--migrations-folder", str(folder_with_a_broken_fourth)
    )
    _assert_clean_error(result, folder_with_a_broken_fourth)
    assert contract_db.sql(RECORDED_SQL) == recorded_before
    assert contract_db.sql(PUBLIC_CATALOG_SQL) == catalog_before
    assert "gateway_webhooks" not in {row[1] for row in catalog_before}


def test_once_fixed_the_fourth_file_applies_on_its_own(contract_db, folder_with_a_broken_fourth):
    fixed = BROKEN_SQL.replace('"no_such_table"', '"gateway_webhooks"')
    (folder_with_a_broken_fourth / "0003_broken.sql").write_text(fixed)
    check = contract_db.manage(
        "drizzle_migrate", "--check", "--migrations-folder", str(folder_with_a_broken_fourth)
    )
    assert check.returncode == 1
    assert "pending: 0003_broken" in check.stdout
    result = contract_db.manage(
        "drizzle_migrate", "--migrations-folder", str(folder_with_a_broken_fourth)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("applied ") == 1
    assert contract_db.sql(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'gateway_webhooks' ORDER BY column_name"
    ) == [("id",), ("note",)]
    assert len(contract_db.sql(RECORDED_SQL)) == 4


def test_a_batch_of_three_is_one_transaction_not_three(scratch_db, tmp_path):
    # The third file of a fresh batch fails: the first two, valid on their own, are not kept.
    folder = tmp_path / "drizzle"
    shutil.copytree(settings.DRIZZLE_MIGRATIONS_DIR, folder)
    (folder / "0002_monitoring_views.sql").write_text(BROKEN_SQL)
    result = scratch_db.manage("drizzle_migrate", "--migrations-folder", str(folder))
    assert result.returncode == 1
    assert "drizzle/0002_monitoring_views.sql" in result.stderr
    assert scratch_db.sql(RECORDED_SQL) == []
    assert scratch_db.sql(PUBLIC_CATALOG_SQL) == []
