"""Banning a user: the service, its confirmation page, the bulk action and the command."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from audit.models import AuditLog
from backoffice import staff_audit
from backoffice.operations import Refused
from security.factories import GatewayUserFactory
from security.models import GatewaySession, GatewayUser, ImpersonationRecord
from security.moderation import services
from tests.concurrency import at_once
from tests.conftest import make_persona
from tests.pages import assert_not_found, assert_page_says, assert_refused
from tests.security.moderation.conftest import audit_rows

pytestmark = pytest.mark.django_db


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reload(user: GatewayUser) -> GatewayUser:
    return GatewayUser.unscoped.get(pk=user.pk)


# --- the service --------------------------------------------------------------------------


def test_ban_sets_better_auth_fields_deletes_sessions_and_audits(support, member, member_sessions):
    before_update = reload(member).updated_at
    until = now() + dt.timedelta(days=7)

    outcome = services.ban_user(
        actor=support.actor, user_id=member.pk, reason="Spam", expires_at=until
    )

    user = reload(member)
    assert (user.banned, user.ban_reason) == (True, "Spam")
    assert abs(user.ban_expires - until) < dt.timedelta(seconds=1)
    assert user.updated_at > before_update
    assert not GatewaySession.unscoped.filter(user_id=member.pk).exists()
    assert outcome.changed == [member.email] and outcome.sessions_deleted == 2
    (row,) = audit_rows("user.ban")
    assert (row.actor_id, row.actor_type, row.resource_id) == (
        support.gateway_user.id,
        "staff",
        member.pk,
    )
    assert row.tenant_id == member.tenant_id
    assert row.details["before"]["banned"] is False
    assert row.details["after"]["ban_reason"] == "Spam"
    assert row.details["sessions_deleted"] == 2
    assert "token" not in str(row.details)


def test_permanent_ban_has_no_expiry(support, member):
    services.ban_user(actor=support.actor, user_id=member.pk, reason="Fraud", expires_at=None)
    user = reload(member)
    assert user.banned and user.ban_expires is None


def test_banning_deletes_impersonation_sessions_and_records_them_as_ended(
    support, member, impersonation
):
    services.ban_user(actor=support.actor, user_id=member.pk, reason="Spam", expires_at=None)
    record = ImpersonationRecord.unscoped.get(session_id=impersonation.pk)
    assert record.ended_at is not None and record.ended_by == support.gateway_user.email
    assert record.status == "ended"


def test_nobody_can_ban_themselves(support):
    with pytest.raises(Refused, match="themselves"):
        services.ban_user(
            actor=support.actor, user_id=support.gateway_user.pk, reason="x", expires_at=None
        )
    assert not reload(support.gateway_user).banned
    (denied,) = audit_rows("user.ban")
    assert denied.outcome == "denied" and denied.resource_id == support.gateway_user.pk


def test_support_cannot_ban_an_admin_and_the_attempt_is_audited(support, admin):
    with pytest.raises(Refused, match="Only an admin"):
        services.ban_user(
            actor=support.actor, user_id=admin.gateway_user.pk, reason="x", expires_at=None
        )
    assert not reload(admin.gateway_user).banned
    (denied,) = audit_rows("user.ban")
    assert denied.outcome == "denied"
    assert denied.details["reason"].startswith("Only an admin may ban")


def test_an_admin_may_ban_another_admin(admin):
    other_admin = make_persona("admin")
    services.ban_user(
        actor=admin.actor, user_id=other_admin.gateway_user.pk, reason="Left", expires_at=None
    )
    assert reload(other_admin.gateway_user).banned


def test_roles_without_moderation_cannot_ban(auditor, tenant_admin_a, member):
    for persona in (auditor, tenant_admin_a):
        with pytest.raises(PermissionDenied):
            services.ban_user(actor=persona.actor, user_id=member.pk, reason="x", expires_at=None)
    assert not reload(member).banned
    assert [row.outcome for row in audit_rows("user.ban")] == ["denied", "denied"]


def test_a_ban_must_end_in_the_future(support, member):
    with pytest.raises(ValueError, match="future"):
        services.ban_user(
            actor=support.actor,
            user_id=member.pk,
            reason="x",
            expires_at=now() - dt.timedelta(minutes=1),
        )
    assert not reload(member).banned and not audit_rows("user.ban")


def test_banning_again_with_the_same_reason_and_end_changes_nothing(support, member):
    until = now() + dt.timedelta(days=7)
    services.ban_user(actor=support.actor, user_id=member.pk, reason="Spam", expires_at=until)
    # A double click on "7 days": the second end is a few seconds later.
    outcome = services.ban_user(
        actor=support.actor,
        user_id=member.pk,
        reason="Spam",
        expires_at=until + dt.timedelta(seconds=3),
    )
    assert outcome.unchanged == [member.email] and not outcome.amended
    assert len(audit_rows("user.ban")) == 1


def test_a_ban_in_force_can_be_changed_without_being_lifted(support, member):
    first_end = now() + dt.timedelta(days=7)
    services.ban_user(actor=support.actor, user_id=member.pk, reason="Spam", expires_at=first_end)
    with mock.patch.object(services, "delete_sessions", wraps=services.delete_sessions) as deleting:
        outcome = services.ban_user(
            actor=support.actor, user_id=member.pk, reason="Fraud, confirmed", expires_at=None
        )
    assert outcome.amended == [member.email] and not outcome.changed
    # Changed in place, no unban in between: one ban (its sessions, and impersonations they run).
    assert deleting.call_count == 2
    user = reload(member)
    assert (user.banned, user.ban_reason, user.ban_expires) == (True, "Fraud, confirmed", None)
    _, second = audit_rows("user.ban")
    assert second.details["before"]["ban_reason"] == "Spam"
    assert second.details["before"]["banned"] is True
    assert second.details["after"] == {
        "banned": True,
        "ban_reason": "Fraud, confirmed",
        "ban_expires": None,
    }
    assert not audit_rows("user.unban")


def test_the_ban_page_of_a_banned_user_changes_the_ban(support, member):
    services.ban_user(actor=support.actor, user_id=member.pk, reason="Spam", expires_at=None)
    client = support.client()
    page = client.get(ban_url(member)).content.decode()
    assert "Change the ban of mia@example.com" in page
    assert "Their ban stays in force" in page
    assert "\nSpam</textarea>" in page  # the form starts from the current ban
    response = client.post(ban_url(member), {"reason": "Spam, again", "length": "30d"}, follow=True)
    assert "Changed the ban of mia@example.com; it stays in force." in response.content.decode()
    user = reload(member)
    assert user.banned and user.ban_reason == "Spam, again"
    assert dt.timedelta(days=29) < user.ban_expires - now() <= dt.timedelta(days=30)


def test_the_user_page_of_a_banned_user_offers_to_change_the_ban(support, member):
    services.ban_user(actor=support.actor, user_id=member.pk, reason="Spam", expires_at=None)
    page = (
        support.client()
        .get(reverse("admin:security_gatewayuser_change", args=[member.pk]))
        .content.decode()
    )
    assert f'href="{ban_url(member)}" class="moderation-action">Change the ban</a>' in page
    assert "Lift the ban" in page


def test_banning_again_with_the_same_ban_says_nothing_changed_in_words_first(support, member):
    services.ban_user(actor=support.actor, user_id=member.pk, reason="Spam", expires_at=None)
    response = support.client().post(
        ban_url(member), {"reason": "Spam", "length": "permanent"}, follow=True
    )
    assert "Nothing changed: mia@example.com is already banned like this." in (
        response.content.decode()
    )


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_a_ban_needs_a_reason(support, member, reason):
    with pytest.raises(ValueError, match="A ban needs a reason"):
        services.ban_user(actor=support.actor, user_id=member.pk, reason=reason, expires_at=None)
    assert not reload(member).banned and not audit_rows("user.ban")


@pytest.mark.parametrize(
    ("expires_at", "message"),
    [
        (dt.datetime(3000, 1, 2, tzinfo=dt.UTC), "too far away"),
        (
            dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            "too far away",
        ),
        (dt.datetime(2030, 1, 1), "needs a time zone"),
    ],
)
def test_a_ban_end_out_of_range_is_refused(support, member, expires_at, message):
    with pytest.raises(ValueError, match=message):
        services.ban_user(actor=support.actor, user_id=member.pk, reason="x", expires_at=expires_at)
    assert not reload(member).banned and not audit_rows("user.ban")


def test_a_user_whose_ban_expired_can_be_banned_again(support, tenant_a):
    user = GatewayUserFactory.create(tenant=tenant_a, banned_expired=True)
    services.ban_user(actor=support.actor, user_id=user.pk, reason="Again", expires_at=None)
    assert reload(user).ban_reason == "Again" and reload(user).ban_expires is None


def test_change_and_audit_row_commit_together(support, member, member_sessions):
    """A failure after the audit row was written leaves neither the ban nor the row."""
    real_record = staff_audit.record_staff_action

    def record_then_fail(**kwargs):
        real_record(**kwargs)
        raise RuntimeError("the database went away")

    with (
        mock.patch.object(services, "record_staff_action", side_effect=record_then_fail),
        pytest.raises(RuntimeError),
    ):
        services.ban_user(actor=support.actor, user_id=member.pk, reason="x", expires_at=None)

    assert not reload(member).banned
    assert GatewaySession.unscoped.filter(user_id=member.pk).count() == 2
    assert not AuditLog.unscoped.filter(action="user.ban").exists()


def test_bulk_ban_is_all_or_nothing(support, admin, member, member_b):
    with pytest.raises(Refused):
        services.ban_users(
            actor=support.actor,
            user_ids=[member.pk, admin.gateway_user.pk, member_b.pk],
            reason="x",
            expires_at=None,
        )
    assert not GatewayUser.unscoped.filter(banned=True).exists()
    assert [row.outcome for row in audit_rows("user.ban")] == ["denied"]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_bans_of_one_user_write_one_audit_row(support, member):
    """The row lock makes the second ban wait, then find the user already banned."""
    at_once(
        lambda _: services.ban_user(
            actor=support.actor, user_id=member.pk, reason="Spam", expires_at=None
        ),
        4,
    )
    assert reload(member).banned
    assert AuditLog.unscoped.filter(action="user.ban").count() == 1


# --- the confirmation page ------------------------------------------------------------------


def ban_url(user: GatewayUser) -> str:
    return reverse("security:user_ban", args=[user.pk])


def test_the_page_says_what_will_happen(support, member, member_sessions):
    response = support.client().get(ban_url(member))
    assert response.status_code == 200
    page = response.content.decode()
    assert "What will happen" in page
    assert "All of their sessions are deleted" in page
    assert "mia@example.com" in page
    assert "no-store" in response["Cache-Control"]
    for session in member_sessions:
        assert session.token not in page


def test_the_reason_is_marked_required(support, member):
    page = support.client().get(ban_url(member)).content.decode()
    assert '<label for="id_reason" class="required">Reason:</label>' in page


def test_banning_for_seven_days_from_the_page(support, member, member_sessions):
    response = support.client().post(
        ban_url(member), {"reason": "Scraping", "length": "7d"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(
        "admin:security_gatewayuser_change", args=[member.pk]
    )
    assert "Banned mia@example.com; signed out 2 sessions." in response.content.decode()
    user = reload(member)
    assert user.banned and user.ban_reason == "Scraping"
    assert dt.timedelta(days=6, hours=23) < user.ban_expires - now() <= dt.timedelta(days=7)


def test_banning_until_a_chosen_time(support, member):
    support.client().post(
        ban_url(member), {"reason": "Cool off", "length": "until", "until": "2031-05-01T12:30"}
    )
    assert reload(member).ban_expires == dt.datetime(2031, 5, 1, 12, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "", "length": "permanent"}, "This field is required."),
        ({"reason": "x", "length": "until", "until": "next tuesday"}, "Enter a date and time"),
        ({"reason": "x", "length": "until", "until": "2020-01-01T00:00"}, "must be in the future"),
        ({"reason": "x", "length": "until", "until": "99999-01-01T00:00"}, "Enter a date and time"),
        ({"reason": "x", "length": "until", "until": "3000-01-01T00:00"}, "too far away"),
        ({"reason": "   ", "length": "permanent"}, "This field is required."),
        ({"reason": "x", "length": "until", "until": ""}, "Choose when the ban ends."),
        ({"reason": "x", "length": "forever"}, "Select a valid choice."),
        ({"reason": "a\x00b", "length": "permanent"}, "Null characters are not allowed."),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(support, member, data, message):
    response = support.client().post(ban_url(member), data)
    # A form sent back with errors is a 400 on every page (it was 200 here, 400 for API keys).
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not reload(member).banned
    assert not AuditLog.unscoped.filter(action="user.ban").exists()


def test_the_page_refuses_a_self_ban_before_and_on_submit(support):
    url = ban_url(support.gateway_user)
    client = support.client()
    page = client.get(url).content.decode()
    assert "Nobody can ban themselves." in page
    assert 'value="Ban"' not in page
    response = client.post(url, {"reason": "x", "length": "permanent"})
    assert_page_says(response, 403, "Nobody can ban themselves.")
    assert not reload(support.gateway_user).banned


def test_support_cannot_ban_an_admin_from_the_page(support, admin):
    response = support.client().post(
        ban_url(admin.gateway_user), {"reason": "x", "length": "permanent"}
    )
    assert_page_says(response, 403, f"Only an admin may ban {admin.gateway_user.email}")
    assert not reload(admin.gateway_user).banned
    assert audit_rows("user.ban")[0].outcome == "denied"


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_moderation_get_403(request, persona, member):
    client = request.getfixturevalue(persona).client()
    assert_refused(client.get(ban_url(member)))
    assert_refused(client.post(ban_url(member), {"reason": "x", "length": "permanent"}))
    assert not reload(member).banned
    assert AuditLog.unscoped.filter(action="staff.access", outcome="denied").count() == 2


def test_signed_out_and_plain_users_are_sent_to_sign_in(client, plain_user, member):
    for browser in (client, plain_user.client()):
        response = browser.get(ban_url(member))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("user_id", ["no-such-user", "a%00b"])
def test_unknown_or_malformed_ids_are_404(support, user_id):
    response = support.client().get(f"/security/users/{user_id}/ban/")
    assert_not_found(response)


# --- the bulk action ------------------------------------------------------------------------


CHANGELIST = "/admin/security/gatewayuser/"


def test_bulk_ban_shows_a_confirmation_page_first(support, member, member_b):
    response = support.client().post(
        CHANGELIST, {"action": "ban_selected", "_selected_action": [member.pk, member_b.pk]}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ban 2 users" in page and "bo@example.com" in page and "mia@example.com" in page
    assert not GatewayUser.unscoped.filter(banned=True).exists()


def test_bulk_ban_bans_every_selected_user(support, member, member_b, member_sessions):
    response = support.client().post(
        CHANGELIST,
        {
            "action": "ban_selected",
            "_selected_action": [member.pk, member_b.pk],
            "post": "yes",
            "reason": "Spam wave",
            "length": "30d",
        },
        follow=True,
    )
    assert "Banned 2 users: " in response.content.decode()
    assert GatewayUser.unscoped.filter(banned=True, ban_reason="Spam wave").count() == 2
    assert len(audit_rows("user.ban")) == 2
    assert not GatewaySession.unscoped.exists()


def test_bulk_ban_including_an_admin_bans_nobody(support, admin, member):
    response = support.client().post(
        CHANGELIST,
        {
            "action": "ban_selected",
            "_selected_action": [member.pk, admin.gateway_user.pk],
            "post": "yes",
            "reason": "x",
            "length": "permanent",
        },
    )
    assert_page_says(response, 403, "Nothing was changed.")
    assert not GatewayUser.unscoped.filter(banned=True).exists()


def test_bulk_ban_with_a_bad_date_writes_nothing(support, member):
    response = support.client().post(
        CHANGELIST,
        {
            "action": "ban_selected",
            "_selected_action": [member.pk],
            "post": "yes",
            "reason": "x",
            "length": "until",
            "until": "2024-02-30T10:00",
        },
    )
    assert response.status_code == 400
    assert "Enter a date and time" in response.content.decode()
    assert not reload(member).banned


@pytest.mark.parametrize("selection", [["a\x00b"], ["x" * 500]])
def test_malformed_ids_in_the_selection_change_nothing(support, member, selection):
    response = support.client().post(
        CHANGELIST,
        {"action": "ban_selected", "_selected_action": [member.pk, *selection], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert "nothing changed" in response.content.decode()
    assert not reload(member).banned


# --- the command ----------------------------------------------------------------------------


def test_the_command_bans_through_the_same_service(support, member, member_sessions, capsys):
    call_command(
        "ban_user",
        "mia@example.com",
        "--reason",
        "Abuse",
        "--days",
        "7",
        "--as",
        support.gateway_user.email,
    )
    user = reload(member)
    assert user.banned and user.ban_reason == "Abuse"
    (row,) = audit_rows("user.ban")
    assert row.actor_id == support.gateway_user.id and row.user_agent == "manage.py"
    assert "Banned: mia@example.com" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until", "soon"], "is not a time"),
        (["--days", "0"], "--days must be"),
        (["--days", "99999999"], "--days must be"),
        (["--until", "9999-12-31T23:59:59-05:00"], "too far away: choose a permanent ban"),
        (["--until", "3000-01-01T00:00Z"], "too far away: choose a permanent ban"),
        (["--until", "2020-01-01T00:00Z"], "must be in the future"),
    ],
)
def test_the_command_rejects_bad_lengths(support, member, args, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "ban_user", member.email, "--reason", "x", *args, "--as", support.gateway_user.email
        )
    assert not reload(member).banned


@pytest.mark.parametrize("reason", ["", "  "])
def test_the_command_refuses_a_blank_reason(support, member, reason):
    with pytest.raises(CommandError, match="A ban needs a reason"):
        call_command(
            "ban_user", member.email, "--reason", reason, "--as", support.gateway_user.email
        )
    assert not reload(member).banned


def test_the_command_refuses_what_the_page_refuses(support, admin):
    with pytest.raises(CommandError, match="Only an admin"):
        call_command(
            "ban_user",
            admin.gateway_user.email,
            "--reason",
            "x",
            "--as",
            support.gateway_user.email,
        )
    with pytest.raises(CommandError, match="No user"):
        call_command(
            "ban_user", "nobody@example.com", "--reason", "x", "--as", support.gateway_user.email
        )
    with pytest.raises(CommandError, match="No gateway user"):
        call_command("ban_user", "x@example.com", "--reason", "x", "--as", "ghost@example.com")
