"""Revoking one session, or all of a user's sessions; from the page, the list and the command."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from security.factories import GatewaySessionFactory
from security.models import GatewaySession
from security.moderation import selectors, services
from tests.pages import assert_not_found, assert_refused
from tests.security.moderation.conftest import audit_rows

pytestmark = pytest.mark.django_db


def sessions_of(user) -> int:
    return GatewaySession.unscoped.filter(user_id=user.pk).count()


def test_revoke_one_session_keeps_the_others(support, member, member_sessions):
    services.revoke_session(actor=support.actor, session_id=member_sessions[0].pk)
    assert list(GatewaySession.unscoped.filter(user_id=member.pk)) == [member_sessions[1]]
    (row,) = audit_rows("session.revoke")
    assert row.resource_id == member_sessions[0].pk and row.details["email"] == member.email
    assert member_sessions[0].token not in str(row.details)


def test_revoking_a_session_that_is_gone_says_so(support, member, member_sessions):
    services.revoke_session(actor=support.actor, session_id=member_sessions[0].pk)
    with pytest.raises(services.NotFound, match="no longer exists"):
        services.revoke_session(actor=support.actor, session_id=member_sessions[0].pk)
    assert len(audit_rows("session.revoke")) == 1


def test_revoke_all_sessions(support, member, member_sessions, member_b):
    GatewaySessionFactory.create(user=member_b)
    outcome = services.revoke_all_sessions(actor=support.actor, user_id=member.pk)
    assert outcome.sessions_deleted == 2
    assert sessions_of(member) == 0 and sessions_of(member_b) == 1
    (row,) = audit_rows("session.revoke_all")
    assert row.details["sessions_deleted"] == 2


def test_revoke_all_without_sessions_writes_nothing(support, member):
    assert services.revoke_all_sessions(actor=support.actor, user_id=member.pk).unchanged
    assert audit_rows("session.revoke_all") == []


def test_the_one_session_page_describes_the_device_then_revokes(support, member, member_sessions):
    session = member_sessions[0]
    url = reverse("security:session_revoke", args=[member.pk, session.pk])
    client = support.client()
    page = client.get(url).content.decode()
    assert session.ip_address in page and "Their other sessions stay." in page
    assert session.token not in page
    response = client.post(url, follow=True)
    assert "Revoked one session of mia@example.com." in response.content.decode()
    assert sessions_of(member) == 1


def test_a_session_of_another_user_is_left_alone_on_this_users_url(support, member, member_b):
    other = GatewaySessionFactory.create(user=member_b)
    url = reverse("security:session_revoke", args=[member.pk, other.pk])
    response = support.client().post(url, follow=True)
    assert "Nothing changed: mia@example.com has no such session any more" in (
        response.content.decode()
    )
    assert sessions_of(member_b) == 1


def test_revoking_a_session_twice_says_so_on_the_user_page(support, member, member_sessions):
    url = reverse("security:session_revoke", args=[member.pk, member_sessions[0].pk])
    client = support.client()
    client.post(url)
    for second in (client.get, client.post):  # the confirmation page, or its form, opened twice
        response = second(url, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == reverse(
            "admin:security_gatewayuser_change", args=[member.pk]
        )
        assert "has no such session any more (revoked, or it expired)" in (
            response.content.decode()
        )
    assert sessions_of(member) == 1 and len(audit_rows("session.revoke")) == 1


def test_a_session_revoked_while_its_page_was_open_says_so(support, member, member_sessions):
    url = reverse("security:session_revoke", args=[member.pk, member_sessions[0].pk])
    client = support.client()
    services.revoke_session(actor=support.actor, session_id=member_sessions[0].pk)
    with mock.patch.object(
        selectors, "user_sessions", return_value=[{"id": member_sessions[0].pk}]
    ):
        response = client.post(url)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "has no such session any more" in page


def test_a_malformed_session_id_is_404(support, member):
    response = support.client().get(f"/security/users/{member.pk}/sessions/a%00b/revoke/")
    assert_not_found(response)


def test_the_all_sessions_page_then_post(support, member, member_sessions):
    url = reverse("security:user_revoke_sessions", args=[member.pk])
    client = support.client()
    assert "Every session of each user below is deleted" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "2 sessions deleted" in response.content.decode()
    assert sessions_of(member) == 0


def test_bulk_revoke_from_the_list(support, member, member_sessions, member_b):
    GatewaySessionFactory.create(user=member_b)
    support.client().post(
        "/admin/security/gatewayuser/",
        {
            "action": "revoke_sessions_selected",
            "_selected_action": [member.pk, member_b.pk],
            "post": "yes",
        },
    )
    assert not GatewaySession.unscoped.exists()
    assert len(audit_rows("session.revoke_all")) == 2


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_moderation_get_403(request, persona, member, member_sessions):
    client = request.getfixturevalue(persona).client()
    one = reverse("security:session_revoke", args=[member.pk, member_sessions[0].pk])
    every = reverse("security:user_revoke_sessions", args=[member.pk])
    assert_refused(client.post(one))
    assert_refused(client.post(every))
    assert sessions_of(member) == 2


def test_the_command_revokes_all_or_one(support, member, member_sessions, capsys):
    staff = support.gateway_user.email
    call_command("revoke_sessions", "--session", member_sessions[0].pk, "--as", staff)
    assert sessions_of(member) == 1
    call_command("revoke_sessions", "mia", "--as", staff)
    assert sessions_of(member) == 0
    with pytest.raises(CommandError, match="Name at least one user"):
        call_command("revoke_sessions", "--as", staff)


def test_revoking_an_expired_session_says_it_had_already_ended(support, member):
    expired = GatewaySessionFactory.create(user=member, expired=True)
    url = reverse("security:session_revoke", args=[member.pk, expired.pk])
    client = support.client()
    page = client.get(url).content.decode()
    assert "already expired" in page and "is not signed in with it" in page
    assert "is signed out on that device" not in page
    response = client.post(url, follow=True)
    html = response.content.decode()
    assert "had already expired" in html and "nobody was signed out" in html
    assert "Revoked one session" not in html
    assert sessions_of(member) == 0
    (row,) = audit_rows("session.revoke")
    assert row.details["already_expired"] is True
