"""Lockout counts per person and address; each address is rate-limited; only a trusted proxy
header names the client. Every refusal is the back office's 429 page, and each event is audited
once."""

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client

from audit.models import AuditLog
from security.client_address import client_ip
from security.models import GatewayUser
from tests.conftest import PERSONA_PASSWORD, make_persona
from tests.pages import assert_page_says
from tests.security.second_factor.conftest import VERIFY_URL

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/?next=/admin/"
LOCKED_OUT = "Account locked: too many login attempts. Please try again later."
TOO_MANY = "Too many sign-in attempts from your address."
WRONG_CREDENTIALS = "Please enter the correct username and password for a staff account."
HERE, ELSEWHERE = "203.0.113.7", "198.51.100.20"


def _sign_in(client: Client, username: str, password: str, **headers: Any):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **headers)


@pytest.fixture
def auditor():
    persona = make_persona("auditor", email="auditor@gateway.example")
    GatewayUser.unscoped.filter(pk=persona.gateway_user.pk).update(username="auditor")
    return persona


def _fail(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        assert_page_says(_sign_in(client, username, "wrong"), 200, WRONG_CREDENTIALS)


def test_failures_as_the_email_in_any_spelling_lock_the_username_too(auditor, settings):
    here = Client(REMOTE_ADDR=HERE)
    _fail(here, "Auditor@Gateway.Example ", settings.AXES_FAILURE_LIMIT - 1)
    assert_page_says(_sign_in(here, "Auditor@Gateway.Example ", "wrong"), 429, LOCKED_OUT)
    # The right password, typed as the username, is locked out from that address as well.
    html = assert_page_says(_sign_in(here, "auditor", PERSONA_PASSWORD), 429, LOCKED_OUT)
    assert "MCP Gateway back office" in html  # the back office's own page, not a bare text
    assert_page_says(_sign_in(here, " AUDITOR ", PERSONA_PASSWORD), 429, LOCKED_OUT)
    # One counter for the person: all the spellings were counted against the same key.
    assert set(AccessAttempt.objects.values_list("username", "ip_address")) == {
        ("auditor@gateway.example", HERE)
    }


def test_a_lockout_from_one_address_does_not_lock_the_person_out_elsewhere(auditor, settings):
    here = Client(REMOTE_ADDR=HERE)
    _fail(here, "auditor", settings.AXES_FAILURE_LIMIT - 1)
    assert_page_says(_sign_in(here, "auditor", "wrong"), 429, LOCKED_OUT)
    elsewhere = Client(REMOTE_ADDR=ELSEWHERE)
    response = _sign_in(elsewhere, "auditor@gateway.example", PERSONA_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    # The password was taken: what remains is the second factor, not a lockout.
    assert elsewhere.get("/admin/")["Location"].startswith(VERIFY_URL)


def test_switching_between_email_and_username_does_not_reset_the_count(auditor, settings):
    here = Client(REMOTE_ADDR=HERE)
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        name = "auditor" if attempt % 2 else "AUDITOR@gateway.example"
        assert_page_says(_sign_in(here, name, "wrong"), 200, WRONG_CREDENTIALS)
    assert_page_says(_sign_in(here, "auditor", "wrong"), 429, LOCKED_OUT)


def test_unknown_names_are_counted_without_case_or_spaces(settings):
    here = Client(REMOTE_ADDR=HERE)
    spellings = ["Ghost@Example.com", " ghost@example.com", "GHOST@EXAMPLE.COM "]
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _fail(here, spellings[attempt % len(spellings)], 1)
    assert_page_says(_sign_in(here, "ghost@example.com", "wrong"), 429, LOCKED_OUT)
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["ghost@example.com"]


def test_the_lockout_is_audited_once_with_the_person_and_address(auditor, settings):
    here = Client(REMOTE_ADDR=HERE)
    _fail(here, "auditor", settings.AXES_FAILURE_LIMIT - 1)
    for _ in range(3):
        assert_page_says(_sign_in(here, "auditor", "wrong"), 429, LOCKED_OUT)
    rows = AuditLog.unscoped.filter(action="staff.lockout")
    assert [(r.actor_id, r.outcome, str(r.ip_address)) for r in rows] == [
        (auditor.gateway_user.id, "denied", HERE)
    ]
    assert rows.get().details["failures"] == settings.AXES_FAILURE_LIMIT


def test_a_lockout_of_nobody_is_audited_without_what_was_typed(settings):
    _fail(Client(REMOTE_ADDR=HERE), "maybe-my-password", settings.AXES_FAILURE_LIMIT - 1)
    _sign_in(Client(REMOTE_ADDR=HERE), "maybe-my-password", "wrong")
    row = AuditLog.unscoped.get(action="staff.lockout")
    assert (row.actor_id, row.details["person"]) == (None, "unknown")
    assert "maybe-my-password" not in str(row.details)


# --- The per-address rate limit ----------------------------------------------------------------


def test_one_address_trying_many_people_is_rate_limited(settings):
    settings.SIGN_IN_RATE_LIMIT = 6
    # A day-long window: the attempts below (scrypt, seconds each) must not straddle two.
    settings.SIGN_IN_RATE_WINDOW_SECONDS = 86400
    people = [make_persona("support", email=f"p{n}@example.com") for n in range(8)]
    here = Client(REMOTE_ADDR=HERE)
    for person in people[:6]:
        # One wrong password each: far below any person's lockout.
        _fail(here, person.gateway_user.email, 1)
    response = _sign_in(here, people[6].gateway_user.email, PERSONA_PASSWORD)
    assert_page_says(response, 429, TOO_MANY, "MCP Gateway back office")
    assert 1 <= int(response["Retry-After"]) <= 86400
    # Refused before the password was tried: no sign-in row, no session.
    assert not AuditLog.unscoped.filter(action="staff.sign_in", actor_id=people[6].gateway_user.id)
    assert here.get("/admin/").status_code == 302
    # Another address is not affected.
    other = Client(REMOTE_ADDR=ELSEWHERE)
    assert _sign_in(other, people[7].gateway_user.email, PERSONA_PASSWORD).status_code == 302


def test_the_rate_limit_is_audited_once_per_window(settings):
    settings.SIGN_IN_RATE_LIMIT = 2
    settings.SIGN_IN_RATE_WINDOW_SECONDS = 86400
    here = Client(REMOTE_ADDR=HERE)
    for n in range(6):
        _sign_in(here, f"n{n}@example.com", "wrong")
    rows = AuditLog.unscoped.filter(action="staff.sign_in_rate_limited")
    assert [(str(r.ip_address), r.outcome, r.details["limit"]) for r in rows] == [
        (HERE, "denied", 2)
    ]


# --- The client's address behind a proxy -------------------------------------------------------


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(auditor, settings):
    settings.TRUSTED_PROXY_HEADER = ""
    here = Client(REMOTE_ADDR=HERE)
    for n in range(settings.AXES_FAILURE_LIMIT):
        # A new made-up address on every attempt cannot escape the count.
        _sign_in(here, "auditor", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert_page_says(
        _sign_in(here, "auditor", PERSONA_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99"),
        429,
        LOCKED_OUT,
    )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {HERE}
    rows = AuditLog.unscoped.filter(action="staff.sign_in", actor_id=auditor.gateway_user.id)
    assert {str(row.ip_address) for row in rows} == {HERE}


def test_behind_a_trusted_proxy_clients_are_told_apart_by_its_header(auditor, settings):
    settings.TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    # The client's own claim (left) is not believed; the proxy's entry (right) is.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(proxy, "auditor", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.50, {HERE}")
    locked = _sign_in(proxy, "auditor", PERSONA_PASSWORD, HTTP_X_FORWARDED_FOR=HERE)
    assert_page_says(locked, 429, LOCKED_OUT)
    # Another client behind the same proxy signs in: the proxy's address is not the key.
    response = _sign_in(proxy, "auditor", PERSONA_PASSWORD, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert response.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {HERE}
    success = AuditLog.unscoped.get(
        action="staff.sign_in", actor_id=auditor.gateway_user.id, outcome="success"
    )
    assert str(success.ip_address) == ELSEWHERE


@pytest.mark.parametrize(
    ("header", "count", "forwarded", "expected"),
    [
        ("", 1, "192.0.2.1", "10.0.0.1"),  # not configured: the header means nothing
        ("HTTP_X_FORWARDED_FOR", 1, None, "10.0.0.1"),  # a direct request
        ("HTTP_X_FORWARDED_FOR", 1, "192.0.2.1, 198.51.100.2", "198.51.100.2"),
        ("HTTP_X_FORWARDED_FOR", 2, "192.0.2.1, 198.51.100.2, 10.0.0.9", "198.51.100.2"),
        ("HTTP_X_FORWARDED_FOR", 2, "198.51.100.2", "10.0.0.1"),  # fewer hops than proxies
        ("HTTP_X_FORWARDED_FOR", 1, "not-an-address", "10.0.0.1"),
        ("HTTP_X_FORWARDED_FOR", 1, "[2001:db8::1]:443", "2001:db8::1"),
        ("HTTP_X_REAL_IP", 1, None, "10.0.0.1"),  # another header configured: XFF ignored
    ],
)
def test_client_address(rf, settings, header, count, forwarded, expected):
    settings.TRUSTED_PROXY_HEADER = header
    settings.TRUSTED_PROXY_COUNT = count
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    if header == "HTTP_X_REAL_IP":
        extra = {"HTTP_X_FORWARDED_FOR": "192.0.2.1"}
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", **extra)
    assert client_ip(request) == expected


def test_signing_in_clears_the_persons_failures_from_that_address(auditor, settings):
    here = Client(REMOTE_ADDR=HERE)
    _fail(here, "Auditor@Gateway.Example", settings.AXES_FAILURE_LIMIT - 1)
    assert _sign_in(here, "auditor", PERSONA_PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()
    # A fresh count: as many wrong passwords again before the lock.
    _fail(Client(REMOTE_ADDR=HERE), "auditor", settings.AXES_FAILURE_LIMIT - 1)
