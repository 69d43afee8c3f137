"""Names, not ids: the explorers, the detail pages and the exports name people by email, keys by
name and prefix, servers with their tenant."""

from __future__ import annotations

import csv
import io
import json

import pytest

from audit.factories import AuditLogFactory, RequestLogFactory
from registry.factories import McpServerFactory
from security.factories import ApiKeyFactory, GatewayUserFactory
from tenants.factories import TenantFactory
from tests.audit.test_exports import body
from tests.pages import assert_page_says

pytestmark = pytest.mark.django_db


def test_request_logs_name_the_api_key_by_name_and_prefix(auditor, tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a, name="Nightly sync")
    RequestLogFactory.create(tenant_id=tenant_a.id, api_key_id=key.id)
    html = assert_page_says(auditor.client().get("/audit/requests/"), 200)
    assert f"key Nightly sync ({key.key_prefix})" in html


def test_the_server_filter_says_whose_server_each_is(auditor, tenant_a, tenant_b):
    McpServerFactory.create(tenant=tenant_a, name="filesystem")
    McpServerFactory.create(tenant=tenant_b, name="filesystem")
    html = assert_page_says(auditor.client().get("/audit/requests/"), 200)
    assert f"filesystem ({tenant_a.name})" in html
    assert f"filesystem ({tenant_b.name})" in html


def test_the_audit_detail_names_actor_and_resource_by_email(admin, support, tenant_a):
    target = GatewayUserFactory.create(tenant=tenant_a, email="target@acme.example")
    entry = AuditLogFactory.create(
        actor_type="staff",
        actor_id=support.gateway_user.id,
        action="user.ban",
        resource_type="user",
        resource_id=target.id,
    )
    html = assert_page_says(admin.client().get(f"/audit/logs/{entry.id}/"), 200)
    assert f"staff {support.gateway_user.email} ({support.gateway_user.id})" in html
    assert f"user target@acme.example ({target.id})" in html
    assert f"/admin/security/gatewayuser/{target.id}/change/" in html


def test_the_request_detail_names_user_and_key(auditor, tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a, name="Sync")
    user = GatewayUserFactory.create(tenant=tenant_a, email="caller@acme.example")
    entry = RequestLogFactory.create(tenant_id=tenant_a.id, api_key_id=key.id, user_id=user.id)
    html = assert_page_says(auditor.client().get(f"/audit/requests/{entry.id}/"), 200)
    assert f"caller@acme.example ({user.id})" in html
    assert f"Sync ({key.key_prefix}) ({key.id})" in html


def test_the_audit_export_carries_names_beside_ids(auditor, support, tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a, name="=cmd|' /C calc'!A0")
    by_person = AuditLogFactory.create(
        tenant_id=tenant_a.id, actor_type="staff", actor_id=support.gateway_user.id
    )
    by_key = AuditLogFactory.create(actor_type="api_key", actor_id=str(key.id))
    response = auditor.client().get("/audit/logs/export.csv")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(body(response)))}
    header = next(csv.reader(io.StringIO(body(auditor.client().get("/audit/logs/export.csv")))))
    assert header.index("tenant_name") == header.index("tenant_id") + 1
    assert header.index("actor_name") == header.index("actor_id") + 1
    assert rows[str(by_person.id)]["actor_name"] == support.gateway_user.email
    assert rows[str(by_person.id)]["tenant_name"] == tenant_a.name
    # A key named like a formula is text in the file.
    assert rows[str(by_key.id)]["actor_name"] == f"'=cmd|' /C calc'!A0 ({key.key_prefix})"


def test_the_request_export_carries_names_beside_ids(auditor, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a, name="filesystem")
    key = ApiKeyFactory.create(tenant=tenant_a, name="Nightly")
    user = GatewayUserFactory.create(tenant=tenant_a, email="caller@acme.example")
    entry = RequestLogFactory.create(
        tenant_id=tenant_a.id, server=server, api_key_id=key.id, user_id=user.id
    )
    response = auditor.client().get("/audit/requests/export.jsonl")
    (row,) = [r for r in map(json.loads, body(response).splitlines()) if r["id"] == entry.id]
    assert row["server_name"] == "filesystem"
    assert row["tenant_name"] == tenant_a.name
    assert row["api_key_name"] == "Nightly" and row["api_key_prefix"] == key.key_prefix
    assert row["user_email"] == "caller@acme.example"


def test_a_row_whose_objects_are_gone_exports_empty_names(auditor):
    other = TenantFactory.create()
    entry = RequestLogFactory.create(tenant_id=other.id, server=None)
    response = auditor.client().get("/audit/requests/export.csv")
    rows = [r for r in csv.DictReader(io.StringIO(body(response))) if r["id"] == str(entry.id)]
    assert rows[0]["server_name"] == "" and rows[0]["user_email"] == ""
