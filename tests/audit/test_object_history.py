"""The admin's "History" of users, tenants and servers: their audit entries, scoped."""

from __future__ import annotations

import re

import pytest

from audit.factories import AuditLogFactory
from registry.factories import McpServerFactory
from registry.services import deactivate_server
from security.factories import GatewayUserFactory
from tenants.services import suspend_tenant
from tests.pages import assert_not_found, assert_page_says, assert_refused

pytestmark = pytest.mark.django_db


def shown_entries(html: str) -> list[str]:
    return re.findall(r'<tr data-entry="(\d+)"', html)


def test_a_tenants_history_lists_its_changes_and_links_to_the_explorer(admin, tenant_a):
    suspend_tenant(actor=admin.actor, tenant_id=tenant_a.pk, reason="Unpaid")
    AuditLogFactory.create(action="tenant.update", resource_type="tenant", resource_id="other")
    url = f"/admin/tenants/tenant/{tenant_a.pk}/history/"
    html = assert_page_says(
        admin.client().get(url), 200, f"History of {tenant_a.name}", "tenant.suspend", "Unpaid"
    )
    assert "have a change history" not in html
    assert len(shown_entries(html)) == 1
    assert f'href="/audit/logs/?resource_type=tenant&amp;resource_id={tenant_a.pk}"' in html


def test_a_servers_history(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    deactivate_server(actor=admin.actor, server_id=server.pk, reason="Leaking")
    html = assert_page_says(
        admin.client().get(f"/admin/registry/mcpserver/{server.pk}/history/"),
        200,
        "server.deactivate",
        "Leaking",
        admin.gateway_user.email,
    )
    assert len(shown_entries(html)) == 1


def test_a_users_history_is_what_was_done_to_them(support, member_of_a):
    AuditLogFactory.create(action="user.ban", resource_id=member_of_a.pk)
    AuditLogFactory.create(action="tool.call", actor_id=member_of_a.pk, resource_id="x")
    html = assert_page_says(
        support.client().get(f"/admin/security/gatewayuser/{member_of_a.pk}/history/"), 200
    )
    assert len(shown_entries(html)) == 1 and "user.ban" in html
    # Support may not open the explorer: no link to it.
    assert 'id="history-in-explorer"' not in html


def test_a_tenant_admin_sees_their_servers_history_within_their_tenant(tenant_admin_a, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    mine = AuditLogFactory.create(
        action="server.deactivate",
        resource_type="mcp_server",
        resource_id=str(server.pk),
        tenant_id=tenant_a.pk,
    )
    # A platform row about the same server (no tenant) is not the tenant admin's to read.
    AuditLogFactory.create(
        action="server.deactivate", resource_type="mcp_server", resource_id=str(server.pk)
    )
    html = assert_page_says(
        tenant_admin_a.client().get(f"/admin/registry/mcpserver/{server.pk}/history/"), 200
    )
    assert shown_entries(html) == [str(mine.pk)]


def test_another_tenants_object_is_a_404(tenant_admin_b, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    client = tenant_admin_b.client()
    assert_not_found(client.get(f"/admin/registry/mcpserver/{server.pk}/history/"))
    assert_not_found(client.get(f"/admin/tenants/tenant/{tenant_a.pk}/history/"))


def test_wrong_role_is_refused(auditor, tenant_a):
    user = GatewayUserFactory.create(tenant=tenant_a)
    assert_refused(auditor.client().get(f"/admin/security/gatewayuser/{user.pk}/history/"))


@pytest.fixture
def member_of_a(tenant_a):
    return GatewayUserFactory.create(tenant=tenant_a)
