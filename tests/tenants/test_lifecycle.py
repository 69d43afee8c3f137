"""Suspending, reactivating and archiving a tenant: previewed in numbers, audited, admin only."""

from __future__ import annotations

import re
from html import unescape

import pytest

from audit.models import AuditLog
from backoffice.operations import Invalid, NotFound, Refused
from registry.factories import McpServerFactory
from security.factories import ApiKeyFactory, GatewayUserFactory
from security.models import ApiKey, GatewayUser
from tenants.factories import TenantFactory
from tenants.models import Tenant
from tenants.services import archive_tenant, reactivate_tenant, suspend_tenant
from tests.concurrency import at_once
from tests.pages import assert_not_found, assert_page_says, assert_refused, messages_on

pytestmark = pytest.mark.django_db


def _status(tenant: Tenant) -> str:
    return Tenant.unscoped.get(pk=tenant.pk).status


def _rows(action: str) -> list[AuditLog]:
    return list(AuditLog.unscoped.filter(action=action).order_by("id"))


# --- the services --------------------------------------------------------------------------


def test_suspending_writes_before_and_after_and_keeps_the_reason(admin, tenant_a):
    suspend_tenant(actor=admin.actor, tenant_id=tenant_a.pk, reason="Unpaid invoices")
    tenant = Tenant.unscoped.get(pk=tenant_a.pk)
    assert tenant.status == "suspended"
    assert tenant.settings["suspension_reason"] == "Unpaid invoices"
    (row,) = _rows("tenant.suspend")
    assert row.outcome == "success" and row.actor_id == admin.gateway_user.id
    assert row.resource_type == "tenant" and row.resource_id == str(tenant_a.pk)
    assert row.tenant_id == tenant_a.pk
    assert row.details["before"] == {"status": "active"}
    assert row.details["after"] == {"status": "suspended"}
    assert row.details["reason"] == "Unpaid invoices"


def test_reactivating_removes_the_suspension_reason(admin):
    tenant = TenantFactory.create(suspended=True)
    reactivate_tenant(actor=admin.actor, tenant_id=tenant.pk)
    tenant.refresh_from_db()
    assert tenant.status == "active" and "suspension_reason" not in tenant.settings
    (row,) = _rows("tenant.reactivate")
    assert row.details["before"] == {"status": "suspended"}


def test_archiving_leaves_keys_users_and_servers_as_they_are(admin, tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a)
    server = McpServerFactory.create(tenant=tenant_a)
    user = GatewayUserFactory.create(tenant=tenant_a)
    archive_tenant(actor=admin.actor, tenant_id=tenant_a.pk, reason="Contract ended")
    assert _status(tenant_a) == "archived"
    key.refresh_from_db()
    server.refresh_from_db()
    user.refresh_from_db()
    assert key.is_active and key.revoked_at is None
    assert server.is_active and not user.banned


@pytest.mark.parametrize(
    ("status", "operation", "message"),
    [
        ("suspended", suspend_tenant, "already suspended"),
        ("active", reactivate_tenant, "already active"),
        ("archived", archive_tenant, "already archived"),
        ("archived", suspend_tenant, "only a tenant that is active or trial"),
    ],
)
def test_a_change_that_is_none_or_not_allowed_is_invalid(admin, status, operation, message):
    tenant = TenantFactory.create(status=status)
    with pytest.raises(Invalid, match=message):
        operation(actor=admin.actor, tenant_id=tenant.pk, reason="Because")
    assert _status(tenant) == status
    assert AuditLog.unscoped.filter(action__startswith="tenant.").count() == 0


@pytest.mark.parametrize("reason", ["", "   ", "a\x00b", "x" * 501])
def test_a_suspension_needs_a_clean_reason(admin, tenant_a, reason):
    with pytest.raises(Invalid):
        suspend_tenant(actor=admin.actor, tenant_id=tenant_a.pk, reason=reason)
    assert _status(tenant_a) == "active"


@pytest.mark.parametrize("persona", ["support", "tenant_admin_a", "auditor"])
def test_only_admins_change_a_tenants_status(request, persona, tenant_a):
    with pytest.raises(Refused):
        suspend_tenant(
            actor=request.getfixturevalue(persona).actor, tenant_id=tenant_a.pk, reason="No"
        )
    assert _status(tenant_a) == "active"
    assert [row.outcome for row in _rows("tenant.suspend")] == ["denied"]


def test_an_unknown_tenant_is_not_found(admin):
    with pytest.raises(NotFound):
        suspend_tenant(actor=admin.actor, tenant_id="not-a-uuid", reason="x")
    with pytest.raises(NotFound):
        suspend_tenant(
            actor=admin.actor, tenant_id="00000000-0000-0000-0000-000000000000", reason="x"
        )


@pytest.mark.django_db(transaction=True)
def test_simultaneous_suspensions_write_one_row(tenant_a):
    from tests.conftest import make_persona

    admin = make_persona("admin")
    results, refused = at_once(
        lambda n: suspend_tenant(actor=admin.actor, tenant_id=tenant_a.pk, reason=f"r{n}"),
        5,
        refusals=(Invalid,),
    )
    assert len(results) == 1 and len(refused) == 4
    assert len(_rows("tenant.suspend")) == 1


# --- the pages -----------------------------------------------------------------------------


def test_the_preview_counts_what_the_suspension_touches(admin, tenant_a):
    creator = GatewayUserFactory.create(tenant=tenant_a)
    GatewayUserFactory.create_batch(2, tenant=tenant_a)
    ApiKeyFactory.create_batch(2, tenant=tenant_a, created_by=creator)
    ApiKeyFactory.create(tenant=tenant_a, revoked=True, created_by=creator)
    McpServerFactory.create(tenant=tenant_a, created_by=creator)
    assert GatewayUser.unscoped.filter(tenant=tenant_a).count() == 3
    response = admin.client().get(f"/tenants/{tenant_a.pk}/suspend/")
    html = assert_page_says(
        response,
        200,
        f"Suspend {tenant_a.name}?",
        '<td class="num" data-count="users">3</td>',
        '<td class="num" data-count="keys">3</td>',
        "2 usable",
        '<td class="num" data-count="servers">1</td>',
        "are not revoked",
        "The contract does not say whether the gateway refuses a key",
    )
    assert 'id="confirm-suspend"' in html
    assert _status(tenant_a) == "active"  # a GET changes nothing


def test_suspending_from_the_page(admin, tenant_a):
    client = admin.client()
    response = client.post(f"/tenants/{tenant_a.pk}/suspend/", {"reason": "Abuse report 12"})
    assert response.status_code == 302
    assert _status(tenant_a) == "suspended"
    page = client.get(response["Location"])
    assert f"{tenant_a.name} was suspended." in messages_on(page)
    assert_page_says(
        page, 200, "This tenant is suspended: Abuse report 12", 'id="tenant-reactivate"'
    )


def test_a_blank_reason_is_a_form_error_and_changes_nothing(admin, tenant_a):
    response = admin.client().post(f"/tenants/{tenant_a.pk}/suspend/", {"reason": " "})
    assert_page_says(response, 400, "This field is required.")
    assert _status(tenant_a) == "active"


def test_an_archived_tenant_is_not_offered_an_archive(admin):
    tenant = TenantFactory.create(archived=True)
    response = admin.client().get(f"/tenants/{tenant.pk}/archive/")
    html = assert_page_says(response, 200, "is already archived: there is nothing to change.")
    assert 'id="confirm-archive"' not in html


@pytest.mark.parametrize("persona", ["support", "auditor", "tenant_admin_a"])
def test_other_roles_are_refused_and_the_refusal_is_recorded(request, persona, tenant_a):
    client = request.getfixturevalue(persona).client()
    assert_refused(client.post(f"/tenants/{tenant_a.pk}/suspend/", {"reason": "x"}))
    assert_refused(client.get(f"/tenants/{tenant_a.pk}/archive/"))
    assert _status(tenant_a) == "active"
    assert AuditLog.unscoped.filter(action="staff.access", outcome="denied").count() == 2


def test_a_missing_tenant_is_a_404(admin):
    assert_not_found(admin.client().get("/tenants/00000000-0000-0000-0000-000000000000/suspend/"))


def test_the_tenant_page_offers_the_lifecycle_to_admins_only(admin, support, tenant_a):
    url = f"/admin/tenants/tenant/{tenant_a.pk}/change/"
    html = assert_page_says(admin.client().get(url), 200, 'id="tenant-suspend"')
    assert 'id="tenant-archive"' in html and 'id="tenant-edit"' in html
    html = assert_page_says(support.client().get(url), 200)
    assert 'id="tenant-suspend"' not in html and 'id="tenant-edit"' not in html


def test_the_tenant_page_links_to_what_it_owns(admin, tenant_a):
    ApiKeyFactory.create(tenant=tenant_a)
    html = assert_page_says(admin.client().get(f"/admin/tenants/tenant/{tenant_a.pk}/change/"), 200)
    for name, href in [
        ("users", f"/admin/security/gatewayuser/?tenant={tenant_a.pk}"),
        ("keys", f"/admin/security/apikey/?tenant={tenant_a.pk}"),
        ("servers", f"/admin/registry/mcpserver/?tenant={tenant_a.pk}"),
        ("usage", f"/analytics/usage/{tenant_a.pk}/"),
        ("audit", f"/audit/logs/?tenant={tenant_a.pk}"),
        ("history", f"/admin/tenants/tenant/{tenant_a.pk}/history/"),
    ]:
        assert f'<a href="{href}" data-link="{name}">' in html, name
    assert ApiKey.unscoped.filter(tenant=tenant_a).count() == 1


def test_a_tenant_admin_sees_links_to_their_own_tenants_pages_only(tenant_admin_a, tenant_a):
    html = assert_page_says(
        tenant_admin_a.client().get(f"/admin/tenants/tenant/{tenant_a.pk}/change/"), 200
    )
    assert 'data-link="keys"' in html and 'href="/admin/security/apikey/"' in html
    assert 'data-link="users"' not in html and 'data-link="audit"' not in html
    assert 'id="tenant-suspend"' not in html
    client = tenant_admin_a.client()
    for href in re.findall(r'<a href="([^"]+)" data-link="', html):
        assert client.get(unescape(href)).status_code == 200, href


def test_every_link_on_the_tenant_page_opens(admin, tenant_a):
    client = admin.client()
    html = client.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/").content.decode()
    hrefs = re.findall(r'<a href="([^"]+)" data-link="', html)
    assert len(hrefs) == 6
    for href in hrefs:
        assert client.get(unescape(href)).status_code == 200, href
