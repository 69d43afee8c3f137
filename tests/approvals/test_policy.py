"""Which operations need a second person: every (operation, target role) and every role granted."""

from __future__ import annotations

import pytest

from approvals.policy import why_four_eyes
from backoffice.audit_actions import AuditAction
from backoffice.roles import PLATFORM_ROLES, Role

ON_ACCOUNTS = [
    AuditAction.USER_BAN,
    AuditAction.USER_UNBAN,
    AuditAction.SESSION_REVOKE_ALL,
    AuditAction.SESSION_REVOKE,
    AuditAction.USER_ROLE_CHANGE,
    AuditAction.IMPERSONATION_END,
]


@pytest.mark.parametrize("operation", ON_ACCOUNTS)
@pytest.mark.parametrize("target", list(Role))
def test_anything_done_to_an_admin_needs_a_second_person(operation, target):
    why = why_four_eyes(operation, target_roles=[frozenset({target})])
    assert (why is not None) == (target == Role.ADMIN), why


@pytest.mark.parametrize("granted", list(Role))
def test_granting_a_platform_role_needs_a_second_person(granted):
    why = why_four_eyes(
        AuditAction.USER_ROLE_CHANGE,
        target_roles=[frozenset({Role.USER})],
        roles_after=frozenset({Role.USER, granted}),
    )
    assert (why is not None) == (granted in PLATFORM_ROLES), why


def test_taking_a_platform_role_away_from_a_non_admin_does_not():
    assert (
        why_four_eyes(
            AuditAction.USER_ROLE_CHANGE,
            target_roles=[frozenset({Role.SUPPORT})],
            roles_after=frozenset({Role.USER}),
        )
        is None
    )


@pytest.mark.parametrize(("count", "needed"), [(1, False), (25, False), (26, True)])
def test_bulk_actions_over_the_threshold_need_a_second_person(count, needed):
    users = [frozenset({Role.USER})] * count
    for operation in (AuditAction.USER_BAN, AuditAction.USER_UNBAN, AuditAction.SESSION_REVOKE_ALL):
        assert (why_four_eyes(operation, target_roles=users) is not None) == needed


def test_deactivating_a_server_always_needs_a_second_admin_and_reactivating_never():
    assert why_four_eyes(AuditAction.SERVER_DEACTIVATE) is not None
    assert why_four_eyes(AuditAction.SERVER_REACTIVATE) is None
