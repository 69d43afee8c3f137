"""Each four-eyes operation, confirmed on its page, records a request and changes nothing else."""

from __future__ import annotations

import pytest

from approvals.models import ApprovalRequest, ApprovalStatus
from registry.factories import McpServerFactory
from registry.models import McpServer
from security.factories import (
    GatewaySessionFactory,
    GatewayUserFactory,
    ImpersonationSessionFactory,
)
from security.models import GatewaySession, ImpersonationRecord
from security.moderation import impersonation_capture
from tests.approvals.conftest import fresh, rows, the_request
from tests.pages import assert_page_says, messages_on

pytestmark = pytest.mark.django_db

USERS = "/admin/security/gatewayuser/"


def _sent(response, approval: ApprovalRequest) -> None:
    assert response.redirect_chain[-1][0] == f"/approvals/{approval.pk}/"
    assert any(f"Sent for approval as request #{approval.pk}" in m for m in messages_on(response))
    assert approval.status == ApprovalStatus.PENDING
    [row] = rows("approval.request")
    assert row.resource_id == str(approval.pk) and row.outcome == "success"


def test_banning_an_admin_asks_first_and_records_a_request(admin, other_admin):
    client = admin.client()
    page = client.get(f"/security/users/{other_admin.pk}/ban/")
    assert_page_says(page, 200, "It touches an admin account", "Ban (send for approval)")

    response = client.post(
        f"/security/users/{other_admin.pk}/ban/",
        {"reason": "Compromised", "length": "permanent"},
        follow=True,
    )
    approval = the_request()
    _sent(response, approval)
    assert approval.operation == "user.ban" and approval.target_ids == [other_admin.pk]
    assert approval.params == {
        "user_ids": [other_admin.pk],
        "reason": "Compromised",
        "expires_at": None,
    }
    assert approval.requested_by_id == admin.gateway_user.pk
    assert approval.title == "Ban ada@example.com" and approval.preview
    assert not fresh(other_admin).banned and rows("user.ban") == []


@pytest.mark.parametrize(
    ("path", "operation"),
    [("unban", "user.unban"), ("sessions/revoke", "session.revoke_all")],
)
def test_unbanning_or_signing_out_an_admin_records_a_request(admin, path, operation):
    target = GatewayUserFactory.create(admin=True, banned_permanent=True)
    GatewaySessionFactory.create(user=target)
    response = admin.client().post(f"/security/users/{target.pk}/{path}/", follow=True)
    _sent(response, the_request())
    assert the_request().operation == operation
    assert fresh(target).banned and GatewaySession.unscoped.filter(user_id=target.pk).count() == 1


def test_revoking_one_session_of_an_admin_records_a_request(admin, other_admin):
    session = GatewaySessionFactory.create(user=other_admin)
    response = admin.client().post(
        f"/security/users/{other_admin.pk}/sessions/{session.pk}/revoke/", follow=True
    )
    _sent(response, the_request())
    assert the_request().params == {"session_id": session.pk, "user_id": other_admin.pk}
    assert GatewaySession.unscoped.filter(pk=session.pk).exists()


def test_granting_a_platform_role_records_a_request(admin, member):
    client = admin.client()
    page = client.get(f"/security/users/{member.pk}/roles/")
    assert_page_says(page, 200, "needs a second admin&#x27;s approval")

    response = client.post(
        f"/security/users/{member.pk}/roles/", {"roles": ["user", "auditor"]}, follow=True
    )
    approval = the_request()
    _sent(response, approval)
    assert "Granting the auditor role is platform-wide" in approval.why
    assert approval.params == {"user_id": member.pk, "roles": ["auditor", "user"]}
    assert fresh(member).role == "user" and rows("user.role_change") == []


def test_a_role_change_within_the_tenant_roles_is_carried_out_directly(admin, member):
    admin.client().post(f"/security/users/{member.pk}/roles/", {"roles": ["tenant_admin"]})
    assert fresh(member).role == "tenant_admin"
    assert ApprovalRequest.objects.count() == 0


def test_ending_an_admins_impersonation_records_a_request(admin, second_admin, member):
    ImpersonationSessionFactory.create(user=member, impersonated_by=admin.gateway_user.id)
    impersonation_capture.capture_impersonations()
    record = ImpersonationRecord.unscoped.get()
    response = second_admin.client().post(f"/security/impersonations/{record.pk}/end/", follow=True)
    _sent(response, the_request())
    assert the_request().params == {"record_id": record.pk}
    assert GatewaySession.unscoped.filter(impersonated_by=admin.gateway_user.id).exists()


@pytest.mark.parametrize(
    ("action", "operation"),
    [
        ("ban_selected", "user.ban"),
        ("unban_selected", "user.unban"),
        ("revoke_sessions_selected", "session.revoke_all"),
    ],
)
def test_a_bulk_action_over_25_users_records_a_request(support, tenant_a, action, operation):
    users = GatewayUserFactory.create_batch(26, tenant=tenant_a, banned_permanent=True)
    selection = {"action": action, "_selected_action": [u.pk for u in users]}
    client = support.client()
    page = client.post(USERS, selection)
    assert_page_says(page, 200, "more than 25 at once")

    data = {**selection, "post": "yes", "reason": "Spam wave", "length": "permanent"}
    response = client.post(USERS, data, follow=True)
    approval = the_request()
    _sent(response, approval)
    assert approval.operation == operation
    assert sorted(approval.target_ids) == sorted(u.pk for u in users)
    assert approval.tenant_id == tenant_a.pk
    assert rows(operation) == []


def test_25_users_are_still_acted_on_directly(support, tenant_a):
    users = GatewayUserFactory.create_batch(25, tenant=tenant_a, banned_permanent=True)
    selection = {"action": "unban_selected", "_selected_action": [u.pk for u in users]}
    support.client().post(USERS, {**selection, "post": "yes"})
    assert len(rows("user.unban")) == 25 and ApprovalRequest.objects.count() == 0


def test_the_threshold_is_a_setting(support, tenant_a, settings):
    settings.FOUR_EYES_BULK_THRESHOLD = 2
    users = GatewayUserFactory.create_batch(3, tenant=tenant_a, banned_permanent=True)
    selection = {"action": "unban_selected", "_selected_action": [u.pk for u in users]}
    support.client().post(USERS, {**selection, "post": "yes"})
    assert the_request().operation == "user.unban" and rows("user.unban") == []


def test_deactivating_a_server_records_a_request(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    response = admin.client().post(
        f"/registry/servers/{server.pk}/deactivate/", {"reason": "Leaks data"}, follow=True
    )
    _sent(response, the_request())
    assert McpServer.unscoped.get(pk=server.pk).is_active


def test_someone_who_may_not_do_it_cannot_ask_for_it_either(support, member):
    # Support may not grant auditor: refused as the role change itself is, and no request.
    response = support.client().post(
        f"/security/users/{member.pk}/roles/", {"roles": ["auditor", "user"]}
    )
    assert_page_says(response, 403, "Only an admin may grant the auditor role.")
    assert ApprovalRequest.objects.count() == 0
    [denied] = rows("user.role_change")
    assert denied.outcome == "denied" and denied.resource_id == member.pk
