"""Marking an email verified, unlinking a sign-in method, removing a user."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditLog
from backoffice.operations import Invalid, Refused
from registry.factories import McpServerFactory
from security.api_key_secrets import generate_api_key
from security.api_keys.verification import verify_api_key
from security.factories import (
    AccountFactory,
    ApiKeyFactory,
    CredentialAccountFactory,
    GatewaySessionFactory,
    GatewayUserFactory,
)
from security.lifecycle import services
from security.models import Account, ApiKey, GatewaySession, GatewayUser
from tests.pages import assert_page_says, messages_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(tenant_a):
    user = GatewayUserFactory.create(
        tenant=tenant_a, email="mia@example.com", name="Mia", email_verified=False
    )
    CredentialAccountFactory.create(user=user, password="0" * 32 + ":" + "1" * 128)
    return user


def test_mark_email_verified_once(support, member):
    assert services.mark_email_verified(actor=support.actor, user_id=member.pk) is True
    assert GatewayUser.unscoped.get(pk=member.pk).email_verified
    assert services.mark_email_verified(actor=support.actor, user_id=member.pk) is False
    assert AuditLog.unscoped.filter(action="user.verify_email").count() == 1


def test_unlinking_keeps_the_last_sign_in_method(support, member):
    github = AccountFactory.create(user=member)
    assert (
        services.unlink_sign_in(actor=support.actor, user_id=member.pk, account_id=github.pk)
        == "github"
    )
    (last,) = Account.unscoped.filter(user_id=member.pk)
    with pytest.raises(Invalid, match="only sign-in method"):
        services.unlink_sign_in(actor=support.actor, user_id=member.pk, account_id=last.pk)
    assert Account.unscoped.filter(user_id=member.pk).count() == 1
    (row,) = AuditLog.unscoped.filter(action="account.unlink")
    assert row.details["provider_id"] == "github" and "access_token" not in str(row.details)


def test_remove_previews_then_removes_leaving_a_tombstone(support, member):
    GatewaySessionFactory.create_batch(2, user=member)
    client = support.client()
    url = reverse("security:user_remove", args=[member.pk])
    assert_page_says(client.get(url), 200, "Remove mia@example.com", "2 sessions", "credential")
    response = client.post(url, {}, follow=True)
    assert "Removed mia@example.com; signed out 2 sessions." in messages_on(response)
    assert not GatewayUser.unscoped.filter(pk=member.pk).exists()
    assert not Account.unscoped.filter(user_id=member.pk).exists()
    (tomb,) = AuditLog.unscoped.filter(action="user.remove")
    assert tomb.details["before"]["email"] == "mia@example.com"
    assert tomb.details["before"]["name"] == "Mia"
    assert tomb.details["sign_in_methods"] == ["credential"]
    assert "1" * 128 not in str(tomb.details)


def test_remove_is_refused_while_they_own_servers(support, member):
    McpServerFactory.create(tenant=member.tenant, created_by=member, name="Search")
    with pytest.raises(Invalid, match="owns 1 MCP server"):
        services.remove_user(actor=support.actor, user_id=member.pk)
    assert GatewayUser.unscoped.filter(pk=member.pk).exists()
    page = assert_page_says(
        support.client().get(reverse("security:user_remove", args=[member.pk])),
        200,
        "Move or delete the servers first.",
    )
    assert 'value="Remove the user"' not in page


def test_remove_needs_the_keys_revoked_with_it(support, member):
    material = generate_api_key()
    key = ApiKeyFactory.create(tenant=member.tenant, created_by=member, material=material)
    with pytest.raises(Invalid, match="1 working API key"):
        services.remove_user(actor=support.actor, user_id=member.pk)
    assert verify_api_key(material.plaintext) is not None
    removal = services.remove_user(actor=support.actor, user_id=member.pk, revoke_keys=True)
    assert removal.keys_revoked == [key.key_prefix]
    assert verify_api_key(material.plaintext) is None
    assert ApiKey.unscoped.get(pk=key.pk).created_by_id is None


def test_nobody_removes_themselves_nor_support_an_admin(support, admin):
    for target in (support, admin):
        with pytest.raises(Refused):
            services.remove_user(actor=support.actor, user_id=target.gateway_user.pk)
    assert GatewayUser.unscoped.filter(pk=admin.gateway_user.pk).exists()
    assert [row.outcome for row in AuditLog.unscoped.all()] == ["denied", "denied"]
    assert GatewaySession.unscoped.count() == 0


def test_removing_a_user_ends_the_impersonations_they_run(admin, tenant_a):
    from security.factories import ImpersonationSessionFactory

    staff = GatewayUserFactory.create(role="support", tenant=None)
    other = GatewayUserFactory.create(tenant=tenant_a)
    ImpersonationSessionFactory.create(user=other, impersonated_by=staff.pk)
    removal = services.remove_user(actor=admin.actor, user_id=staff.pk)
    assert removal.impersonations_ended == 1
    assert not GatewaySession.unscoped.filter(impersonated_by=staff.pk).exists()


def test_the_user_page_offers_the_lifecycle_with_reasons(support, admin, member):
    AccountFactory.create(user=member)
    page = assert_page_says(
        support.client().get(reverse("admin:security_gatewayuser_change", args=[member.pk])),
        200,
        "Set password",
        "Mark email verified",
        "Unlink github",
        "Remove user",
    )
    assert reverse("security:user_remove", args=[member.pk]) in page
    admin_page = support.client().get(
        reverse("admin:security_gatewayuser_change", args=[admin.gateway_user.pk])
    )
    assert "Remove user: Only an admin may remove" in admin_page.content.decode()


def test_the_verify_and_unlink_pages_do_it_and_say_so(support, member):
    client = support.client()
    response = client.post(reverse("security:user_verify_email", args=[member.pk]), {}, follow=True)
    assert "Marked the email of mia@example.com verified." in messages_on(response)
    github = AccountFactory.create(user=member)
    response = client.post(
        reverse("security:user_unlink_sign_in", args=[member.pk, github.pk]), {}, follow=True
    )
    assert "Unlinked github from mia@example.com." in messages_on(response)
    (last,) = Account.unscoped.filter(user_id=member.pk)
    assert_page_says(
        client.get(reverse("security:user_unlink_sign_in", args=[member.pk, last.pk])),
        200,
        "This is the only sign-in method of mia@example.com: it cannot be unlinked.",
    )


def test_a_tenant_admin_may_not_open_the_lifecycle_pages(tenant_admin_b, member):
    from tests.pages import assert_refused

    assert_refused(tenant_admin_b.client().get(reverse("security:user_remove", args=[member.pk])))
