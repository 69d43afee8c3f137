"""A ban's blast radius: what else stays alive is shown, and the keys may be revoked with it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.urls import reverse

from audit.models import AuditLog
from registry.factories import McpServerFactory
from security.api_key_secrets import generate_api_key
from security.api_keys.verification import verify_api_key
from security.factories import (
    ApiKeyFactory,
    GatewaySessionFactory,
    GatewayUserFactory,
    ImpersonationSessionFactory,
)
from security.models import ApiKey, GatewaySession, GatewayUser
from security.moderation import services
from tests.pages import assert_page_says, messages_on
from tests.security.moderation.conftest import audit_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant_boss(tenant_a) -> GatewayUser:
    """A tenant admin with two sessions, two working keys, one revoked key and a server."""
    boss = GatewayUserFactory.create(
        tenant=tenant_a, role="tenant_admin", email="boss@acme.example", username="boss"
    )
    GatewaySessionFactory.create_batch(2, user=boss)
    return boss


@pytest.fixture
def boss_keys(tenant_boss):
    materials = [generate_api_key(), generate_api_key()]
    keys = [
        ApiKeyFactory.create(
            tenant=tenant_boss.tenant, created_by=tenant_boss, name=name, material=material
        )
        for name, material in zip(["Billing sync", "CI runner"], materials, strict=True)
    ]
    ApiKeyFactory.create(
        tenant=tenant_boss.tenant, created_by=tenant_boss, name="Old key", revoked=True
    )
    return list(zip(keys, materials, strict=True))


@pytest.fixture
def boss_server(tenant_boss):
    return McpServerFactory.create(
        tenant=tenant_boss.tenant, created_by=tenant_boss, name="Acme search"
    )


def ban_url(user: GatewayUser) -> str:
    return reverse("security:user_ban", args=[user.pk])


def working(material) -> bool:
    return verify_api_key(material.plaintext) is not None


# --- the confirmation -------------------------------------------------------------------------


def test_the_ban_page_lists_sessions_impersonations_keys_and_servers(
    support, admin, tenant_boss, boss_keys, boss_server
):
    other = GatewayUserFactory.create(tenant=tenant_boss.tenant, email="other@acme.example")
    ImpersonationSessionFactory.create(user=tenant_boss, impersonated_by=admin.gateway_user.id)
    ImpersonationSessionFactory.create(user=other, impersonated_by=tenant_boss.pk)
    page = assert_page_says(
        support.client().get(ban_url(tenant_boss)),
        200,
        "Working API keys they created",
        "Billing sync <code>" + boss_keys[0][0].key_prefix + "</code>",
        "CI runner <code>" + boss_keys[1][0].key_prefix + "</code>",
        "Acme search",
        "they act as other@acme.example (ends with the ban)",
        "1 of them (they end with the ban)",
        'name="revoke_keys"',
        "Revoke these keys too",
    )
    # Three sessions of theirs: two own, one impersonation of them.
    assert '<td class="blast-sessions">3</td>' in page
    assert "Old key" not in page  # revoked keys are not alive
    for key, material in boss_keys:
        assert key.key_hash not in page and material.plaintext not in page


def test_no_key_checkbox_when_the_user_has_no_working_keys(support, member):
    page = assert_page_says(support.client().get(ban_url(member)), 200, "Ban mia@example.com")
    assert 'name="revoke_keys"' not in page


# --- the ban, with and without its keys ---------------------------------------------------------


def test_ticking_revokes_the_keys_with_the_ban_and_says_so(support, tenant_boss, boss_keys):
    response = support.client().post(
        ban_url(tenant_boss),
        {"reason": "Compromised", "length": "permanent", "revoke_keys": "on"},
        follow=True,
    )
    assert "Banned boss@acme.example; signed out 2 sessions; revoked 2 keys." in messages_on(
        response
    )
    assert GatewayUser.unscoped.get(pk=tenant_boss.pk).banned
    assert not any(working(material) for _, material in boss_keys)
    (ban,) = audit_rows("user.ban")
    revokes = audit_rows("api_key.revoke")
    assert sorted(str(row.resource_id) for row in revokes) == sorted(
        str(k.pk) for k, _ in boss_keys
    )
    # One operation: every row carries the ban's request id.
    assert {row.request_id for row in revokes} == {ban.request_id}
    assert sorted(ban.details["keys_revoked"]) == sorted(k.key_prefix for k, _ in boss_keys)
    assert revokes[0].details["reason"] == "Revoked with the ban of boss@acme.example."
    for row in revokes:
        assert "key_hash" not in str(row.details)


def test_not_ticking_leaves_the_keys_working_and_the_message_says_so(
    support, tenant_boss, boss_keys
):
    response = support.client().post(
        ban_url(tenant_boss), {"reason": "Spam", "length": "permanent"}, follow=True
    )
    shown = messages_on(response)
    assert "Banned boss@acme.example; signed out 2 sessions." in shown
    assert "2 API keys they created still work: revoke them from the API keys pages." in shown
    assert all(working(material) for _, material in boss_keys)
    assert not audit_rows("api_key.revoke")
    (ban,) = audit_rows("user.ban")
    assert sorted(ban.details["keys_left_working"]) == sorted(k.key_prefix for k, _ in boss_keys)


def test_one_key_reads_in_the_singular(support, tenant_boss):
    ApiKeyFactory.create(tenant=tenant_boss.tenant, created_by=tenant_boss)
    GatewaySession.unscoped.filter(user_id=tenant_boss.pk).exclude(
        pk=GatewaySession.unscoped.filter(user_id=tenant_boss.pk).values("pk")[:1]
    ).delete()
    response = support.client().post(
        ban_url(tenant_boss),
        {"reason": "Spam", "length": "permanent", "revoke_keys": "on"},
        follow=True,
    )
    assert "Banned boss@acme.example; signed out 1 session; revoked 1 key." in messages_on(response)


def test_a_failing_key_revocation_leaves_the_ban_undone(support, tenant_boss, boss_keys):
    """A trigger refuses the update of the second key: the whole ban rolls back."""
    second = boss_keys[1][0]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_key_update() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'this key may not change'; END $$ LANGUAGE plpgsql;
            """
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_key_update BEFORE UPDATE ON api_keys FOR EACH ROW "
            f"WHEN (OLD.id = '{second.pk}') EXECUTE FUNCTION test_refuse_key_update()"
        )
    with pytest.raises(DatabaseError, match="this key may not change"):
        services.ban_user(
            actor=support.actor,
            user_id=tenant_boss.pk,
            reason="Compromised",
            expires_at=None,
            revoke_keys=True,
        )
    user = GatewayUser.unscoped.get(pk=tenant_boss.pk)
    assert not user.banned and user.ban_reason is None
    assert GatewaySession.unscoped.filter(user_id=tenant_boss.pk).count() == 2
    assert all(working(material) for _, material in boss_keys)
    assert not AuditLog.unscoped.filter(action__in=["user.ban", "api_key.revoke"]).exists()


def test_a_refused_ban_revokes_no_key(support, admin):
    """Support may not ban an admin: the admin's keys stay, whatever was ticked."""
    material = generate_api_key()
    ApiKeyFactory.create(created_by=admin.gateway_user, material=material)
    with pytest.raises(services.Refused):
        services.ban_user(
            actor=support.actor,
            user_id=admin.gateway_user.pk,
            reason="x",
            expires_at=None,
            revoke_keys=True,
        )
    assert working(material)
    assert [row.outcome for row in AuditLog.unscoped.all()] == ["denied"]


def test_the_ban_ends_impersonations_the_banned_user_runs(admin, tenant_boss):
    other = GatewayUserFactory.create(tenant=tenant_boss.tenant)
    ImpersonationSessionFactory.create(user=other, impersonated_by=tenant_boss.pk)
    outcome = services.ban_user(
        actor=admin.actor, user_id=tenant_boss.pk, reason="x", expires_at=None
    )
    assert outcome.impersonations_ended == 1
    assert not GatewaySession.unscoped.filter(impersonated_by=tenant_boss.pk).exists()


# --- bulk and command ---------------------------------------------------------------------------


def test_the_bulk_ban_shows_each_users_keys_and_revokes_them_all(
    support, tenant_boss, boss_keys, member
):
    member_material = generate_api_key()
    ApiKeyFactory.create(
        tenant=member.tenant, created_by=member, name="Mia key", material=member_material
    )
    client = support.client()
    changelist = reverse("admin:security_gatewayuser_changelist")
    selection = {"action": "ban_selected", "_selected_action": [tenant_boss.pk, member.pk]}
    page = assert_page_says(
        client.post(changelist, selection), 200, "Ban 2 users", "Revoke these keys too"
    )
    rows = [row.split("</tr>")[0] for row in page.split('class="blast-radius-user"')[1:]]
    boss_row = next(row for row in rows if "boss@acme.example" in row.split("</td>")[0])
    mia_row = next(row for row in rows if "mia@example.com" in row.split("</td>")[0])
    assert "Billing sync" in boss_row and "Mia key" not in boss_row
    assert "Mia key" in mia_row and "Billing sync" not in mia_row
    response = client.post(
        changelist,
        {
            **selection,
            "post": "yes",
            "reason": "Breach",
            "length": "permanent",
            "revoke_keys": "on",
        },
        follow=True,
    )
    assert (
        "Banned 2 users: boss@acme.example, mia@example.com; signed out 2 sessions; revoked 3 keys."
        in messages_on(response)
    )
    assert not working(member_material)
    assert not any(working(material) for _, material in boss_keys)
    assert ApiKey.unscoped.filter(revoked_by=support.gateway_user.id).count() == 3


def test_the_ban_command_revokes_keys_only_when_asked(support, tenant_boss, boss_keys, capsys):
    call_command(
        "ban_user", tenant_boss.email, "--reason", "Spam", "--as", support.gateway_user.email
    )
    assert "API keys they created that still work: 2" in capsys.readouterr().out
    assert all(working(material) for _, material in boss_keys)
    call_command(
        "ban_user",
        tenant_boss.email,
        "--reason",
        "Compromised",
        "--revoke-keys",
        "--as",
        support.gateway_user.email,
    )
    assert "API keys revoked: 2" in capsys.readouterr().out
    assert not any(working(material) for _, material in boss_keys)
