"""The API key services: what each change writes to the key and to the audit log, and refuses."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditLog
from backoffice.operations import Invalid
from security.api_key_secrets import generate_api_key, hash_api_key, prefix_of
from security.api_keys import services
from security.factories import ApiKeyFactory
from security.models import ApiKey
from tests.concurrency import at_once
from tests.conftest import make_persona
from tests.security.api_keys.conftest import audit_rows, expiry_of, now, reload

pytestmark = pytest.mark.django_db


def create(persona, tenant, **overrides: Any) -> services.IssuedKey:
    values: dict[str, Any] = {
        "name": "CI pipeline",
        "scopes": ["servers:read", "tools:call"],
        "expires_at": now() + dt.timedelta(days=90),
        "rate_limit_per_minute": 120,
    }
    values.update(overrides)
    return services.create_api_key(actor=persona.actor, tenant_id=tenant.pk, **values)


def assert_no_secret_in(row: AuditLog, *secrets: str) -> None:
    text = json.dumps(row.details)
    assert "key_hash" not in text
    for secret in secrets:
        assert secret not in text


# --- create -------------------------------------------------------------------------------


def test_create_stores_only_prefix_and_contract_hash_and_audits(tenant_admin_a, tenant_a):
    issued = create(tenant_admin_a, tenant_a)

    key = reload(issued.key)
    assert issued.plaintext.startswith("mcpgw_")
    assert key.key_prefix == prefix_of(issued.plaintext)
    assert key.key_hash == hash_api_key(issued.plaintext)
    assert issued.plaintext not in (key.key_prefix, key.key_hash)
    assert (key.tenant_id, key.created_by_id) == (tenant_a.pk, tenant_admin_a.gateway_user.id)
    assert (key.name, key.scopes, key.rate_limit_per_minute) == (
        "CI pipeline",
        ["servers:read", "tools:call"],
        120,
    )
    assert key.is_active and key.revoked_at is None
    (row,) = audit_rows("api_key.create")
    assert (row.resource_type, row.resource_id, row.tenant_id) == (
        "api_key",
        str(key.pk),
        tenant_a.pk,
    )
    assert row.actor_id == tenant_admin_a.gateway_user.id
    assert row.details["after"]["key_prefix"] == key.key_prefix
    assert_no_secret_in(row, issued.plaintext, key.key_hash)


def test_the_key_carries_256_random_bits_after_its_prefix(tenant_admin_a, tenant_a):
    plaintexts = {create(tenant_admin_a, tenant_a, name=f"k{i}").plaintext for i in range(3)}
    assert len(plaintexts) == 3
    for plaintext in plaintexts:
        secret = plaintext.split("_", 2)[2]
        assert len(secret) == 43  # base64url of 32 bytes


def test_the_issued_key_never_shows_its_plaintext_in_repr(tenant_admin_a, tenant_a):
    issued = create(tenant_admin_a, tenant_a)
    assert issued.plaintext not in repr(issued)


def test_a_tenant_admin_cannot_create_for_another_tenant(tenant_admin_a, tenant_b):
    with pytest.raises(services.NotFound):
        create(tenant_admin_a, tenant_b)
    assert not ApiKey.unscoped.exists()
    assert not audit_rows("api_key.create")


def test_an_admin_creates_for_any_tenant(admin, tenant_b):
    issued = create(admin, tenant_b)
    assert reload(issued.key).tenant_id == tenant_b.pk


def test_a_role_without_the_capability_is_refused_and_recorded(support, tenant_a):
    with pytest.raises(PermissionDenied):
        create(support, tenant_a)
    assert not ApiKey.unscoped.exists()
    assert [row.outcome for row in audit_rows("api_key.create")] == ["denied"]


def test_the_tenant_limit_counts_usable_keys_only(tenant_admin_a, tenant_a):
    tenant_a.max_api_keys = 2
    tenant_a.save(update_fields=["max_api_keys"])
    ApiKeyFactory.create(tenant=tenant_a)
    ApiKeyFactory.create(tenant=tenant_a, revoked=True)
    ApiKeyFactory.create(tenant=tenant_a, expired=True)
    create(tenant_admin_a, tenant_a, name="second")

    with pytest.raises(Invalid, match="limit of 2"):
        create(tenant_admin_a, tenant_a, name="third")
    assert not ApiKey.unscoped.filter(name="third").exists()
    assert len(audit_rows("api_key.create")) == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_creates_cannot_pass_the_limit_together(tenant_admin_a, tenant_a):
    """The tenant row lock makes the second creation wait, then count the first one's key."""
    tenant_a.max_api_keys = 1
    tenant_a.save(update_fields=["max_api_keys"])
    _, refused = at_once(
        lambda n: create(tenant_admin_a, tenant_a, name=f"race {n}"),
        4,
        refusals=(Invalid,),
    )
    assert len(refused) == 3
    assert ApiKey.unscoped.filter(tenant=tenant_a).count() == 1
    assert AuditLog.unscoped.filter(action="api_key.create").count() == 1


def test_a_prefix_clash_is_retried_with_a_fresh_key(tenant_admin_a, tenant_a, key_a):
    clash = generate_api_key()
    clash = type(clash)(
        plaintext=key_a.key_prefix + clash.plaintext[14:], prefix=key_a.key_prefix, hash=clash.hash
    )
    fresh = generate_api_key()
    with mock.patch.object(services, "generate_api_key", side_effect=[clash, fresh]):
        issued = create(tenant_admin_a, tenant_a)
    assert issued.plaintext == fresh.plaintext
    assert reload(issued.key).key_prefix == fresh.prefix
    assert reload(key_a).key_hash != fresh.hash


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "  "}, "Give the key a name"),
        ({"name": "a\x00b"}, "NUL"),
        ({"name": "n" * 201}, "at most 200"),
        ({"scopes": []}, "at least one scope"),
        ({"scopes": ["root:all"]}, "Not a scope of the catalog: root:all"),
        ({"expires_at": dt.datetime(2030, 1, 1)}, "time zone"),
        ({"expires_at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}, "in the future"),
        ({"expires_at": dt.datetime(9999, 1, 1, tzinfo=dt.UTC)}, "ten years"),
        ({"rate_limit_per_minute": 0}, "rate limit"),
        ({"rate_limit_per_minute": 10**12}, "rate limit"),
    ],
)
def test_bad_values_are_refused_with_a_message_and_nothing_written(
    tenant_admin_a, tenant_a, overrides, message
):
    with pytest.raises(Invalid, match=message):
        create(tenant_admin_a, tenant_a, **overrides)
    assert not ApiKey.unscoped.exists()
    assert not AuditLog.unscoped.exists()


# --- revoke -------------------------------------------------------------------------------


def test_revoke_is_immediate_and_audited_with_the_reason(tenant_admin_a, key_a):
    assert services.revoke_api_key(actor=tenant_admin_a.actor, key_id=key_a.pk, reason="Leaked")

    key = reload(key_a)
    assert key.is_active is False
    assert key.revoked_at is not None and abs(key.revoked_at - now()) < dt.timedelta(seconds=5)
    assert key.revoked_by == tenant_admin_a.gateway_user.id
    (row,) = audit_rows("api_key.revoke")
    assert row.details["reason"] == "Leaked"
    assert row.details["before"]["is_active"] is True
    assert row.details["after"]["is_active"] is False
    assert_no_secret_in(row, key.key_hash)


def test_revoking_twice_changes_nothing_the_second_time(tenant_admin_a, key_a):
    services.revoke_api_key(actor=tenant_admin_a.actor, key_id=key_a.pk, reason="Leaked")
    first = reload(key_a).revoked_at
    assert not services.revoke_api_key(actor=tenant_admin_a.actor, key_id=key_a.pk, reason="again")
    assert reload(key_a).revoked_at == first
    assert len(audit_rows("api_key.revoke")) == 1


def test_revoke_needs_a_reason(tenant_admin_a, key_a):
    with pytest.raises(Invalid, match="Say why"):
        services.revoke_api_key(actor=tenant_admin_a.actor, key_id=key_a.pk, reason=" ")
    assert reload(key_a).is_active


def test_another_tenants_key_cannot_be_revoked(tenant_admin_b, key_a):
    with pytest.raises(services.NotFound):
        services.revoke_api_key(actor=tenant_admin_b.actor, key_id=key_a.pk, reason="x")
    assert reload(key_a).is_active
    assert not audit_rows("api_key.revoke")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_revokes_write_one_audit_row(tenant_admin_a, key_a):
    at_once(
        lambda _: services.revoke_api_key(
            actor=tenant_admin_a.actor, key_id=key_a.pk, reason="Leak"
        ),
        4,
    )
    assert reload(key_a).is_active is False
    assert AuditLog.unscoped.filter(action="api_key.revoke").count() == 1


# --- rotate -------------------------------------------------------------------------------


def test_rotate_issues_a_twin_and_ends_the_old_key_after_the_grace(tenant_admin_a, key_a):
    new_expiry = now() + dt.timedelta(days=30)
    issued = services.rotate_api_key(
        actor=tenant_admin_a.actor,
        key_id=key_a.pk,
        grace=dt.timedelta(hours=24),
        expires_at=new_expiry,
    )

    new, old = reload(issued.key), reload(key_a)
    assert (new.name, new.scopes, new.tenant_id) == (old.name, old.scopes, old.tenant_id)
    assert new.rate_limit_per_minute == old.rate_limit_per_minute
    assert new.key_hash == hash_api_key(issued.plaintext) != old.key_hash
    assert abs(expiry_of(new) - new_expiry) < dt.timedelta(seconds=1)
    assert abs(expiry_of(old) - (now() + dt.timedelta(hours=24))) < dt.timedelta(seconds=5)
    assert old.is_active
    (rotated,) = audit_rows("api_key.rotate")
    assert rotated.resource_id == str(old.pk)
    assert rotated.details["replaced_by"] == str(new.pk)
    assert rotated.details["grace_seconds"] == 86400
    (created,) = audit_rows("api_key.create")
    assert created.resource_id == str(new.pk)
    assert created.details["rotated_from"] == str(old.pk)
    for row in (rotated, created):
        assert_no_secret_in(row, issued.plaintext, new.key_hash, old.key_hash)


def test_rotating_with_no_grace_ends_the_old_key_now(tenant_admin_a, key_a):
    services.rotate_api_key(
        actor=tenant_admin_a.actor, key_id=key_a.pk, grace=dt.timedelta(0), expires_at=None
    )
    assert expiry_of(key_a) <= now()


def test_the_grace_never_lengthens_the_old_keys_life(tenant_admin_a, tenant_a):
    soon = ApiKeyFactory.create(tenant=tenant_a, expires_at=now() + dt.timedelta(hours=2))
    services.rotate_api_key(
        actor=tenant_admin_a.actor, key_id=soon.pk, grace=dt.timedelta(days=7), expires_at=None
    )
    assert expiry_of(soon) < now() + dt.timedelta(hours=3)


def test_rotation_is_allowed_at_the_tenant_limit(tenant_admin_a, tenant_a, key_a):
    tenant_a.max_api_keys = 1
    tenant_a.save(update_fields=["max_api_keys"])
    issued = services.rotate_api_key(
        actor=tenant_admin_a.actor, key_id=key_a.pk, grace=dt.timedelta(hours=1), expires_at=None
    )
    assert reload(issued.key).is_active


def test_a_revoked_key_cannot_be_rotated(tenant_admin_a, tenant_a):
    revoked = ApiKeyFactory.create(tenant=tenant_a, revoked=True)
    with pytest.raises(Invalid, match="revoked"):
        services.rotate_api_key(
            actor=tenant_admin_a.actor, key_id=revoked.pk, grace=dt.timedelta(0), expires_at=None
        )
    assert ApiKey.unscoped.count() == 1


def test_another_tenants_key_cannot_be_rotated(tenant_admin_b, key_a):
    with pytest.raises(services.NotFound):
        services.rotate_api_key(
            actor=tenant_admin_b.actor, key_id=key_a.pk, grace=dt.timedelta(0), expires_at=None
        )
    assert ApiKey.unscoped.count() == 1
    assert reload(key_a).expires_at == key_a.expires_at


# --- edit ---------------------------------------------------------------------------------


def test_edit_records_what_changed_before_and_after(tenant_admin_a, key_a):
    changed = services.update_api_key(
        actor=tenant_admin_a.actor,
        key_id=key_a.pk,
        name="Billing (EU)",
        scopes=["servers:read"],
        expires_at=None,
    )

    assert changed
    key = reload(key_a)
    assert (key.name, key.scopes, key.expires_at) == ("Billing (EU)", ["servers:read"], None)
    (row,) = audit_rows("api_key.update")
    assert row.details["before"] == {
        "name": "Billing service",
        "scopes": ["servers:read", "tools:call"],
        "expires_at": key_a.expires_at.isoformat(),
    }
    assert row.details["after"] == {
        "name": "Billing (EU)",
        "scopes": ["servers:read"],
        "expires_at": None,
    }
    assert_no_secret_in(row, key.key_hash)


def test_an_edit_that_changes_nothing_writes_nothing(tenant_admin_a, key_a):
    assert not services.update_api_key(
        actor=tenant_admin_a.actor, key_id=key_a.pk, name=key_a.name, scopes=key_a.scopes
    )
    assert not audit_rows("api_key.update")


def test_scopes_outside_the_catalog_already_held_are_kept(tenant_admin_a, tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a, scopes=["legacy:all", "tools:call"])
    services.update_api_key(
        actor=tenant_admin_a.actor, key_id=key.pk, name="renamed", scopes=["legacy:all"]
    )
    assert reload(key).scopes == ["legacy:all"]
    with pytest.raises(Invalid, match="other:new"):
        services.update_api_key(
            actor=tenant_admin_a.actor, key_id=key.pk, name="x", scopes=["other:new"]
        )


def test_a_revoked_key_cannot_be_edited(tenant_admin_a, tenant_a):
    revoked = ApiKeyFactory.create(tenant=tenant_a, revoked=True, name="old")
    with pytest.raises(Invalid, match="revoked"):
        services.update_api_key(
            actor=tenant_admin_a.actor, key_id=revoked.pk, name="new", scopes=["tools:call"]
        )
    assert reload(revoked).name == "old"


def test_another_tenants_key_cannot_be_edited(tenant_admin_b, key_a):
    with pytest.raises(services.NotFound):
        services.update_api_key(
            actor=tenant_admin_b.actor, key_id=key_a.pk, name="mine now", scopes=["tools:call"]
        )
    assert reload(key_a).name == "Billing service"


def test_a_tenant_admin_without_a_tenant_manages_nothing(tenant_a, key_a):
    orphan = make_persona("tenant_admin")
    with pytest.raises(services.NotFound):
        services.revoke_api_key(actor=orphan.actor, key_id=key_a.pk, reason="x")
    with pytest.raises(services.NotFound):
        create(orphan, tenant_a)
