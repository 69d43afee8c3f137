"""The API key commands: the same services as the pages, on behalf of a named staff member."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditLog
from security.api_keys.verification import verify_api_key
from security.models import ApiKey
from tests.security.api_keys.conftest import reload

pytestmark = pytest.mark.django_db

KEY_PATTERN = re.compile(r"mcpgw_[a-z0-9]{8}_[A-Za-z0-9_-]{43}")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_prints_the_key_once_and_audits_the_staff_member(tenant_admin_a, tenant_a):
    email = tenant_admin_a.gateway_user.email
    output = run("create_api_key", "--as", email, "--name", "Nightly", "--scope", "tools:call")

    (plaintext,) = KEY_PATTERN.findall(output)
    key = ApiKey.unscoped.get()
    assert verify_api_key(plaintext) == key
    assert key.tenant_id == tenant_a.pk and key.scopes == ["tools:call"]
    row = AuditLog.unscoped.get(action="api_key.create")
    assert row.actor_id == tenant_admin_a.gateway_user.id
    assert plaintext not in str(row.details)


def test_an_admin_names_the_tenant(admin, tenant_b):
    email = admin.gateway_user.email
    with pytest.raises(CommandError, match="--tenant is required"):
        run("create_api_key", "--as", email, "--name", "x", "--scope", "tools:call")
    run(
        "create_api_key",
        "--as",
        email,
        "--tenant",
        "tenant-b",
        "--name",
        "x",
        "--scope",
        "audit:read",
        "--no-expiry",
    )
    key = ApiKey.unscoped.get()
    assert key.tenant_id == tenant_b.pk and key.expires_at is None


def test_a_tenant_admin_cannot_name_another_tenant(tenant_admin_a, tenant_b):
    with pytest.raises(CommandError, match="No such tenant"):
        run(
            "create_api_key",
            "--as",
            tenant_admin_a.gateway_user.email,
            "--tenant",
            "tenant-b",
            "--name",
            "x",
            "--scope",
            "tools:call",
        )
    assert not ApiKey.unscoped.exists()


def test_the_tenant_limit_is_a_command_error(tenant_admin_a, tenant_a, key_a):
    tenant_a.max_api_keys = 1
    tenant_a.save(update_fields=["max_api_keys"])
    with pytest.raises(CommandError, match="limit of 1"):
        run(
            "create_api_key",
            "--as",
            tenant_admin_a.gateway_user.email,
            "--name",
            "x",
            "--scope",
            "tools:call",
        )


def test_revoke_by_prefix(tenant_admin_a, key_a):
    output = run(
        "revoke_api_key",
        key_a.key_prefix,
        "--as",
        tenant_admin_a.gateway_user.email,
        "--reason",
        "x",
    )
    assert f"Revoked {key_a.key_prefix}" in output
    assert not reload(key_a).is_active
    assert AuditLog.unscoped.filter(action="api_key.revoke", outcome="success").count() == 1


def test_revoking_another_tenants_key_is_refused_and_recorded(tenant_admin_b, key_a):
    with pytest.raises(CommandError, match="No API key"):
        run(
            "revoke_api_key",
            str(key_a.pk),
            "--as",
            tenant_admin_b.gateway_user.email,
            "--reason",
            "x",
        )
    assert reload(key_a).is_active
    assert AuditLog.unscoped.filter(outcome="denied", resource_id=str(key_a.pk)).exists()


def test_rotate_prints_the_new_key(tenant_admin_a, key_a):
    output = run(
        "rotate_api_key",
        key_a.key_prefix,
        "--as",
        tenant_admin_a.gateway_user.email,
        "--grace",
        "now",
    )
    (plaintext,) = KEY_PATTERN.findall(output)
    new = verify_api_key(plaintext)
    assert new is not None and new.name == key_a.name
    assert verify_api_key(plaintext) != key_a


def test_support_is_refused(support, key_a):
    with pytest.raises(CommandError, match="Refused: your role"):
        run("revoke_api_key", key_a.key_prefix, "--as", support.gateway_user.email, "--reason", "x")
    assert reload(key_a).is_active
    assert AuditLog.unscoped.filter(actor_id=support.gateway_user.id, outcome="denied").exists()


def test_bad_options_are_command_errors(tenant_admin_a):
    email = tenant_admin_a.gateway_user.email
    with pytest.raises(CommandError, match="--days"):
        run("create_api_key", "--as", email, "--name", "x", "--scope", "tools:call", "--days", "0")
    with pytest.raises(CommandError, match="not a time"):
        run(
            "create_api_key",
            "--as",
            email,
            "--name",
            "x",
            "--scope",
            "tools:call",
            "--until",
            "soon",
        )
    with pytest.raises(CommandError, match="No gateway user"):
        run("create_api_key", "--as", "nobody@example.com", "--name", "x", "--scope", "tools:call")
    assert not ApiKey.unscoped.exists()
