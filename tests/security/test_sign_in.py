"""Staff sign in at /admin/ with their gateway credentials; refusals are clear and audited."""

import datetime as dt
import hashlib
import unicodedata

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from audit.models import AuditLog
from security.authentication import BetterAuthBackend
from security.models import Account, GatewayUser, StaffAccount
from tests.conftest import PERSONA_PASSWORD, make_persona
from tests.pages import assert_page_says

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/?next=/admin/"
WRONG_CREDENTIALS = "Please enter the correct username and password for a staff account."
LOCKED_OUT = "Account locked: too many login attempts. Please try again later."


def _sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN_URL, {"username": username, "password": password})


def _better_auth_hash(password: str, salt_hex: str) -> str:
    """The contract's scrypt parameters, written out here independently of the app's module."""
    key = hashlib.scrypt(
        unicodedata.normalize("NFKC", password).encode(),
        salt=salt_hex.encode(),
        n=16384,
        r=16,
        p=1,
        dklen=64,
        maxmem=128 * 16384 * 16 * 2 + 1024,
    )
    return f"{salt_hex}:{key.hex()}"


def _sign_in_audits(user_id: str) -> list[tuple[str, str]]:
    return list(
        AuditLog.unscoped.filter(action="staff.sign_in", actor_id=user_id)
        .order_by("id")
        .values_list("outcome", "details__reason")
    )


def test_staff_signs_in_with_email_and_gateway_password():
    persona = make_persona("support", email="sam@example.com")
    client = Client()
    response = _sign_in(client, "SAM@example.com", PERSONA_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    # The password alone opens nothing: the second factor is asked first.
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/security/second-factor/?next=%2Fadmin%2F"
    response = client.post(response["Location"], {"code": persona.totp_code()})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    link = StaffAccount.objects.get(gateway_user_id=persona.gateway_user.id)
    assert link.django_user.email == "sam@example.com"
    assert _sign_in_audits(persona.gateway_user.id) == [("success", None)]


def test_sign_in_by_username_with_a_hash_written_by_better_auths_parameters():
    persona = make_persona("auditor")
    GatewayUser.unscoped.filter(pk=persona.gateway_user.pk).update(username="audra")
    Account.unscoped.filter(user_id=persona.gateway_user.pk).update(
        password=_better_auth_hash(
            "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44-\ufb01",  # full-width, ligature
            "0123456789abcdef0123456789abcdef",
        )
    )
    # NFKC: the full-width password and its plain form are the same credential.
    assert _sign_in(Client(), "audra", "password-fi").status_code == 302


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "not-a-hash",
        "zz:zz",
        "0123456789abcdef0123456789abcdef:" + "0" * 127,
        "0123456789abcdef0123456789abcdef:" + "g" * 128,
        "\n:\n",
        "a" * 10_000,
    ],
)
def test_malformed_stored_hash_is_refused_without_error(stored):
    persona = make_persona("support", email="m@example.com")
    Account.unscoped.filter(user_id=persona.gateway_user.pk).update(password=stored)
    response = _sign_in(Client(), "m@example.com", PERSONA_PASSWORD)
    assert response.status_code == 200
    assert "Please enter the correct" in response.content.decode()


def test_wrong_password_is_refused_and_audited_as_failure():
    persona = make_persona("support", email="w@example.com")
    response = _sign_in(Client(), "w@example.com", "wrong password")
    assert response.status_code == 200
    assert "Please enter the correct" in response.content.decode()
    assert _sign_in_audits(persona.gateway_user.id) == [("failure", "wrong password")]


def test_non_credential_account_is_refused():
    persona = make_persona("support", email="gh@example.com")
    Account.unscoped.filter(user_id=persona.gateway_user.pk).update(provider_id="github")
    response = _sign_in(Client(), "gh@example.com", PERSONA_PASSWORD)
    assert response.status_code == 200
    assert "Please enter the correct" in response.content.decode()
    assert _sign_in_audits(persona.gateway_user.id) == [("failure", "wrong password")]


@pytest.mark.parametrize(
    ("changes", "message", "reason"),
    [
        ({"banned": True, "ban_expires": None}, "This account is banned", "banned"),
        (
            {"banned": True, "ban_expires": timezone.now() + dt.timedelta(days=1)},
            "This account is banned",
            "banned",
        ),
        ({"is_active": False}, "This account is deactivated", "inactive"),
        ({"role": "user"}, "This account has no back-office role", "no_role"),
        ({"role": None}, "This account has no back-office role", "no_role"),
        ({"role": "superhero"}, "This account has no back-office role", "no_role"),
    ],
)
def test_correct_password_but_refused_with_a_clear_message(changes, message, reason):
    persona = make_persona("support", email="r@example.com")
    GatewayUser.unscoped.filter(pk=persona.gateway_user.pk).update(**changes)
    response = _sign_in(Client(), "r@example.com", PERSONA_PASSWORD)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _sign_in_audits(persona.gateway_user.id) == [("denied", reason)]


def test_an_expired_ban_does_not_block_sign_in():
    persona = make_persona("support", email="e@example.com")
    GatewayUser.unscoped.filter(pk=persona.gateway_user.pk).update(
        banned=True, ban_expires=timezone.now() - dt.timedelta(minutes=1)
    )
    assert _sign_in(Client(), "e@example.com", PERSONA_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "", "This field is required."),
        ("a\x00b@example.com", "x", "Null characters are not allowed."),
        ("x" * 5000, "x", "Ensure this value has at most 320 characters (it has 5000)."),
        ("nobody@example.com", "x", WRONG_CREDENTIALS),
    ],
)
def test_odd_input_never_errors(username, password, message):
    response = _sign_in(Client(), username, password)
    assert_page_says(response, 200, message, 'name="username"', 'name="password"')


def test_role_change_in_the_gateway_applies_on_the_next_request():
    persona = make_persona("support")
    client = persona.client()
    assert client.get("/admin/").status_code == 200
    GatewayUser.unscoped.filter(pk=persona.gateway_user.pk).update(role="user")
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out: This account has no back-office role." in page
    assert client.get("/admin/").status_code == 302  # the session is gone


def test_ban_in_the_gateway_applies_on_the_next_request():
    persona = make_persona("auditor")
    client = persona.client()
    assert client.get("/admin/").status_code == 200
    GatewayUser.unscoped.filter(pk=persona.gateway_user.pk).update(banned=True)
    assert client.get("/admin/").status_code == 302


def test_a_ban_noticed_mid_session_is_audited_with_the_sign_out():
    persona = make_persona("auditor")
    client = persona.client()
    assert client.get("/admin/").status_code == 200
    GatewayUser.unscoped.filter(pk=persona.gateway_user.pk).update(banned=True)
    assert client.get("/admin/").status_code == 302
    assert _sign_in_audits(persona.gateway_user.id) == [("denied", "signed out: banned")]


def test_sign_in_rows_carry_the_request_id():
    persona = make_persona("support", email="rid@example.com")
    _sign_in(Client(), "rid@example.com", PERSONA_PASSWORD)
    row = AuditLog.unscoped.get(action="staff.sign_in", actor_id=persona.gateway_user.id)
    assert row.request_id is not None


def test_local_superuser_is_break_glass_and_its_sign_in_is_audited():
    User.objects.create_superuser("root", "root@example.com", "break-glass-password-1")
    client = Client()
    response = client.post(LOGIN_URL, {"username": "root", "password": "break-glass-password-1"})
    assert response.status_code == 302
    # Break-glass too enrols a second factor before anything else.
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/security/second-factor/enrol/")
    row = AuditLog.unscoped.get(action="staff.sign_in", actor_id="local:root")
    assert (row.actor_type, row.outcome) == ("staff", "success")
    assert row.details["method"] == "local superuser (break-glass)"


def test_local_non_superuser_without_gateway_link_has_no_access():
    User.objects.create_user("local", "l@example.com", "local-password-123", is_staff=True)
    client = Client()
    client.post(LOGIN_URL, {"username": "local", "password": "local-password-123"})
    assert client.get("/admin/").status_code == 302


def test_login_is_throttled_after_repeated_failures(settings):
    make_persona("support", email="t@example.com")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "t@example.com", "nope")
    response = _sign_in(client, "t@example.com", PERSONA_PASSWORD)
    assert_page_says(response, 429, LOCKED_OUT)


def test_backend_returns_no_user_for_unknown_identifier():
    assert (
        BetterAuthBackend().authenticate(None, username="ghost@example.com", password="x") is None
    )


def test_changing_the_emails_capitals_does_not_escape_the_lockout(settings):
    make_persona("support", email="t@example.com")
    client = Client()
    spellings = ["t@example.com", "T@example.com", " t@EXAMPLE.com ", "T@Example.Com"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, spellings[attempt % len(spellings)], "nope")
    for spelling in spellings:
        assert_page_says(_sign_in(client, spelling, PERSONA_PASSWORD), 429, LOCKED_OUT)


def test_a_nul_in_the_user_agent_is_neither_an_error_nor_a_way_round_the_lockout(settings):
    persona = make_persona("support", email="nul@example.com")
    client = Client(HTTP_USER_AGENT="evil\x00agent")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert_page_says(_sign_in(client, "nul@example.com", "nope"), 200, WRONG_CREDENTIALS)
    # The attempt that reaches the limit is the first one locked out: never a 500.
    assert_page_says(_sign_in(client, "nul@example.com", "nope"), 429, LOCKED_OUT)
    assert_page_says(_sign_in(client, "nul@example.com", PERSONA_PASSWORD), 429, LOCKED_OUT)
    failures = AuditLog.unscoped.filter(actor_id=persona.gateway_user.id, outcome="failure")
    assert failures.count() == settings.AXES_FAILURE_LIMIT
    assert {row.user_agent for row in failures} == {"evilagent"}
