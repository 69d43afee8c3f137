"""Approving, refusing, withdrawing and expiring four-eyes requests, through the page and the
service: who may, what changes, what is audited."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from django.core.management import call_command

from approvals import services
from approvals.kinds import KINDS
from approvals.models import ApprovalRequest, ApprovalStatus
from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, Refused
from security.factories import GatewayUserFactory
from security.models import GatewayUser
from tests.approvals.conftest import decide, fresh, rows, the_request
from tests.concurrency import at_once
from tests.conftest import make_persona
from tests.pages import assert_not_found, assert_page_says, assert_refused, messages_on

pytestmark = pytest.mark.django_db


def _ask_auditor_for(admin, member) -> ApprovalRequest:
    admin.client().post(f"/security/users/{member.pk}/roles/", {"roles": ["auditor", "user"]})
    return the_request()


def _ask_ban_of(admin, target) -> ApprovalRequest:
    admin.client().post(
        f"/security/users/{target.pk}/ban/", {"reason": "Compromised", "length": "7d"}
    )
    return the_request()


def test_a_second_admin_carries_it_out(admin, second_admin, member):
    approval = _ask_auditor_for(admin, member)
    page = second_admin.client().get(f"/approvals/{approval.pk}/")
    assert_page_says(page, 200, "Granting the auditor role", "The roles become: auditor, user.")
    assert 'id="approve"' in page.content.decode()

    response = decide(second_admin, approval, "approve")
    assert messages_on(response) == [
        "Approved and carried out: Changed the roles of mia@example.com."
    ]
    assert fresh(member).role == "auditor,user"
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.CARRIED_OUT
    assert approval.decided_by_id == second_admin.gateway_user.pk and approval.decided_at
    [change] = rows("user.role_change")
    assert change.actor_id == second_admin.gateway_user.pk
    assert change.details["after"] == {"role": "auditor,user"}
    [approved] = rows("approval.approve")
    assert approved.resource_id == str(approval.pk)
    assert approved.details["requested_by"] == admin.gateway_user.pk


def test_an_approved_ban_of_an_admin_bans_them(admin, second_admin, other_admin):
    approval = _ask_ban_of(admin, other_admin)
    decide(second_admin, approval, "approve")
    banned = fresh(other_admin)
    assert banned.banned and banned.ban_reason == "Compromised" and banned.ban_expires
    assert [row.actor_id for row in rows("user.ban")] == [second_admin.gateway_user.pk]


def test_the_requester_cannot_approve_their_own_request(admin, member):
    approval = _ask_auditor_for(admin, member)
    page = admin.client().get(f"/approvals/{approval.pk}/")
    assert 'id="approve"' not in page.content.decode() and 'id="withdraw"' in page.content.decode()

    response = admin.client().post(f"/approvals/{approval.pk}/", {"decision": "approve"})
    assert_page_says(response, 403, services.OWN_REQUEST)
    assert fresh(member).role == "user"
    assert the_request().status == ApprovalStatus.PENDING
    [denied] = rows("approval.approve")
    assert denied.outcome == "denied" and denied.actor_id == admin.gateway_user.pk


def test_support_cannot_see_nor_approve_a_request_about_an_admin(admin, support, other_admin):
    approval = _ask_ban_of(admin, other_admin)
    assert_not_found(support.client().get(f"/approvals/{approval.pk}/"))
    assert_not_found(support.client().post(f"/approvals/{approval.pk}/", {"decision": "approve"}))
    assert not fresh(other_admin).banned and the_request().status == ApprovalStatus.PENDING
    denied = rows("staff.access")
    assert [row.resource_id for row in denied] == [str(approval.pk)] * 2
    assert {row.outcome for row in denied} == {"denied"}


def test_roles_without_the_page_are_refused(admin, auditor, member):
    approval = _ask_auditor_for(admin, member)
    assert_refused(auditor.client().post(f"/approvals/{approval.pk}/", {"decision": "approve"}))
    assert fresh(member).role == "user"


def test_the_service_refuses_an_approver_without_the_power(admin, support, other_admin):
    approval = _ask_ban_of(admin, other_admin)
    with pytest.raises(Refused, match=re.escape("Only an admin may ban ada@example.com")):
        services.approve(actor=support.actor, approval_id=approval.pk)
    assert the_request().status == ApprovalStatus.PENDING and not fresh(other_admin).banned
    [denied] = rows("approval.approve")
    assert denied.outcome == "denied" and denied.actor_id == support.gateway_user.pk


def test_an_approver_demoted_meanwhile_can_no_longer_approve(admin, second_admin, other_admin):
    approval = _ask_ban_of(admin, other_admin)
    GatewayUser.unscoped.filter(pk=second_admin.gateway_user.pk).update(role="support")
    assert_not_found(decide(second_admin, approval, "approve"))
    assert not fresh(other_admin).banned and the_request().status == ApprovalStatus.PENDING


def test_a_request_whose_requester_lost_the_power_is_refused(admin, second_admin, member):
    approval = _ask_auditor_for(admin, member)
    GatewayUser.unscoped.filter(pk=admin.gateway_user.pk).update(role="support")
    response = decide(second_admin, approval, "approve")
    assert messages_on(response) == [
        "Nothing changed: the request was refused. The requester may no longer do this: "
        "Only an admin may grant the auditor role."
    ]
    assert fresh(member).role == "user"
    assert the_request().status == ApprovalStatus.REFUSED
    assert [row.outcome for row in rows("approval.refuse")] == ["success"]


def test_a_target_that_changed_is_rechecked_at_approval(support, admin, tenant_a):
    # Support asks to sign out 26 users; one of them becomes an admin before the approval.
    users = GatewayUserFactory.create_batch(26, tenant=tenant_a)
    support.client().post(
        "/admin/security/gatewayuser/",
        {
            "action": "revoke_sessions_selected",
            "_selected_action": [u.pk for u in users],
            "post": "yes",
        },
    )
    approval = the_request()
    GatewayUser.unscoped.filter(pk=users[0].pk).update(role="admin")
    response = decide(admin, approval, "approve")
    assert "Only an admin may sign out" in messages_on(response)[0]
    assert the_request().status == ApprovalStatus.REFUSED
    assert rows("session.revoke_all") == []


def test_an_operation_no_longer_valid_at_approval_refuses_the_request(
    admin, second_admin, other_admin
):
    approval = _ask_ban_of(admin, other_admin)
    approval.params = {**approval.params, "expires_at": "2000-01-01T00:00:00+00:00"}
    approval.save()
    response = decide(second_admin, approval, "approve")
    assert messages_on(response) == [
        "Nothing changed: the request was refused. The end of a ban must be in the future."
    ]
    assert not fresh(other_admin).banned
    assert the_request().status == ApprovalStatus.REFUSED


def test_refusing_changes_nothing_and_is_audited(admin, second_admin, member):
    approval = _ask_auditor_for(admin, member)
    response = decide(second_admin, approval, "refuse", note="Not needed")
    assert messages_on(response) == [
        f"Nothing changed: the request was refused. Refused by {second_admin.gateway_user.email}: "
        "Not needed"
    ]
    assert fresh(member).role == "user"
    assert the_request().status == ApprovalStatus.REFUSED
    assert rows("approval.refuse")[0].details["reason"].endswith("Not needed")


def test_a_withdrawn_request_cannot_be_approved(admin, second_admin, member):
    approval = _ask_auditor_for(admin, member)
    not_theirs = decide(second_admin, approval, "withdraw")
    assert_page_says(not_theirs, 403, "Only the staff member who asked for it may withdraw")
    response = decide(admin, approval, "withdraw")
    assert messages_on(response) == [f"Withdrew request #{approval.pk}."]
    assert the_request().status == ApprovalStatus.WITHDRAWN

    late = second_admin.client().post(f"/approvals/{approval.pk}/", {"decision": "approve"})
    assert_page_says(late, 400, "This request is no longer waiting: it was withdrawn.")
    assert fresh(member).role == "user"
    assert [row.outcome for row in rows("approval.withdraw")] == ["denied", "success"]
    assert rows("approval.approve") == []


def test_an_expired_request_cannot_be_approved(admin, second_admin, member):
    approval = _ask_auditor_for(admin, member)
    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    )
    response = decide(second_admin, approval, "approve")
    assert messages_on(response)[0].startswith("Nothing changed: Expired at")
    assert fresh(member).role == "user"
    assert the_request().status == ApprovalStatus.EXPIRED
    [expired] = rows("approval.expire")
    assert expired.actor_id == second_admin.gateway_user.pk


def test_requests_expire_after_the_setting(admin, member, settings):
    settings.FOUR_EYES_REQUEST_HOURS = 2
    approval = _ask_auditor_for(admin, member)
    assert approval.expires_at - approval.requested_at == dt.timedelta(hours=2)


def test_the_command_expires_overdue_requests_only(admin, member, other_admin, capsys):
    overdue = _ask_auditor_for(admin, member)
    ApprovalRequest.objects.filter(pk=overdue.pk).update(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    admin.client().post(f"/security/users/{other_admin.pk}/unban/")
    call_command("expire_approval_requests")
    assert "Expired 1 approval request(s)." in capsys.readouterr().out
    statuses = dict(ApprovalRequest.objects.values_list("operation", "status"))
    assert statuses == {"user.role_change": "expired", "user.unban": "pending"}
    [row] = rows("approval.expire")
    assert row.resource_id == str(overdue.pk) and row.actor_id == "local:expire_approval_requests"


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_carry_it_out_once(tenant_a):
    requester, first, second = (make_persona("admin") for _ in range(3))
    member = GatewayUserFactory.create(tenant=tenant_a)
    approval = _ask_auditor_for(requester, member)
    approvers = [first.actor, second.actor]

    results, refused = at_once(
        lambda n: services.approve(actor=approvers[n], approval_id=approval.pk),
        2,
        refusals=(Invalid,),
    )
    assert [decision.done for decision in results] == [True]
    assert [str(problem) for problem in refused] == [
        "This request is no longer waiting: it was approved and carried out."
    ]
    assert fresh(member).role == "auditor,user"
    assert len(rows(AuditAction.USER_ROLE_CHANGE)) == 1
    assert len(rows(AuditAction.APPROVAL_APPROVE)) == 1


def test_the_service_rechecks_under_its_lock_and_its_denied_row_stays(
    admin, support, other_admin, monkeypatch
):
    # Stand in for a change between the page's check and the service's lock: the approval's
    # pre-check lets support through, the ban service itself refuses under its row lock.
    approval = _ask_ban_of(admin, other_admin)
    kind = KINDS["user.ban"]
    monkeypatch.setitem(KINDS, "user.ban", dataclasses.replace(kind, refusal=lambda a, p: None))
    decision = services.approve(actor=support.actor, approval_id=approval.pk)
    assert not decision.done
    assert "Only an admin may ban ada@example.com" in decision.message
    assert not fresh(other_admin).banned
    assert the_request().status == ApprovalStatus.REFUSED
    [denied] = rows("user.ban")
    assert denied.outcome == "denied" and denied.actor_id == support.gateway_user.pk
    assert [row.outcome for row in rows("approval.refuse")] == ["success"]
