"""The staff audit trail: no audit row, no change; never a secret in a row."""

import pytest
from django.db import transaction

from audit.models import AuditLog
from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor, Role
from backoffice.staff_audit import AuditTrailError, record_denied, record_staff_action
from tenants.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)

ACTOR = Actor(
    "sam@example.com",
    frozenset({Role.SUPPORT}),
    gateway_user_id="u-sam",
    ip_address="10.0.0.7",
    user_agent="Firefox",
)


def test_refuses_to_record_outside_a_transaction():
    with pytest.raises(AuditTrailError):
        record_staff_action(
            actor=ACTOR, action=AuditAction.USER_BAN, resource_type="user", resource_id="u1"
        )
    assert AuditLog.unscoped.count() == 0


def test_row_holds_who_what_where_and_before_after():
    with transaction.atomic():
        row = record_staff_action(
            actor=ACTOR,
            action=AuditAction.USER_BAN,
            resource_type="user",
            resource_id="u1",
            before={"banned": False},
            after={"banned": True, "password": "s3cret", "nested": {"token": "t"}},
        )
    row = AuditLog.unscoped.get(pk=row.pk)
    assert (row.actor_type, row.actor_id, row.action) == ("staff", "u-sam", "user.ban")
    assert (row.resource_type, row.resource_id, row.outcome) == ("user", "u1", "success")
    assert (row.ip_address, row.user_agent) == ("10.0.0.7", "Firefox")
    assert row.request_id == ACTOR.request_id
    assert row.details["before"] == {"banned": False}
    assert row.details["after"] == {"banned": True, "nested": {}}  # secrets stripped


def test_a_failed_change_leaves_no_audit_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        Tenant.unscoped.create(name="T", slug="t")
        record_staff_action(
            actor=ACTOR, action=AuditAction.USER_BAN, resource_type="user", resource_id="u1"
        )
        raise RuntimeError("the change failed after its audit row was written")
    assert AuditLog.unscoped.count() == 0
    assert Tenant.unscoped.count() == 0


def test_denied_attempts_are_recorded_on_their_own():
    record_denied(actor=ACTOR, action=AuditAction.STAFF_ACCESS, resource_type="api_key")
    row = AuditLog.unscoped.get()
    assert (row.outcome, row.action, row.actor_id) == ("denied", "staff.access", "u-sam")


def test_action_codes_are_dotted_and_unique():
    codes = [a.value for a in AuditAction]
    assert len(codes) == len(set(codes))
    assert all(code.count(".") == 1 and code == code.lower() for code in codes)


def test_a_nul_in_a_path_or_header_does_not_lose_the_row():
    hostile = Actor(
        "sam@example.com",
        frozenset({Role.SUPPORT}),
        gateway_user_id="u-sam",
        user_agent="evil\x00agent",
    )
    record_denied(
        actor=hostile,
        action=AuditAction.STAFF_ACCESS,
        resource_type="page",
        resource_id="x\x00y",
        details={"path": "/admin/x\x00/", "a\x00b": ["c\x00"], "pass\x00word": "hunter2"},
    )
    row = AuditLog.unscoped.get()
    assert row.user_agent == "evilagent" and row.resource_id == "xy"
    assert row.details["path"] == "/admin/x/" and row.details["ab"] == ["c"]
    # A NUL cannot smuggle a secret's key past the filter.
    assert "password" not in row.details and "hunter2" not in str(row.details)
