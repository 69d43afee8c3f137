"""One log row in full: every column, details pretty-printed, links onward; denials."""

from __future__ import annotations

import datetime as dt

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.factories import AuditLogFactory, RequestLogFactory
from registry.factories import McpServerFactory
from security.factories import ApiKeyFactory
from security.second_factor.devices import verified_session_data
from tests.pages import assert_refused


@pytest.mark.django_db
def test_audit_entry_shows_the_whole_row_and_links(auditor, admin, tenant_a, support):
    entry = AuditLogFactory.create(
        tenant_id=tenant_a.id,
        actor_id=support.gateway_user.id,
        action="user.ban",
        resource_type="user",
        resource_id="target-1",
        ip_address="203.0.113.7",
        user_agent="Mozilla/5.0 probe",
        session_id="sess-1",
        details={"reason": "Spam", "before": {"banned": False}},
    )
    page = admin.client().get(f"/audit/logs/{entry.id}/").content.decode()
    for value in ("user.ban", "target-1", "203.0.113.7", "Mozilla/5.0 probe", "sess-1", "Tenant A"):
        assert value in page
    assert "&quot;before&quot;: {\n    &quot;banned&quot;: false\n  }" in page  # indented JSON
    assert "Everything by this actor" in page
    assert f"/audit/logs/?actor={support.gateway_user.id}" in page
    # Links to admin pages appear only where the page exists and the viewer may open it.
    assert f"/admin/tenants/tenant/{tenant_a.id}/change/" in page


@pytest.mark.django_db
def test_request_entry_shows_error_and_server(auditor, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    entry = RequestLogFactory.create(server=server, server_error=True)
    response = auditor.client().get(f"/audit/requests/{entry.id}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Upstream MCP server unreachable" in page
    assert f"<td>{server.name} ({server.id})</td>" in page
    assert f"Server: {server.name} ({server.id})" in page
    assert "502" in page


@pytest.mark.django_db
def test_an_api_key_actor_links_to_its_key(admin, tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a)
    entry = AuditLogFactory.create(actor_type="api_key", actor_id=str(key.id), action="tool.call")
    page = admin.client().get(f"/audit/logs/{entry.id}/").content.decode()
    label = f"api_key {key.name} ({key.key_prefix}) ({key.id})"
    assert f'<a href="/admin/security/apikey/{key.id}/change/">{label}</a>' in page


@pytest.mark.django_db
def test_the_detail_page_hides_secret_keys_in_details(auditor):
    entry = AuditLogFactory.create(
        details={"reason": "rotated", "token": "tok-1", "after": {"key_hash": "h-1", "n": 2}}
    )
    page = auditor.client().get(f"/audit/logs/{entry.id}/").content.decode()
    assert "rotated" in page and "&quot;n&quot;: 2" in page
    assert "tok-1" not in page and "h-1" not in page and "key_hash" not in page


@pytest.mark.django_db
def test_row_links_carry_the_viewers_time_zone_to_the_detail_page(auditor):
    entry = AuditLogFactory.create(created_at=dt.datetime(2025, 1, 15, 8, 30, tzinfo=dt.UTC))
    client = auditor.client()
    listing = client.get("/audit/logs/", {"tz": "Asia/Tokyo"}).content.decode()
    link = f"/audit/logs/{entry.id}/?tz=Asia%2FTokyo"
    assert f'href="{link}"' in listing
    page = client.get(link).content.decode()
    assert "2025-01-15 17:30:00 JST (Asia/Tokyo)" in page
    # No zone, or one that does not exist: the default, never an error.
    assert "2025-01-15 08:30:00 UTC" in client.get(f"/audit/logs/{entry.id}/").content.decode()
    bad = client.get(f"/audit/logs/{entry.id}/", {"tz": "Mars/Base"})
    assert b"2025-01-15 08:30:00 UTC" in bad.content


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["support", "tenant_admin_a"])
def test_other_roles_cannot_open_an_entry(persona, request, tenant_a):
    entry = AuditLogFactory.create(tenant_id=tenant_a.id)
    client = request.getfixturevalue(persona).client()
    assert_refused(client.get(f"/audit/logs/{entry.id}/"))
    assert_refused(client.get(f"/admin/audit/auditlog/{entry.id}/change/"))


@pytest.mark.django_db
def test_the_admin_pages_are_the_explorer(auditor):
    entry = AuditLogFactory.create(action="user.ban")
    client = auditor.client()
    listing = client.get("/admin/audit/auditlog/")
    assert listing.status_code == 200
    assert f'href="/audit/logs/{entry.id}/"'.encode() in listing.content
    detail = client.get(f"/admin/audit/auditlog/{entry.id}/change/")
    assert detail.status_code == 200
    assert b"user.ban" in detail.content


@pytest.mark.django_db
def test_stock_admin_lookups_lead_to_the_explorers_filter(auditor):
    denied = AuditLogFactory.create(denied=True)
    AuditLogFactory.create()
    client = auditor.client()
    response = client.get("/admin/audit/auditlog/", {"outcome__exact": "denied", "period": "24h"})
    assert response.status_code == 302
    assert response["Location"] == "/audit/logs/?period=24h&outcome=denied"
    assert f'href="/audit/logs/{denied.id}/"'.encode() in client.get(response["Location"]).content


@pytest.mark.django_db
def test_nobody_adds_changes_or_deletes_log_rows_not_even_a_superuser(client, django_user_model):
    entry = AuditLogFactory.create()
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pw-x-1!")
    client.force_login(superuser)
    device = TOTPDevice.objects.create(user=superuser, name="Authenticator app", confirmed=True)
    session = client.session
    session.update(verified_session_data(device))
    session.save()
    assert_refused(client.get("/admin/audit/auditlog/add/"))
    assert_refused(client.post(f"/admin/audit/auditlog/{entry.id}/delete/"))
    response = client.post(
        "/admin/audit/auditlog/", {"action": "delete_selected", "_selected_action": [entry.id]}
    )
    # The admin list is the explorer, which offers no actions: an action posted to it is
    # refused like every other refusal.
    assert_refused(response)
    assert type(entry)._default_manager.model.unscoped.filter(pk=entry.pk).exists()
