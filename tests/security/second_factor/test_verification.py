"""The code after the password: TOTP or a recovery code (once), throttled and audited."""

from __future__ import annotations

import pytest

from audit.models import AuditLog
from security.models import RecoveryCode
from tests.conftest import make_persona
from tests.pages import assert_page_says
from tests.security.second_factor.conftest import (
    VERIFY_URL,
    WRONG_CODE,
    enrol,
    password_only_client,
)

pytestmark = pytest.mark.django_db


def _rows(persona) -> list[tuple[str, str, str | None]]:
    return list(
        AuditLog.unscoped.filter(action="staff.second_factor", actor_id=persona.gateway_user.pk)
        .order_by("id")
        .values_list("outcome", "details__method", "details__reason")
    )


def test_enrolled_staff_confirm_a_code_and_go_where_they_were_going():
    persona = make_persona("auditor")
    client = password_only_client(persona)
    response = client.get("/audit/logs/")
    assert response["Location"] == VERIFY_URL + "?next=%2Faudit%2Flogs%2F"
    assert_page_says(client.get(response["Location"]), 200, "Confirm it&#x27;s you")
    response = client.post(VERIFY_URL, {"code": persona.totp_code(), "next": "/audit/logs/"})
    assert response.status_code == 302 and response["Location"] == "/audit/logs/"
    assert client.get("/audit/logs/").status_code == 200
    assert _rows(persona) == [("success", "totp", None)]


def test_a_code_is_accepted_once_and_next_is_never_another_site():
    persona = make_persona("auditor")
    code = persona.totp_code()
    client = password_only_client(persona)
    response = client.post(VERIFY_URL, {"code": code, "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    again = password_only_client(persona)
    assert_page_says(again.post(VERIFY_URL, {"code": code}), 200, "That code is not right")


@pytest.mark.parametrize("code", ["", "12345\x00", "x" * 41, "abc", WRONG_CODE])
def test_odd_codes_are_refused_with_a_message(code):
    persona = make_persona("support")
    response = password_only_client(persona).post(VERIFY_URL, {"code": code})
    assert response.status_code == 200
    html = response.content.decode()
    assert "errornote" in html and "Server Error" not in html
    assert password_only_client(persona).get("/admin/").status_code == 302


def test_a_recovery_code_works_once():
    persona = make_persona("support", enrolled=False)
    _device, codes = enrol(password_only_client(persona))
    code = codes[3].lower()  # typed in any case
    client = password_only_client(persona)
    response = client.post(VERIFY_URL, {"code": code})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1

    second = password_only_client(persona)
    assert_page_says(second.post(VERIFY_URL, {"code": code}), 200, "That code is not right")
    assert second.get("/admin/").status_code == 302
    assert [row[:2] for row in _rows(persona)] == [
        ("success", "recovery_code"),
        ("failure", "recovery_code"),
    ]
    row = AuditLog.unscoped.filter(action="staff.second_factor", outcome="success").get()
    assert row.details["recovery_codes_left"] == 9
    assert codes[3] not in str(row.details) and code not in str(row.details)


def test_guesses_are_throttled_after_the_limit_and_audited(settings):
    settings.SECOND_FACTOR_FAILURE_LIMIT = 3
    persona = make_persona("admin")
    client = password_only_client(persona)
    wrong = WRONG_CODE
    for _ in range(2):
        assert_page_says(client.post(VERIFY_URL, {"code": wrong}), 200, "That code is not right")
    assert_page_says(client.post(VERIFY_URL, {"code": wrong}), 200, "Too many wrong codes")
    # Locked: even the right code is refused now, and recovery codes do not get round it.
    assert_page_says(
        client.post(VERIFY_URL, {"code": persona.totp_code()}), 200, "Too many wrong codes"
    )
    assert client.get("/admin/").status_code == 302
    assert _rows(persona) == [
        ("failure", "totp", "wrong code"),
        ("failure", "totp", "wrong code"),
        ("failure", "totp", "wrong code"),
        ("denied", None, "locked"),
    ]
    failures = AuditLog.unscoped.filter(action="staff.second_factor", outcome="failure")
    locked = failures.order_by("id").last()
    assert locked is not None and locked.details["locked"] is True
    assert wrong not in str(locked.details)


def test_a_right_code_clears_the_count_of_wrong_ones(settings):
    settings.SECOND_FACTOR_FAILURE_LIMIT = 2
    persona = make_persona("admin")
    wrong = WRONG_CODE
    client = password_only_client(persona)
    client.post(VERIFY_URL, {"code": wrong})
    assert client.post(VERIFY_URL, {"code": persona.totp_code()}).status_code == 302
    other = password_only_client(persona)
    assert_page_says(other.post(VERIFY_URL, {"code": wrong}), 200, "That code is not right")


def test_a_ban_still_signs_out_a_verified_session():
    persona = make_persona("support")
    client = persona.client()
    assert client.get("/admin/").status_code == 200
    persona.gateway_user.banned = True
    persona.gateway_user.save(update_fields=["banned"])
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_demo_relax_setting_lets_a_password_only_session_in(settings):
    settings.SECOND_FACTOR_REQUIRED = False
    persona = make_persona("support", enrolled=False)
    assert password_only_client(persona).get("/admin/").status_code == 200
