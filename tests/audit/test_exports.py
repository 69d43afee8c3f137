"""Exports: exactly the filtered rows as CSV and JSON Lines, streamed, audited with the filter."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.http import StreamingHttpResponse

from audit.factories import AuditLogFactory, RequestLogFactory
from audit.models import AuditLog
from backoffice.audit_actions import AuditAction
from registry.factories import McpServerFactory
from tests.audit.conftest import bulk_audit_logs
from tests.pages import assert_refused


def body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()  # type: ignore[arg-type]


def export_rows(auditor) -> list[AuditLog]:
    return list(
        AuditLog.unscoped.filter(actor_id=auditor.gateway_user.id, action__endswith=".export")
    )


@pytest.mark.django_db
def test_csv_holds_exactly_the_filtered_rows(auditor, tenant_a, tenant_b, now):
    bans = [
        AuditLogFactory.create(
            tenant_id=tenant_a.id, action="user.ban", created_at=now - dt.timedelta(days=d)
        )
        for d in (3, 2, 1)
    ]
    AuditLogFactory.create(
        tenant_id=tenant_a.id, action="user.ban", created_at=now - dt.timedelta(days=9)
    )
    AuditLogFactory.create(tenant_id=tenant_b.id, action="user.ban")
    AuditLogFactory.create(tenant_id=tenant_a.id, action="user.unban")
    query = {"tenant": str(tenant_a.id), "action": "user.ban", "period": "7d"}
    response = auditor.client().get("/audit/logs/export.csv", query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [int(row["id"]) for row in rows] == [entry.id for entry in reversed(bans)]
    assert {row["tenant_id"] for row in rows} == {str(tenant_a.id)}
    assert json.loads(rows[0]["details"]) == {"reason": "Spam"}
    assert "user_agent" not in rows[0] and "session_id" not in rows[0]


@pytest.mark.django_db
def test_each_export_is_audited_with_its_filter(auditor, tenant_a):
    AuditLogFactory.create(tenant_id=tenant_a.id)
    body(auditor.client().get("/audit/logs/export.jsonl", {"tenant": str(tenant_a.id)}))
    (record,) = export_rows(auditor)
    assert record.action == AuditAction.AUDIT_LOG_EXPORT
    assert record.details["filter"] == {"tenant": str(tenant_a.id), "tz": "UTC"}
    assert record.details["format"] == "jsonl"
    body(auditor.client().get("/audit/requests/export.csv", {"status": "5xx"}))
    assert {r.action for r in export_rows(auditor)} == {
        AuditAction.AUDIT_LOG_EXPORT,
        AuditAction.REQUEST_LOG_EXPORT,
    }


@pytest.mark.django_db
def test_json_lines_are_one_exact_json_object_per_row(auditor):
    tricky = {
        "quote": 'say "hi"',
        "backslash": "C:\\temp",
        "newline": "a\nb",
        "tab": "\t",
        "é": "ü",
    }
    entry = AuditLogFactory.create(action="user.ban", details=tricky)
    lines = body(
        auditor.client().get("/audit/logs/export.jsonl", {"action": "user.ban"})
    ).splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert row["id"] == entry.id
    assert row["details"] == tricky
    assert row["action"] == "user.ban"
    assert set(row) >= {"created_at", "tenant_id", "actor_id", "outcome", "ip_address"}
    assert "user_agent" not in row


@pytest.mark.django_db
def test_csv_cells_cannot_run_as_spreadsheet_formulas(auditor):
    entry = AuditLogFactory.create(
        action='=HYPERLINK("http://evil")', resource_id="+1-555", actor_id="@cmd"
    )
    response = auditor.client().get("/audit/logs/export.csv")
    rows = [r for r in csv.DictReader(io.StringIO(body(response))) if r["id"] == str(entry.id)]
    assert rows[0]["action"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["resource_id"] == "'+1-555"
    assert rows[0]["actor_id"] == "'@cmd"


@pytest.mark.django_db
def test_request_log_export_filters_by_server_and_status(auditor, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    failed = RequestLogFactory.create(server=server, server_error=True)
    RequestLogFactory.create(server=server)
    RequestLogFactory.create(server_error=True)
    response = auditor.client().get(
        "/audit/requests/export.csv", {"server": str(server.id), "status": "5xx"}
    )
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [int(row["id"]) for row in rows] == [failed.id]
    assert rows[0]["error_message"] == "Upstream MCP server unreachable"


@pytest.mark.django_db
def test_an_export_streams_many_rows_in_chunks(auditor):
    bulk_audit_logs(5000)
    response = auditor.client().get("/audit/logs/export.csv")
    chunks = list(response.streaming_content)
    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) < 200 * 1024
    # The header, every row, and the export's own audit row (committed before the file).
    assert b"".join(chunks).count(b"\n") == 1 + 5000 + 1


@pytest.mark.django_db
def test_an_export_ignores_paging_and_covers_the_whole_filter(auditor):
    AuditLogFactory.create()
    response = auditor.client().get("/audit/logs/export.csv", {"cursor": "5.5", "page": "2"})
    assert response.status_code == 302
    assert response["Location"] == "/audit/logs/export.csv?"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["support", "tenant_admin_a"])
@pytest.mark.parametrize("url", ["/audit/logs/export.csv", "/audit/requests/export.jsonl"])
def test_other_roles_cannot_export_and_nothing_is_exported(persona, url, request):
    person = request.getfixturevalue(persona)
    AuditLogFactory.create()
    response = person.client().get(url)
    assert_refused(response)
    assert not AuditLog.unscoped.filter(action__endswith=".export").exists()


SECRET_DETAILS = {
    "reason": "rotated",
    "token": "tok-1",
    "before": {"key_hash": "h-1", "name": "ci", "password": "pw-1"},
    "calls": [{"access_token": "at-1", "tool": "search"}, "plain", [{"refresh_token": "rt-1"}]],
}
WITHOUT_SECRETS = {
    "reason": "rotated",
    "before": {"name": "ci"},
    "calls": [{"tool": "search"}, "plain", [{}]],
}


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_exports_strip_secret_keys_from_details_at_any_depth(auditor, file_format):
    secret = AuditLogFactory.create(action="api_key.rotate", details=SECRET_DETAILS)
    plain = AuditLogFactory.create(action="api_key.rotate", details={"reason": "token expiry"})
    response = auditor.client().get(
        f"/audit/logs/export.{file_format}", {"action": "api_key.rotate"}
    )
    text = body(response)
    if file_format == "csv":
        rows = {int(r["id"]): json.loads(r["details"]) for r in csv.DictReader(io.StringIO(text))}
    else:
        rows = {r["id"]: r["details"] for r in map(json.loads, text.splitlines())}
    assert rows == {secret.id: WITHOUT_SECRETS, plain.id: {"reason": "token expiry"}}
    for value in ("tok-1", "h-1", "pw-1", "at-1", "rt-1"):
        assert value not in text


@pytest.mark.django_db
def test_an_export_holds_a_row_written_long_after_its_time(auditor, now):
    """Pages bound a time range by ids (ids grow with time); an export must not rely on that."""
    bulk_audit_logs(200, newest=now)  # one a second, up to now
    since, until = now - dt.timedelta(hours=30), now - dt.timedelta(hours=20)
    # Written last (the highest id) but stamped inside the range, hours ago.
    late = AuditLogFactory.create(created_at=now - dt.timedelta(hours=24))
    query = {
        "since": f"{since:%Y-%m-%dT%H:%M}",
        "until": f"{until:%Y-%m-%dT%H:%M}",
        "tz": "UTC",
    }
    response = auditor.client().get("/audit/logs/export.csv", query)
    assert response.status_code == 200
    ids = [int(row["id"]) for row in csv.DictReader(io.StringIO(body(response)))]
    assert ids == [late.id]
