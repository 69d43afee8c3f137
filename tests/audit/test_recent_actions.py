"""The admin index's "Recent actions": the signed-in staff member's own audit rows."""

from __future__ import annotations

import re

import pytest

from audit.factories import AuditLogFactory
from registry.factories import McpServerFactory
from security.factories import ApiKeyFactory
from tenants.services import suspend_tenant
from tests.pages import assert_page_says

pytestmark = pytest.mark.django_db


def recent(html: str) -> list[str]:
    box = html.split('id="recent-actions-module"')[1].split("</div>")[0]
    return re.findall(r'<li data-action="([^"]+)">', box)


def test_my_own_rows_newest_first_with_a_link_to_all_of_them(admin, support, tenant_a):
    suspend_tenant(actor=admin.actor, tenant_id=tenant_a.pk, reason="x")
    AuditLogFactory.create(actor_id=admin.gateway_user.id, action="user.unban")
    AuditLogFactory.create(actor_id=support.gateway_user.id, action="user.ban")
    html = assert_page_says(admin.client().get("/admin/"), 200, "My actions (audit log)")
    assert recent(html) == ["user.unban", "tenant.suspend"]
    assert f'href="/audit/logs/?actor={admin.gateway_user.id}"' in html
    assert "None available" not in html


def test_at_most_ten(admin):
    AuditLogFactory.create_batch(12, actor_id=admin.gateway_user.id)
    assert len(recent(admin.client().get("/admin/").content.decode())) == 10


def test_nothing_yet(support):
    html = assert_page_says(support.client().get("/admin/"), 200, "None yet.")
    assert 'id="all-my-actions"' not in html  # support may not open the explorer


def test_a_tenant_admin_does_not_see_their_probe_of_another_tenant(
    tenant_admin_b, tenant_a, tenant_b
):
    client = tenant_admin_b.client()
    server = McpServerFactory.create(tenant=tenant_a)
    client.get(f"/admin/registry/mcpserver/{server.pk}/change/")  # a 404, recorded as denied
    key = ApiKeyFactory.create(tenant=tenant_b)
    AuditLogFactory.create(
        actor_id=tenant_admin_b.gateway_user.id,
        action="api_key.create",
        tenant_id=tenant_b.pk,
        resource_type="api_key",
        resource_id=str(key.pk),
    )
    html = client.get("/admin/").content.decode()
    assert recent(html) == ["api_key.create"]
    assert str(server.pk) not in html
    # Without the explorer, a row links to the object's page.
    assert f"/admin/security/apikey/{key.pk}/change/" in html.split('id="recent-actions-module"')[1]
    assert client.get(f"/admin/security/apikey/{key.pk}/change/").status_code == 200
