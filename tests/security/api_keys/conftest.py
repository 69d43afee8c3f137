"""Fixtures for the API key tests: a key in each tenant, made by that tenant's admin."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditLog
from security.factories import ApiKeyFactory
from security.models import ApiKey


@pytest.fixture
def key_a(tenant_a, tenant_admin_a) -> ApiKey:
    return ApiKeyFactory.create(
        tenant=tenant_a,
        created_by=tenant_admin_a.gateway_user,
        name="Billing service",
        scopes=["servers:read", "tools:call"],
    )


@pytest.fixture
def key_b(tenant_b, tenant_admin_b) -> ApiKey:
    return ApiKeyFactory.create(
        tenant=tenant_b,
        created_by=tenant_admin_b.gateway_user,
        name="Other tenant's secret pipeline",
        scopes=["audit:read"],
    )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reload(key: ApiKey) -> ApiKey:
    return ApiKey.unscoped.get(pk=key.pk)


def audit_rows(action: str, **filters) -> list[AuditLog]:
    return list(AuditLog.unscoped.filter(action=action, **filters).order_by("id"))


def expiry_of(key: ApiKey) -> dt.datetime:
    """A key's stored expiry, which the test expects to be set."""
    expires_at = reload(key).expires_at
    assert expires_at is not None
    return expires_at
