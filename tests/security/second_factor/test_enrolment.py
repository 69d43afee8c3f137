"""Enrolment: a staff member without a second factor reaches nothing else until they set one up."""

from __future__ import annotations

import base64

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditLog
from security.models import RecoveryCode
from security.second_factor.codes import recovery_code_digest
from tests.conftest import make_persona, totp_code
from tests.pages import assert_page_says
from tests.security.second_factor.conftest import ENROL_URL, WRONG_CODE, enrol, password_only_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/admin/", "/", "/audit/logs/", "/security/second-factor/"])
def test_unenrolled_staff_are_sent_to_enrolment(path):
    persona = make_persona("admin", enrolled=False)
    response = password_only_client(persona).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(ENROL_URL + "?next=")


def test_a_post_elsewhere_is_sent_to_enrolment_and_changes_nothing(tenant_a):
    persona = make_persona("admin", enrolled=False)
    target = make_persona("user", tenant=tenant_a)
    response = password_only_client(persona).post(
        f"/security/users/{target.gateway_user.pk}/ban/", {"reason": "x", "duration": "forever"}
    )
    assert response.status_code == 302 and response["Location"] == ENROL_URL
    target.gateway_user.refresh_from_db()
    assert target.gateway_user.banned is not True


def test_enrolment_shows_a_qr_code_and_the_key_once_then_a_wrong_then_a_right_code(tenant_a):
    persona = make_persona("support", enrolled=False)
    client = password_only_client(persona)
    response = client.get(ENROL_URL + "?next=/admin/")
    html = assert_page_says(response, 200, "Set up your second factor", "<svg")
    assert "no-store" in response["Cache-Control"]
    device = TOTPDevice.objects.get(user=persona.django_user, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    shown = html.split('id="second-factor-secret">')[1].split("<")[0].replace(" ", "")
    assert shown == secret

    wrong = WRONG_CODE
    response = client.post(ENROL_URL, {"code": wrong, "next": "/admin/"})
    html = assert_page_says(response, 200, "That code is not right")
    # The key is not shown twice.
    assert 'id="second-factor-secret"' not in html and 'id="second-factor-qr"' not in html
    assert secret not in html
    assert not TOTPDevice.objects.filter(user=persona.django_user, confirmed=True).exists()

    response = client.post(ENROL_URL, {"code": totp_code(device), "next": "/admin/"})
    html = assert_page_says(response, 200, "Your recovery codes", 'href="/admin/"')
    assert "no-store" in response["Cache-Control"]
    assert TOTPDevice.objects.filter(user=persona.django_user, confirmed=True).count() == 1
    assert client.get("/admin/").status_code == 200
    # Ten codes shown, and only their digests kept.
    stored = set(
        RecoveryCode.objects.filter(device__user=persona.django_user).values_list(
            "code_digest", flat=True
        )
    )
    codes = [line.split("</code>")[0] for line in html.split("<li><code>")[1:]]
    assert len(codes) == 10 and {recovery_code_digest(code) for code in codes} == stored
    assert not any(code in str(stored) for code in codes)
    rows = AuditLog.unscoped.filter(actor_id=persona.gateway_user.pk).order_by("id")
    assert [(row.action, row.outcome) for row in rows] == [
        ("staff.second_factor", "failure"),
        ("staff.second_factor_enrol", "success"),
    ]


def test_enrolled_staff_do_not_get_a_new_key():
    persona = make_persona("auditor", enrolled=False)
    client = password_only_client(persona)
    enrol(client)
    response = client.get(ENROL_URL)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert TOTPDevice.objects.filter(user=persona.django_user).count() == 1


def test_a_new_visit_makes_a_new_key_and_the_old_one_no_longer_enrols():
    persona = make_persona("auditor", enrolled=False)
    client = password_only_client(persona)
    client.get(ENROL_URL)
    first = TOTPDevice.objects.get(user=persona.django_user)
    client.get(ENROL_URL)
    second = TOTPDevice.objects.get(user=persona.django_user)
    assert first.key != second.key
    response = client.post(ENROL_URL, {"code": totp_code(first, steps_ahead=0)})
    assert_page_says(response, 200, "That code is not right")
