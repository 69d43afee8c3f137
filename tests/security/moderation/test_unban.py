"""Lifting a ban: Better-Auth clears the flag, reason and expiry; audited."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from security.factories import GatewayUserFactory
from security.models import GatewayUser
from security.moderation import services
from tests.pages import assert_refused
from tests.security.moderation.conftest import audit_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def banned(tenant_a) -> GatewayUser:
    return GatewayUserFactory.create(tenant=tenant_a, banned_expiring=True, email="ban@example.com")


def reload(user):
    return GatewayUser.unscoped.get(pk=user.pk)


def test_unban_clears_all_three_fields_and_audits(support, banned):
    services.unban_user(actor=support.actor, user_id=banned.pk)
    user = reload(banned)
    assert (user.banned, user.ban_reason, user.ban_expires) == (False, None, None)
    assert user.updated_at > banned.updated_at
    (row,) = audit_rows("user.unban")
    assert row.details["before"]["ban_reason"] == "Abusive requests"
    assert row.details["after"] == {"banned": False, "ban_reason": None, "ban_expires": None}


def test_unbanning_someone_not_banned_writes_nothing(support, member):
    outcome = services.unban_user(actor=support.actor, user_id=member.pk)
    assert outcome.unchanged == [member.email] and audit_rows("user.unban") == []


def test_the_page_confirms_then_unbans(support, banned):
    url = reverse("security:user_unban", args=[banned.pk])
    client = support.client()
    assert "The ban flag, its reason and its end are cleared" in client.get(url).content.decode()
    assert reload(banned).banned
    response = client.post(url, follow=True)
    assert "Lifted the ban of ban@example.com." in response.content.decode()
    assert not reload(banned).banned


def test_bulk_unban(support, banned, tenant_a):
    other = GatewayUserFactory.create(tenant=tenant_a, banned_permanent=True)
    support.client().post(
        "/admin/security/gatewayuser/",
        {"action": "unban_selected", "_selected_action": [banned.pk, other.pk], "post": "yes"},
    )
    assert not GatewayUser.unscoped.filter(banned=True).exists()
    assert len(audit_rows("user.unban")) == 2


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_moderation_get_403(request, persona, banned):
    url = reverse("security:user_unban", args=[banned.pk])
    assert_refused(request.getfixturevalue(persona).client().post(url))
    assert reload(banned).banned


def test_the_command(support, banned, capsys):
    call_command("unban_user", "ban@example.com", "--as", support.gateway_user.email)
    assert not reload(banned).banned
    assert "Ban lifted: ban@example.com" in capsys.readouterr().out


def test_nothing_changed_messages_start_with_a_word_not_an_email(support, member):
    """The admin capitalises a message's first letter: "Mia@example.com" is not her address."""
    client = support.client()
    pages = {
        "security:user_unban": ({}, "Nothing changed: mia@example.com was not banned."),
        "security:user_revoke_sessions": ({}, "Nothing changed: mia@example.com had no sessions."),
        "security:user_roles": (
            {"roles": ["user"]},
            "Nothing changed: mia@example.com already had these roles.",
        ),
    }
    for name, (data, message) in pages.items():
        response = client.post(reverse(name, args=[member.pk]), data, follow=True)
        assert message in response.content.decode()
        assert "Mia@example.com" not in response.content.decode()
