"""Fixtures for the moderation tests: a member of tenant A with sessions, and impersonations."""

from __future__ import annotations

import pytest

from audit.models import AuditLog
from backoffice import presentation
from security.factories import (
    GatewaySessionFactory,
    GatewayUserFactory,
    ImpersonationSessionFactory,
)
from security.models import GatewayUser


@pytest.fixture
def member(tenant_a) -> GatewayUser:
    return GatewayUserFactory.create(
        tenant=tenant_a, email="mia@example.com", name="Mia Member", username="mia"
    )


@pytest.fixture
def member_b(tenant_b) -> GatewayUser:
    return GatewayUserFactory.create(
        tenant=tenant_b, email="bo@example.com", name="Bo Other", username="bo"
    )


@pytest.fixture
def member_sessions(member):
    return GatewaySessionFactory.create_batch(2, user=member)


@pytest.fixture
def impersonation(admin, member):
    """The admin persona impersonating the member right now."""
    return ImpersonationSessionFactory.create(user=member, impersonated_by=admin.gateway_user.id)


def audit_rows(action: str, **filters) -> list[AuditLog]:
    return list(AuditLog.unscoped.filter(action=action, **filters).order_by("id"))


def breakable(email: str) -> str:
    """An email as the moderation lists render it: free to break before its "@" and dots."""
    return str(presentation.breakable(email))
