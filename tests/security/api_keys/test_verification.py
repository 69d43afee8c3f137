"""The gateway's check of a key: prefix lookup, contract hash, constant-time comparison."""

from __future__ import annotations

import datetime as dt

import pytest

from security.api_key_secrets import generate_api_key
from security.api_keys import services
from security.api_keys.verification import verify_api_key
from security.factories import ApiKeyFactory
from tests.security.api_keys.conftest import now

pytestmark = pytest.mark.django_db

# A fixed key and its hash computed outside Python, as the gateway's SHA-256/base64url hasher does:
# printf %s "$KEY" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '='
KNOWN_KEY = "mcpgw_abcd1234_" + "A" * 21 + "-" + "b" * 20 + "_"
KNOWN_HASH = "NK1tehEsqz1poT4ohaaxOciRY9dKVqHNI1DSHjfeTD4"


def test_a_known_vector_stored_by_the_gateway_verifies(tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a, key_prefix="mcpgw_abcd1234", key_hash=KNOWN_HASH)
    assert verify_api_key(KNOWN_KEY) == key


def test_one_changed_character_fails(tenant_a):
    ApiKeyFactory.create(tenant=tenant_a, key_prefix="mcpgw_abcd1234", key_hash=KNOWN_HASH)
    assert verify_api_key(KNOWN_KEY[:-1] + "c") is None


def test_a_key_created_by_the_service_verifies(tenant_admin_a, tenant_a):
    issued = services.create_api_key(
        actor=tenant_admin_a.actor,
        tenant_id=tenant_a.pk,
        name="CI",
        scopes=["tools:call"],
        expires_at=now() + dt.timedelta(days=30),
        rate_limit_per_minute=60,
    )
    assert verify_api_key(issued.plaintext) == issued.key


def test_revoked_expired_and_inactive_keys_fail(tenant_a):
    revoked, expired, inactive = generate_api_key(), generate_api_key(), generate_api_key()
    for material, extra in (
        (revoked, {"revoked": True}),
        (expired, {"expired": True}),
        (inactive, {"is_active": False}),
    ):
        ApiKeyFactory.create(
            tenant=tenant_a, key_prefix=material.prefix, key_hash=material.hash, **extra
        )
    assert verify_api_key(revoked.plaintext) is None
    assert verify_api_key(expired.plaintext) is None
    assert verify_api_key(inactive.plaintext) is None


def test_a_key_expiring_soon_and_one_without_expiry_still_verify(tenant_a):
    soon, forever = generate_api_key(), generate_api_key()
    ApiKeyFactory.create(tenant=tenant_a, key_prefix=soon.prefix, key_hash=soon.hash, expiring=True)
    ApiKeyFactory.create(
        tenant=tenant_a, key_prefix=forever.prefix, key_hash=forever.hash, never_expires=True
    )
    assert verify_api_key(soon.plaintext) is not None
    assert verify_api_key(forever.plaintext) is not None


def test_an_unknown_key_with_a_stored_prefix_fails(tenant_a):
    stored = generate_api_key()
    ApiKeyFactory.create(tenant=tenant_a, key_prefix=stored.prefix, key_hash=stored.hash)
    forged = stored.prefix + "_" + "x" * 43
    assert verify_api_key(forged) is None


@pytest.mark.parametrize(
    "text",
    ["", "mcpgw_", "not a key", "mcpgw_abcd1234", "mcpgw_abcd1234_\x00" + "a" * 42, "é" * 58],
)
def test_malformed_input_fails_without_error(text):
    assert verify_api_key(text) is None
