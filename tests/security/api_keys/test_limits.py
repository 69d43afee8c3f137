"""The tenant's ``max_api_keys`` and status hold for every way a usable key appears: creating,
rotating, and an edit that brings an expired key back."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditLog
from backoffice.operations import Invalid
from security.api_keys import services
from security.api_keys.selectors import live_key_count
from security.factories import ApiKeyFactory
from security.models import ApiKey
from tenants.models import TenantStatus
from tests.concurrency import at_once
from tests.security.api_keys.conftest import audit_rows, now, reload

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def limit(tenant, n: int) -> None:
    tenant.max_api_keys = n
    tenant.save(update_fields=["max_api_keys"])


def rotate(persona, key, grace=HOUR) -> services.IssuedKey:
    return services.rotate_api_key(actor=persona.actor, key_id=key.pk, grace=grace, expires_at=None)


# --- rotate -------------------------------------------------------------------------------


def test_rotating_again_during_a_grace_period_cannot_pass_the_limit(
    tenant_admin_a, tenant_a, key_a
):
    limit(tenant_a, 1)
    issued = rotate(tenant_admin_a, key_a)  # key_a keeps working for an hour: 2 usable keys

    with pytest.raises(Invalid, match="its limit of 1") as refused:
        rotate(tenant_admin_a, issued.key)
    assert "grace period" in str(refused.value)
    # The key already replaced points at its successor instead.
    with pytest.raises(Invalid, match=f"rotate {issued.key.key_prefix} instead"):
        rotate(tenant_admin_a, key_a)
    assert live_key_count(tenant_a.pk) == 2
    assert ApiKey.unscoped.count() == 2
    assert len(audit_rows("api_key.rotate")) == 1


def test_rotating_with_no_grace_can_go_on_at_the_limit(tenant_admin_a, tenant_a, key_a):
    limit(tenant_a, 1)
    key = key_a
    for _ in range(3):
        key = rotate(tenant_admin_a, key, grace=dt.timedelta(0)).key
    assert live_key_count(tenant_a.pk) == 1


@pytest.mark.parametrize("state", ["expired", "revoked", "deactivated"])
def test_a_key_that_no_longer_works_cannot_be_rotated(tenant_admin_a, tenant_a, state):
    traits = {"deactivated": {"is_active": False}}.get(state, {state: True})
    old = ApiKeyFactory.create(tenant=tenant_a, **traits)
    with pytest.raises(Invalid, match="create a new key instead"):
        rotate(tenant_admin_a, old)
    assert ApiKey.unscoped.count() == 1
    assert not audit_rows("api_key.rotate")


def test_an_expired_key_at_the_limit_gives_no_new_key(tenant_admin_a, tenant_a, key_a):
    limit(tenant_a, 1)
    expired = ApiKeyFactory.create(tenant=tenant_a, expired=True)
    with pytest.raises(Invalid, match="has expired"):
        rotate(tenant_admin_a, expired)
    assert live_key_count(tenant_a.pk) == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_rotations_of_one_key_issue_one_key(tenant_admin_a, tenant_a, key_a):
    limit(tenant_a, 1)
    issued, refused = at_once(lambda _: rotate(tenant_admin_a, key_a), 5, refusals=(Invalid,))
    assert (len(issued), len(refused)) == (1, 4)
    assert ApiKey.unscoped.count() == 2
    assert AuditLog.unscoped.filter(action="api_key.rotate").count() == 1


# --- edit ---------------------------------------------------------------------------------


def test_an_edit_that_revives_an_expired_key_counts_against_the_limit(
    tenant_admin_a, tenant_a, key_a
):
    limit(tenant_a, 1)
    expired = ApiKeyFactory.create(tenant=tenant_a, expired=True, name="old")
    for expires_at in (None, now() + dt.timedelta(days=30)):
        with pytest.raises(Invalid, match="usable again"):
            services.update_api_key(
                actor=tenant_admin_a.actor,
                key_id=expired.pk,
                name="old",
                scopes=expired.scopes,
                expires_at=expires_at,
            )
    assert reload(expired).expires_at == expired.expires_at
    assert live_key_count(tenant_a.pk) == 1
    assert not audit_rows("api_key.update")

    # Renaming it leaves it expired, so the limit does not apply.
    assert services.update_api_key(
        actor=tenant_admin_a.actor, key_id=expired.pk, name="renamed", scopes=expired.scopes
    )


def test_an_expired_key_may_be_revived_when_there_is_room(tenant_admin_a, tenant_a):
    limit(tenant_a, 1)
    expired = ApiKeyFactory.create(tenant=tenant_a, expired=True)
    services.update_api_key(
        actor=tenant_admin_a.actor,
        key_id=expired.pk,
        name=expired.name,
        scopes=expired.scopes,
        expires_at=None,
    )
    assert reload(expired).expires_at is None
    assert live_key_count(tenant_a.pk) == 1


def test_a_key_in_its_grace_period_cannot_be_kept_for_longer_past_the_limit(
    tenant_admin_a, tenant_a, key_a
):
    limit(tenant_a, 1)
    rotate(tenant_admin_a, key_a)
    ends = reload(key_a).expires_at
    with pytest.raises(Invalid, match="cannot be kept for longer"):
        services.update_api_key(
            actor=tenant_admin_a.actor,
            key_id=key_a.pk,
            name=key_a.name,
            scopes=key_a.scopes,
            expires_at=None,
        )
    assert reload(key_a).expires_at == ends
    # Ending it sooner is always allowed.
    assert services.update_api_key(
        actor=tenant_admin_a.actor,
        key_id=key_a.pk,
        name=key_a.name,
        scopes=key_a.scopes,
        expires_at=now() + dt.timedelta(minutes=5),
    )


def test_extending_a_usable_key_at_the_limit_is_allowed(tenant_admin_a, tenant_a, key_a):
    limit(tenant_a, 1)
    assert services.update_api_key(
        actor=tenant_admin_a.actor,
        key_id=key_a.pk,
        name=key_a.name,
        scopes=key_a.scopes,
        expires_at=None,
    )


# --- tenant status ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [TenantStatus.SUSPENDED, TenantStatus.ARCHIVED])
def test_no_key_is_issued_for_a_suspended_or_archived_tenant(admin, tenant_a, key_a, status):
    tenant_a.status = status
    tenant_a.save(update_fields=["status"])
    with pytest.raises(Invalid, match=f"Tenant A is {status}"):
        services.create_api_key(
            actor=admin.actor,
            tenant_id=tenant_a.pk,
            name="new",
            scopes=["tools:call"],
            expires_at=None,
            rate_limit_per_minute=60,
        )
    with pytest.raises(Invalid, match=f"Tenant A is {status}"):
        rotate(admin, key_a)
    assert ApiKey.unscoped.count() == 1
    assert not AuditLog.unscoped.filter(outcome="success").exists()


def test_a_trial_tenant_gets_keys(tenant_admin_a, tenant_a):
    tenant_a.status = TenantStatus.TRIAL
    tenant_a.save(update_fields=["status"])
    services.create_api_key(
        actor=tenant_admin_a.actor,
        tenant_id=tenant_a.pk,
        name="trial",
        scopes=["tools:call"],
        expires_at=None,
        rate_limit_per_minute=60,
    )
    assert ApiKey.unscoped.count() == 1
