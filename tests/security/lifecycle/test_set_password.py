"""Setting a user's password: Better-Auth reads it, their sessions end, no hash in the audit."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditLog
from backoffice.operations import Invalid, Refused
from security.factories import CredentialAccountFactory, GatewaySessionFactory, GatewayUserFactory
from security.lifecycle import services
from security.models import Account, GatewaySession
from security.passwords import verify_password
from tests.pages import assert_page_says, messages_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(tenant_a):
    user = GatewayUserFactory.create(tenant=tenant_a, email="mia@example.com")
    CredentialAccountFactory.create(user=user, raw_password="the old password")
    GatewaySessionFactory.create_batch(2, user=user)
    return user


def test_set_password_replaces_the_hash_and_ends_every_session(support, member):
    ended = services.set_user_password(
        actor=support.actor, user_id=member.pk, password="the new password"
    )
    assert ended == 2 and not GatewaySession.unscoped.filter(user_id=member.pk).exists()
    stored = Account.unscoped.get(user_id=member.pk, provider_id="credential").password
    assert verify_password("the new password", stored)
    assert not verify_password("the old password", stored)
    (row,) = AuditLog.unscoped.filter(action="user.set_password")
    assert row.details["sessions_deleted"] == 2
    assert stored is not None and stored not in str(row.details)
    assert "new password" not in str(row.details)


def test_a_user_without_a_password_gets_a_credential(support, tenant_a):
    user = GatewayUserFactory.create(tenant=tenant_a)
    services.set_user_password(actor=support.actor, user_id=user.pk, password="first password")
    account = Account.unscoped.get(user_id=user.pk)
    assert account.provider_id == "credential" and account.account_id == user.pk
    assert verify_password("first password", account.password)


def test_a_weak_password_is_refused_and_nothing_changes(support, member):
    before = Account.unscoped.get(user_id=member.pk).password
    with pytest.raises(Invalid, match="at least 8"):
        services.set_user_password(actor=support.actor, user_id=member.pk, password="short")
    assert Account.unscoped.get(user_id=member.pk).password == before
    assert GatewaySession.unscoped.filter(user_id=member.pk).count() == 2


def test_nobody_sets_their_own_password_and_support_not_an_admins(support, admin):
    with pytest.raises(Refused, match="their own password"):
        services.set_user_password(
            actor=support.actor, user_id=support.gateway_user.pk, password="whatever123"
        )
    with pytest.raises(Refused, match="Only an admin may set the password"):
        services.set_user_password(
            actor=support.actor, user_id=admin.gateway_user.pk, password="whatever123"
        )
    assert [row.outcome for row in AuditLog.unscoped.all()] == ["denied", "denied"]


def test_the_page_sets_it_and_says_so(support, member):
    url = reverse("security:user_set_password", args=[member.pk])
    client = support.client()
    assert_page_says(client.get(url), 200, "Set the password of mia@example.com")
    response = client.post(
        url, {"password": "brand new secret", "password_again": "brand new secret"}, follow=True
    )
    assert "Set a new password for mia@example.com; signed out 2 sessions." in messages_on(response)


def test_the_command_reads_the_password_from_stdin_never_argv(support, member, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped in password\n"))
    call_command("set_password", member.email, "--as", support.gateway_user.email)
    stored = Account.unscoped.get(user_id=member.pk).password
    assert verify_password("piped in password", stored)
