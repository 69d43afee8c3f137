"""Back-office sessions: listed to their owner, ended by idleness, age, sign-out or a ban."""

import datetime as dt
import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditLog
from security.factories import StaffSessionFactory
from security.models import GatewayUser, StaffSession
from security.moderation import services as moderation
from tests.conftest import PERSONA_PASSWORD, make_persona
from tests.pages import assert_page_says, messages_on
from tests.security.second_factor.conftest import VERIFY_URL

pytestmark = pytest.mark.django_db

URL = "/security/sessions/"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
ENDED_ELSEWHERE = "You were signed out: this session was ended from another one."


def _signed_in(persona, address="203.0.113.7", agent=FIREFOX) -> Client:
    client = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    response = client.post(
        "/admin/login/",
        {"username": persona.gateway_user.email, "password": PERSONA_PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    # Then the second factor, as every staff sign-in asks.
    response = client.post(VERIFY_URL, {"code": persona.totp_code()})
    assert response.status_code == 302, response.content.decode()[:300]
    return client


def _is_signed_out(client: Client, message: str | None = None) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    if message is not None:
        assert message in messages_on(client.get(response["Location"]))
    assert client.get("/admin/").status_code == 302


def test_signing_in_records_the_session_without_its_key():
    persona = make_persona("support")
    client = _signed_in(persona)
    key = client.session.session_key
    assert key is not None
    row = StaffSession.objects.get(django_user=persona.django_user)
    assert (row.user_agent, row.ip_address) == (FIREFOX, "203.0.113.7")
    assert row.key_digest == hashlib.sha256(key.encode()).hexdigest() != key


def test_the_list_shows_own_sessions_and_marks_this_one():
    persona = make_persona("auditor")
    laptop = _signed_in(persona, "203.0.113.7")
    _signed_in(persona, "198.51.100.20", "curl/8.5.0")
    someone_else = make_persona("auditor")
    _signed_in(someone_else, "192.0.2.99")
    html = assert_page_says(laptop.get(URL), 200, "Your back-office sessions", "This session")
    assert "Firefox on Linux" in html and "curl" in html
    assert "203.0.113.7" in html and "198.51.100.20" in html
    assert "192.0.2.99" not in html  # another person's session
    assert html.count("This session") == 1
    key = laptop.session.session_key
    assert key is not None and key not in html
    assert hashlib.sha256(key.encode()).hexdigest() not in html


def test_sign_out_other_sessions_keeps_this_one_and_is_audited():
    persona = make_persona("support")
    laptop, phone = _signed_in(persona), _signed_in(persona, "198.51.100.20")
    response = laptop.post(URL, {"scope": "others"})
    assert response.status_code == 302 and response["Location"] == URL
    assert "Signed out 1 other session." in messages_on(laptop.get(URL))
    _is_signed_out(phone, ENDED_ELSEWHERE)
    assert laptop.get("/admin/").status_code == 200
    row = AuditLog.unscoped.get(action="staff.sign_out_sessions")
    assert (row.actor_id, row.outcome) == (persona.gateway_user.id, "success")
    assert (row.details["scope"], row.details["ended"]) == ("others", 1)


def test_sign_out_everywhere_ends_this_session_too():
    persona = make_persona("tenant_admin")
    laptop, phone = _signed_in(persona), _signed_in(persona, "198.51.100.20")
    response = laptop.post(URL, {"scope": "all"})
    assert response.status_code == 302 and response["Location"] == "/admin/login/"
    _is_signed_out(laptop)
    _is_signed_out(phone, ENDED_ELSEWHERE)
    assert not StaffSession.objects.filter(django_user=persona.django_user).exists()
    row = AuditLog.unscoped.get(action="staff.sign_out_sessions")
    assert (row.details["scope"], row.details["ended"]) == ("all", 2)


def test_an_unknown_scope_is_a_clear_400_and_changes_nothing():
    persona = make_persona("support")
    laptop, phone = _signed_in(persona), _signed_in(persona, "198.51.100.20")
    assert_page_says(laptop.post(URL, {"scope": "x\x00"}), 400, "Bad request")
    assert phone.get("/admin/").status_code == 200
    assert not AuditLog.unscoped.filter(action="staff.sign_out_sessions").exists()


def test_signing_out_removes_the_session_from_the_list():
    persona = make_persona("support")
    laptop, phone = _signed_in(persona), _signed_in(persona, "198.51.100.20")
    assert laptop.post("/admin/logout/").status_code == 200
    assert StaffSession.objects.filter(django_user=persona.django_user).count() == 1
    html = assert_page_says(phone.get(URL), 200, "This session")
    assert "203.0.113.7" not in html


def test_an_idle_session_ends_after_the_configured_minutes(settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    persona = make_persona("support")
    client = _signed_in(persona)
    assert client.get("/admin/").status_code == 200
    StaffSession.objects.update(last_active_at=timezone.now() - dt.timedelta(minutes=4))
    assert client.get("/admin/").status_code == 200  # active again: the idle clock restarts
    assert StaffSession.objects.get().last_active_at > timezone.now() - dt.timedelta(minutes=1)
    StaffSession.objects.update(last_active_at=timezone.now() - dt.timedelta(minutes=6))
    _is_signed_out(client, "You were signed out after 5 minutes without activity.")
    assert not StaffSession.objects.exists()


def test_an_active_session_still_ends_at_its_absolute_lifetime(settings):
    settings.SESSION_MAX_AGE_HOURS = 2
    persona = make_persona("auditor")
    client = _signed_in(persona)
    StaffSession.objects.update(signed_in_at=timezone.now() - dt.timedelta(hours=2, minutes=1))
    _is_signed_out(client, "You were signed out: sessions last at most 2 hours. Sign in again.")


def test_a_ban_noticed_in_one_session_ends_the_others_even_after_an_unban():
    persona = make_persona("support")
    laptop, phone = _signed_in(persona), _signed_in(persona, "198.51.100.20")
    GatewayUser.unscoped.filter(pk=persona.gateway_user.pk).update(banned=True)
    _is_signed_out(laptop, "You were signed out: This account is banned from the gateway.")
    GatewayUser.unscoped.filter(pk=persona.gateway_user.pk).update(banned=False)
    _is_signed_out(phone, ENDED_ELSEWHERE)


def test_banning_through_the_service_ends_back_office_sessions(admin):
    persona = make_persona("support")
    laptop = _signed_in(persona)
    moderation.ban_user(
        actor=admin.actor, user_id=persona.gateway_user.pk, reason="lost laptop", expires_at=None
    )
    assert not StaffSession.objects.filter(django_user=persona.django_user).exists()
    moderation.unban_user(actor=admin.actor, user_id=persona.gateway_user.pk)
    _is_signed_out(laptop, ENDED_ELSEWHERE)


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_sessions_that_expired_unused_are_not_listed(settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    persona = make_persona("support")
    laptop = _signed_in(persona)
    _signed_in(persona, "198.51.100.20")
    # A third sign-in within the same minute would need a third TOTP code: its row will do.
    StaffSessionFactory.create(django_user=persona.django_user, ip_address="192.0.2.30")
    StaffSession.objects.filter(ip_address="198.51.100.20").update(
        last_active_at=timezone.now() - dt.timedelta(minutes=31)
    )
    StaffSession.objects.filter(ip_address="192.0.2.30").update(
        signed_in_at=timezone.now() - dt.timedelta(hours=settings.SESSION_MAX_AGE_HOURS + 1)
    )
    html = assert_page_says(laptop.get(URL), 200, "203.0.113.7")
    assert "198.51.100.20" not in html and "192.0.2.30" not in html
    assert StaffSession.objects.filter(django_user=persona.django_user).count() == 1


def test_passing_the_second_factor_keeps_one_row_for_the_session():
    """django-otp cycles the session key on verification: the row follows it, no ghost."""
    persona = make_persona("auditor")
    laptop = _signed_in(persona)
    rows = StaffSession.objects.filter(django_user=persona.django_user)
    assert rows.count() == 1
    key = laptop.session.session_key
    assert key is not None
    assert rows.get().key_digest == hashlib.sha256(key.encode()).hexdigest()
    html = assert_page_says(laptop.get(URL), 200, "This session")
    assert html.count("This session") == 1
