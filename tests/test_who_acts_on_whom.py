"""Who may act on whom: every (actor role, target role, operation), through the services.

The cases are generated from ``Role`` and the operations below; the expected answer comes from
the rules as issue 12 states them, written here apart from ``backoffice.roles``:

- only a role granted the operation's capability acts at all (admin and support);
- nobody bans, unbans, signs out, changes the roles of, or reviews an impersonation by, themselves
  (stopping your own impersonation is allowed);
- support does not act on an admin: no ban, unban, session revoke, role change, nor ending an
  impersonation an admin started (reviewing one is oversight, and allowed);
- support grants only the roles confined to one tenant (tenant_admin, user); admins grant all;
  creating a user grants the roles it is created with;
- the account lifecycle (set a password, mark the email verified, unlink a sign-in method,
  remove) follows the same two rules: never on oneself, support never on an admin.

A refusal changes nothing and writes exactly one ``denied`` row; an allowed call writes none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from audit.models import AuditLog
from backoffice.operations import Refused
from backoffice.roles import Role
from security.factories import (
    AccountFactory,
    GatewaySessionFactory,
    GatewayUserFactory,
    ImpersonationSessionFactory,
)
from security.lifecycle import services as lifecycle
from security.models import GatewayUser, ImpersonationRecord
from security.moderation import impersonation_capture, services
from tenants.models import Tenant
from tests.conftest import Persona, make_persona

pytestmark = pytest.mark.django_db

ACTORS = [role.value for role in Role]
TARGETS = [*(role.value for role in Role), "self"]
MODERATORS = {"admin", "support"}
TENANT_ROLES = {"tenant_admin", "user"}
# (operation, may be done to oneself, may be done by support to an admin)
OPERATIONS = {
    "ban": (False, False),
    "unban": (False, False),
    "revoke_all_sessions": (False, False),
    "revoke_session": (False, False),
    "end_impersonation": (True, False),
    "review_impersonation": (False, True),
    **{f"grant_{role.value}": (False, False) for role in Role},
    "set_password": (False, False),
    "verify_email": (False, False),
    "unlink_sign_in": (False, False),
    "remove_user": (False, False),
}


def expected_allowed(actor: str, target: str, operation: str) -> bool:
    on_oneself, support_on_admin = OPERATIONS[operation]
    if actor not in MODERATORS:
        return False
    if target == "self":
        if not on_oneself:
            return False
        target = actor
    if actor == "support" and target == "admin" and not support_on_admin:
        return False
    granted = operation.removeprefix("grant_") if operation.startswith("grant_") else None
    return not (actor == "support" and granted is not None and granted not in TENANT_ROLES)


@dataclass(frozen=True)
class Case:
    actor: str
    target: str
    operation: str

    @property
    def id(self) -> str:
        return f"{self.actor}-{self.operation}-{self.target}"


CASES = [
    Case(actor, target, operation)
    for actor in ACTORS
    for target in TARGETS
    for operation in OPERATIONS
    # Granting a role the target already holds grants nothing.
    if not (operation == f"grant_{target}" or (target == "self" and operation == f"grant_{actor}"))
]


def _run(case: Case, actor: Persona, target: GatewayUser) -> Callable[[], object]:
    who = actor.actor
    if case.operation.startswith("grant_"):
        roles = [*(target.role or "").split(","), case.operation.removeprefix("grant_")]
        return lambda: services.change_roles(actor=who, user_id=target.pk, roles=roles)
    if case.operation in {"end_impersonation", "review_impersonation"}:
        # The target is the impersonation's author.
        member = GatewayUserFactory.create()
        ImpersonationSessionFactory.create(user=member, impersonated_by=target.pk)
        impersonation_capture.capture_impersonations()
        record = ImpersonationRecord.unscoped.get(impersonator_id=target.pk)
        if case.operation == "end_impersonation":
            return lambda: services.end_impersonation(actor=who, record_id=record.pk)
        return lambda: services.review_impersonation(actor=who, record_id=record.pk, note="ok")
    # Two sign-in methods beside any other, so that unlinking one is never refused as the last.
    linked = AccountFactory.create_batch(2, user=target)[0].pk
    lifecycle_calls: dict[str, Callable[[], object]] = {
        "set_password": lambda: lifecycle.set_user_password(
            actor=who, user_id=target.pk, password="a new password"
        ),
        "verify_email": lambda: lifecycle.mark_email_verified(actor=who, user_id=target.pk),
        "unlink_sign_in": lambda: lifecycle.unlink_sign_in(
            actor=who,
            user_id=target.pk,
            account_id=linked,
        ),
        "remove_user": lambda: lifecycle.remove_user(actor=who, user_id=target.pk),
    }
    if case.operation in lifecycle_calls:
        GatewayUser.unscoped.filter(pk=target.pk).update(email_verified=False)
        return lifecycle_calls[case.operation]
    session = GatewaySessionFactory.create(user=target)
    # Banned already, so that lifting the ban changes something too.
    GatewayUser.unscoped.filter(pk=target.pk).update(banned=True, ban_reason="earlier")
    calls: dict[str, Callable[[], object]] = {
        "ban": lambda: services.ban_user(actor=who, user_id=target.pk, reason="x", expires_at=None),
        "unban": lambda: services.unban_user(actor=who, user_id=target.pk),
        "revoke_all_sessions": lambda: services.revoke_all_sessions(actor=who, user_id=target.pk),
        "revoke_session": lambda: services.revoke_session(actor=who, session_id=session.pk),
    }
    return calls[case.operation]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_who_may_act_on_whom(case: Case):
    tenant = Tenant.unscoped.create(name="Acme", slug="acme")
    actor = make_persona(case.actor, tenant=tenant if case.actor in TENANT_ROLES else None)
    if case.target == "self":
        target = actor.gateway_user
    else:
        in_tenant = tenant if case.target in TENANT_ROLES else None
        target = GatewayUserFactory.create(role=case.target, tenant=in_tenant)
    operation = _run(case, actor, target)
    before = GatewayUser.unscoped.filter(pk=target.pk).values().get()
    if expected_allowed(case.actor, case.target, case.operation):
        operation()
        assert not AuditLog.unscoped.filter(outcome="denied").exists()
    else:
        with pytest.raises(Refused):
            operation()
        assert GatewayUser.unscoped.filter(pk=target.pk).values().get() == before
        assert AuditLog.unscoped.filter(outcome="denied").count() == 1
        assert not AuditLog.unscoped.filter(outcome="success").exists()


def test_the_matrix_covers_every_role_and_operation():
    assert {case.actor for case in CASES} == {role.value for role in Role}
    assert {case.target for case in CASES} == {*(role.value for role in Role), "self"}
    # Each rule is exercised both ways: some cases allowed, some refused, for each operation.
    for operation in OPERATIONS:
        answers = {
            expected_allowed(c.actor, c.target, c.operation)
            for c in CASES
            if c.operation == operation
        }
        assert answers == {True, False}, operation


@pytest.mark.parametrize("actor_role", ACTORS)
@pytest.mark.parametrize("given", [role.value for role in Role])
def test_who_may_create_a_user_with_which_role(actor_role: str, given: str):
    tenant = Tenant.unscoped.create(name="Acme", slug="acme")
    actor = make_persona(actor_role, tenant=tenant if actor_role in TENANT_ROLES else None)
    create = lambda: lifecycle.create_user(  # noqa: E731
        actor=actor.actor, email="new@acme.example", name="New", roles=[given], tenant_id=None
    )
    allowed = actor_role in MODERATORS and (actor_role == "admin" or given in TENANT_ROLES)
    if allowed:
        create()
        assert GatewayUser.unscoped.get(email="new@acme.example").role == given
    else:
        with pytest.raises(Refused):
            create()
        assert not GatewayUser.unscoped.filter(email="new@acme.example").exists()
        assert AuditLog.unscoped.filter(outcome="denied").count() == 1


# --- tenants: a tenant's status and limits are the platform's, never its own admin's ---------

TENANT_OPERATIONS = ["suspend", "reactivate", "archive", "update"]


def _tenant_operation(name: str, persona: Persona, tenant: Tenant) -> None:
    from tenants import services as tenant_services

    if name == "update":
        tenant_services.update_tenant(
            actor=persona.actor,
            tenant_id=tenant.pk,
            plan="enterprise",
            max_api_keys=1000,
            max_servers=1000,
            settings={},
        )
        return
    operation = getattr(tenant_services, f"{name}_tenant")
    operation(actor=persona.actor, tenant_id=tenant.pk, reason="Because")


@pytest.mark.parametrize("operation", TENANT_OPERATIONS)
@pytest.mark.parametrize("actor_role", ACTORS)
def test_only_admins_change_a_tenant_even_their_own(actor_role, operation):
    from tenants.factories import TenantFactory

    tenant = TenantFactory.create(status="suspended" if operation == "reactivate" else "active")
    # A tenant admin (and a plain user) acts on their own tenant: still refused.
    persona = make_persona(actor_role, tenant if actor_role in TENANT_ROLES else None)
    before = Tenant.unscoped.filter(pk=tenant.pk).values().get()
    if actor_role == "admin":
        _tenant_operation(operation, persona, tenant)
        assert Tenant.unscoped.filter(pk=tenant.pk).values().get() != before
        assert not AuditLog.unscoped.filter(outcome="denied").exists()
        return
    with pytest.raises(Refused):
        _tenant_operation(operation, persona, tenant)
    assert Tenant.unscoped.filter(pk=tenant.pk).values().get() == before
    assert AuditLog.unscoped.filter(outcome="denied", action__startswith="tenant.").count() == 1
