"""The Contract page: migrations beside this checkout's files, drift and information, for admins.

The database is changed inside each test's transaction (PostgreSQL's DDL is transactional), and
the page, served in the same connection, shows the change.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from django.conf import settings
from django.db import connection

from audit.models import AuditLog

pytestmark = pytest.mark.django_db

PAGE = "/monitoring/contract/"
FUTURE_WHEN = 4102444800000  # 2100-01-01 00:00:00 UTC: newer than every file of this checkout


def _sql(*statements: str) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _rows(html: str, table_id: str) -> list[str]:
    """The rows of one table, tags stripped, whitespace collapsed."""
    body = html.split(f'id="{table_id}"')[1].split("</table>")[0].split("<tbody>")[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def _journal() -> list[dict]:
    folder = settings.DRIZZLE_MIGRATIONS_DIR
    return json.loads((folder / "meta" / "_journal.json").read_text())["entries"]


def test_admin_sees_each_migration_recorded_beside_its_file(admin):
    html = admin.client().get(PAGE).content.decode()
    rows = _rows(html, "migration-table")
    assert len(rows) == 3
    folder = settings.DRIZZLE_MIGRATIONS_DIR
    for row, entry, record_id in zip(rows, _journal(), (1, 2, 3), strict=True):
        digest = hashlib.sha256((folder / f"{entry['tag']}.sql").read_bytes()).hexdigest()
        assert row.startswith(f"{entry['tag']}.sql")
        assert row.count(digest[:12]) == 2  # the file's hash and the recorded row's
        assert f"row {record_id}:" in row
        assert row.endswith("applied")
    # 0000's journal time, 1761955200000 ms, as a time.
    assert "2025-11-01 00:00:00 UTC" in rows[0]
    assert 'id="no-drift"' in html and 'id="no-information"' in html
    assert 'id="contract-not-ready"' not in html and 'id="contract-ahead"' not in html
    assert '<span class="card-value">0</span><span class="card-label">drift errors' in html


def test_a_gateway_added_table_and_column_are_listed_as_information(admin):
    _sql(
        "CREATE TABLE public.gateway_webhooks (id uuid PRIMARY KEY, url text NOT NULL)",
        "ALTER TABLE tenants ADD COLUMN billing_ref text",
    )
    html = admin.client().get(PAGE).content.decode()
    assert _rows(html, "information-table") == [
        "gateway_webhooks table that no model maps (2 columns)",
        "tenants.billing_ref column that no model maps (text)",
    ]
    assert 'id="no-drift"' in html  # information is not drift
    assert 'id="contract-not-ready"' not in html


def test_a_dropped_index_is_shown_as_an_error(admin):
    _sql("DROP INDEX idx_audit_logs_actor_time")
    html = admin.client().get(PAGE).content.decode()
    assert _rows(html, "drift-table") == [
        "error idx_audit_logs_actor_time contract index is missing"
    ]
    assert 'id="contract-not-ready"' in html
    assert '<span class="card-value">1</span><span class="card-label">drift errors' in html


def test_a_database_ahead_of_this_checkout_gets_a_note_and_every_page_keeps_working(admin):
    _sql(
        "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) "
        f"VALUES (repeat('c', 64), {FUTURE_WHEN})"
    )
    client = admin.client()
    html = client.get(PAGE).content.decode()
    note = html.split('id="contract-ahead">')[1].split("</p>")[0]
    assert "This database is ahead of this checkout." in note
    assert "records 1 migration newer than every file" in note
    rows = _rows(html, "migration-table")
    assert len(rows) == 4
    # The row's id comes from a sequence, which a rolled-back test does not give back.
    assert re.fullmatch(
        r"no file in this checkout 2100-01-01 00:00:00 UTC — "
        r"row \d+: cccccccccccc , when 2100-01-01 00:00:00 UTC ahead",
        rows[3],
    )
    assert 'id="contract-not-ready"' not in html
    for page in ("/", "/monitoring/metrics/", "/audit/logs/", "/admin/"):
        assert client.get(page).status_code == 200, page


def test_a_pending_migration_is_shown_and_the_page_says_not_ready(admin):
    _sql("DELETE FROM drizzle.__drizzle_migrations WHERE created_at = 1762128000000")
    html = admin.client().get(PAGE).content.decode()
    rows = _rows(html, "migration-table")
    assert rows[2].startswith("0002_monitoring_views.sql") and rows[2].endswith("pending")
    assert "manage.py drizzle_migrate" in html.split('id="contract-not-ready"')[1]


def test_admins_find_it_in_the_monitoring_section(admin, support):
    metrics = admin.client().get("/monitoring/metrics/").content.decode()
    assert f'<a href="{PAGE}">Contract</a>' in metrics
    assert PAGE not in support.client().get("/monitoring/metrics/").content.decode()


@pytest.mark.parametrize("role", ["support", "auditor", "tenant_admin_a"])
def test_other_roles_are_refused_and_the_attempt_recorded(role, request):
    persona = request.getfixturevalue(role)
    response = persona.client().get(PAGE)
    assert response.status_code == 403
    assert b"gateway_webhooks" not in response.content and b"drizzle" not in response.content
    denied = AuditLog.unscoped.filter(
        action="staff.access", actor_id=persona.gateway_user.id, outcome="denied"
    )
    assert denied.get().resource_type == "page:monitoring.contract_views.contract"


def test_signed_out_and_gateway_users_are_sent_to_sign_in(client, plain_user):
    for c in (client, plain_user.client()):
        response = c.get(PAGE)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
