"""The red-team findings of issue 12, one test each: who may act on whom, decided once.

1. support lifted an admin's ban and revoked an admin's sessions;
2. support granted themselves ``auditor`` and made a tenant user ``support``;
3. a role change dropped gateway roles the back office does not know;
5. support ticking "admin" got a bare 403 page with only a Back button.
(4, the admin's built-in refusals, is in tests/backoffice/test_admin_refusals.py.)
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from backoffice.operations import Refused
from security.factories import (
    GatewaySessionFactory,
    GatewayUserFactory,
    ImpersonationSessionFactory,
)
from security.models import GatewaySession, GatewayUser, ImpersonationRecord
from security.moderation import impersonation_capture, services
from tests.security.moderation.conftest import audit_rows

pytestmark = pytest.mark.django_db


def reload(user: GatewayUser) -> GatewayUser:
    return GatewayUser.unscoped.get(pk=user.pk)


@pytest.fixture
def banned_admin() -> GatewayUser:
    return GatewayUserFactory.create(admin=True, banned_permanent=True, email="boss@example.com")


def test_support_cannot_lift_an_admins_ban_from_the_page(support, banned_admin):
    url = reverse("security:user_unban", args=[banned_admin.pk])
    client = support.client()
    assert "Only an admin may" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 403
    assert reload(banned_admin).banned
    (row,) = audit_rows("user.unban")
    assert row.outcome == "denied" and row.resource_id == banned_admin.pk


def test_support_cannot_lift_an_admins_ban_in_bulk_nor_by_command(support, banned_admin):
    with pytest.raises(Refused):
        services.unban_users(actor=support.actor, user_ids=[banned_admin.pk])
    assert reload(banned_admin).banned
    assert [row.outcome for row in audit_rows("user.unban")] == ["denied"]


def test_support_cannot_sign_an_admin_out(support, admin):
    GatewaySessionFactory.create_batch(2, user=admin.gateway_user)
    url = reverse("security:user_revoke_sessions", args=[admin.gateway_user.pk])
    response = support.client().post(url)
    assert response.status_code == 403
    assert GatewaySession.unscoped.filter(user_id=admin.gateway_user.pk).count() == 2
    (row,) = audit_rows("session.revoke_all")
    assert row.outcome == "denied" and row.resource_id == admin.gateway_user.pk


def test_support_cannot_revoke_one_session_of_an_admin(support, admin):
    session = GatewaySessionFactory.create(user=admin.gateway_user)
    with pytest.raises(Refused):
        services.revoke_session(actor=support.actor, session_id=session.pk)
    assert GatewaySession.unscoped.filter(pk=session.pk).exists()
    assert [row.outcome for row in audit_rows("session.revoke")] == ["denied"]


def test_support_cannot_grant_themselves_auditor(support):
    with pytest.raises(Refused):
        services.change_roles(
            actor=support.actor, user_id=support.gateway_user.pk, roles=["support", "auditor"]
        )
    assert reload(support.gateway_user).role == "support"
    assert [row.outcome for row in audit_rows("user.role_change")] == ["denied"]


def test_support_cannot_make_a_tenant_user_support(support, member):
    with pytest.raises(Refused, match="support"):
        services.change_roles(actor=support.actor, user_id=member.pk, roles=["support"])
    assert reload(member).role == "user"
    assert [row.outcome for row in audit_rows("user.role_change")] == ["denied"]


def test_a_role_change_keeps_roles_the_back_office_does_not_know(admin, tenant_a):
    billing = GatewayUserFactory.create(tenant=tenant_a, role="user,billing_manager")
    services.change_roles(actor=admin.actor, user_id=billing.pk, roles=["user", "auditor"])
    stored = reload(billing).role or ""
    assert set(stored.split(",")) == {"user", "auditor", "billing_manager"}
    (row,) = audit_rows("user.role_change")
    assert row.details["before"] == {"role": "user,billing_manager"}


def test_the_roles_page_shows_unknown_roles_as_kept(admin, tenant_a):
    billing = GatewayUserFactory.create(tenant=tenant_a, role="user,billing_manager")
    url = reverse("security:user_roles", args=[billing.pk])
    client = admin.client()
    page = client.get(url).content.decode()
    assert "billing_manager" in page and "not known to the back office" in page
    client.post(url, {"roles": ["user", "tenant_admin"]})
    assert set((reload(billing).role or "").split(",")) == {
        "user",
        "tenant_admin",
        "billing_manager",
    }


def test_support_is_offered_only_the_roles_support_may_grant(support, member):
    page = support.client().get(reverse("security:user_roles", args=[member.pk])).content.decode()
    for offered in ("user", "tenant_admin"):
        assert f'type="checkbox" name="roles" value="{offered}"' in page
    for withheld in ("admin", "support", "auditor"):
        assert f'type="checkbox" name="roles" value="{withheld}"' not in page


def test_support_posting_admin_gets_the_form_again_with_a_message_not_a_dead_end(support, member):
    url = reverse("security:user_roles", args=[member.pk])
    response = support.client().post(url, {"roles": ["admin"]})
    page = response.content.decode()
    assert response.status_code == 403
    assert "Only an admin may grant the admin role." in page
    # The form is still there to correct the choice: a submit button, not only "Back".
    assert '<input type="submit" class="default" value="Save roles">' in page
    assert 'value="tenant_admin"' in page
    assert reload(member).role == "user"
    assert [row.outcome for row in audit_rows("user.role_change")] == ["denied"]


def test_support_cannot_end_an_impersonation_an_admin_started(support, admin, member):
    session = ImpersonationSessionFactory.create(user=member, impersonated_by=admin.gateway_user.id)
    impersonation_capture.capture_impersonations()
    record = ImpersonationRecord.unscoped.get()
    url = reverse("security:impersonation_end", args=[record.pk])
    client = support.client()
    assert "Only an admin may end an impersonation by" in client.get(url).content.decode()
    assert client.post(url).status_code == 403
    assert GatewaySession.unscoped.filter(pk=session.pk).exists()
    assert [row.outcome for row in audit_rows("impersonation.end")] == ["denied"]


def test_the_user_list_and_page_show_unknown_roles_as_such(admin, tenant_a):
    billing = GatewayUserFactory.create(tenant=tenant_a, role="user,billing_manager")
    client = admin.client()
    for url in (
        "/admin/security/gatewayuser/",
        f"/admin/security/gatewayuser/{billing.pk}/change/",
    ):
        page = client.get(url).content.decode()
        assert "billing_manager (unknown)</span>" in page
