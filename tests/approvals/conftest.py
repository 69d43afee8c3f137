"""Fixtures for four-eyes tests: a second admin, a member, an admin to act on, and helpers."""

from __future__ import annotations

import pytest

from approvals.models import ApprovalRequest
from audit.models import AuditLog
from security.factories import GatewayUserFactory
from security.models import GatewayUser
from tests.conftest import Persona, make_persona


@pytest.fixture
def second_admin(db) -> Persona:
    return make_persona("admin")


@pytest.fixture
def member(tenant_a) -> GatewayUser:
    return GatewayUserFactory.create(tenant=tenant_a, email="mia@example.com")


@pytest.fixture
def other_admin(db) -> GatewayUser:
    """An admin account the staff act on (not one of the personas)."""
    return GatewayUserFactory.create(admin=True, email="ada@example.com")


def rows(action: str) -> list[AuditLog]:
    return list(AuditLog.unscoped.filter(action=action).order_by("id"))


def the_request() -> ApprovalRequest:
    return ApprovalRequest.objects.get()


def decide(persona: Persona, approval: ApprovalRequest, decision: str, **data: str):
    return persona.client().post(
        f"/approvals/{approval.pk}/", {"decision": decision, **data}, follow=True
    )


def fresh(user: GatewayUser) -> GatewayUser:
    return GatewayUser.unscoped.get(pk=user.pk)
