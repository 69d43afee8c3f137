"""An admin resets another staff member's second factor (audited); nobody resets their own."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditLog
from security.models import RecoveryCodeDevice
from tests.conftest import make_persona
from tests.pages import assert_page_says
from tests.security.second_factor.conftest import ENROL_URL, enrol, password_only_client

pytestmark = pytest.mark.django_db


def _reset_url(persona) -> str:
    return f"/security/users/{persona.gateway_user.pk}/second-factor/reset/"


def test_admin_resets_another_staff_members_second_factor(admin):
    support = make_persona("support", enrolled=False)
    enrol(password_only_client(support))
    their_session = password_only_client(support)
    their_session.post("/security/second-factor/", {"code": support.totp_code(1)})
    assert their_session.get("/admin/").status_code == 200

    client = admin.client()
    user_page = client.get(f"/admin/security/gatewayuser/{support.gateway_user.pk}/change/")
    assert_page_says(user_page, 200, _reset_url(support), "Reset second factor")
    assert_page_says(client.get(_reset_url(support)), 200, "Reset the second factor of")
    response = client.post(_reset_url(support), {})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=support.django_user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=support.django_user).exists()
    row = AuditLog.unscoped.get(action="staff.second_factor_reset")
    assert (row.actor_id, row.resource_id, row.outcome) == (
        admin.gateway_user.pk,
        support.gateway_user.pk,
        "success",
    )
    # Their open session loses its check at once and is sent to enrol again.
    response = their_session.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(ENROL_URL)


def test_nobody_resets_their_own(admin):
    assert_page_says(
        admin.client().get(_reset_url(admin)), 200, "Nobody can reset their own second factor"
    )
    response = admin.client().post(_reset_url(admin), {})
    assert_page_says(response, 403, "Nobody can reset their own second factor")
    assert TOTPDevice.objects.filter(user=admin.django_user).exists()
    row = AuditLog.unscoped.get(action="staff.second_factor_reset")
    assert row.outcome == "denied"


@pytest.mark.parametrize("role", ["support", "auditor", "tenant_admin"])
def test_only_admins_may_reset(role, tenant_a):
    actor = make_persona(role, tenant=tenant_a if role == "tenant_admin" else None)
    target = make_persona("support")
    assert actor.client().post(_reset_url(target), {}).status_code == 403
    assert TOTPDevice.objects.filter(user=target.django_user).exists()


def test_the_command_resets_for_an_operator_and_refuses_ones_own(admin):
    target = make_persona("auditor", email="aud@example.com")
    out = io.StringIO()
    call_command(
        "reset_second_factor", "aud@example.com", "--as", admin.gateway_user.email, stdout=out
    )
    assert "Reset the second factor of aud@example.com" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=target.django_user).exists()
    with pytest.raises(CommandError, match="Refused: Nobody can reset their own"):
        call_command(
            "reset_second_factor", admin.gateway_user.email, "--as", admin.gateway_user.email
        )
