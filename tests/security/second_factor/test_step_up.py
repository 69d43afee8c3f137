"""Step-up: a dangerous operation asks for a code again when the last one is old, and only then."""

from __future__ import annotations

import time

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import get_resolver

from audit.models import AuditLog
from backoffice.audit_actions import AuditAction
from security.factories import GatewayUserFactory
from security.models import GatewayUser
from security.second_factor.step_up import CODE_FIELD, DANGEROUS, METHOD_FIELD
from tests.pages import assert_page_says
from tests.security.second_factor.conftest import WRONG_CODE

pytestmark = pytest.mark.django_db

STALE = time.time() - 3600


@pytest.fixture
def member(tenant_a) -> GatewayUser:
    return GatewayUserFactory.create(tenant=tenant_a, email="mia@example.com")


def _ban_url(user: GatewayUser) -> str:
    return f"/security/users/{user.pk}/ban/"


def _banned(user: GatewayUser) -> bool:
    return GatewayUser.unscoped.get(pk=user.pk).banned is True


def test_a_fresh_check_bans_without_asking(support, member):
    client = support.client()
    response = client.post(_ban_url(member), {"reason": "Spam", "length": "permanent"})
    assert response.status_code == 302 and _banned(member)


def test_a_stale_check_asks_for_a_code_then_bans_as_sent(support, member):
    client = support.client(verified_at=STALE)
    response = client.post(_ban_url(member), {"reason": "Spam <b>", "length": "7d"})
    html = assert_page_says(response, 200, "To ban, enter a code from your authenticator app")
    assert not _banned(member)
    # What was sent rides along, escaped, for the code's answer to carry out.
    assert 'name="reason" value="Spam &lt;b&gt;"' in html and 'name="length" value="7d"' in html
    sent = {"reason": "Spam <b>", "length": "7d", METHOD_FIELD: "POST"}

    response = client.post(_ban_url(member), {**sent, CODE_FIELD: WRONG_CODE})
    assert_page_says(response, 403, "That code is not right")
    assert not _banned(member)

    response = client.post(_ban_url(member), {**sent, CODE_FIELD: support.totp_code()})
    assert response.status_code == 302 and _banned(member)
    user = GatewayUser.unscoped.get(pk=member.pk)
    assert user.ban_reason == "Spam <b>" and user.ban_expires is not None
    step_ups = AuditLog.unscoped.filter(action="staff.second_factor").order_by("id")
    assert [(row.outcome, row.details["purpose"]) for row in step_ups] == [
        ("failure", "user.ban"),
        ("success", "user.ban"),
    ]
    # Fresh again: the next dangerous operation does not ask.
    response = client.post(f"/security/users/{member.pk}/unban/", {})
    assert response.status_code == 302 and not _banned(member)


def test_the_confirmation_page_itself_is_not_asked_for(support, member):
    response = support.client(verified_at=STALE).get(_ban_url(member))
    assert_page_says(response, 200, f"Ban {member.email}")


def test_a_role_without_the_capability_is_refused_before_any_code(auditor, member):
    response = auditor.client(verified_at=STALE).post(_ban_url(member), {"reason": "x"})
    assert response.status_code == 403 and "authenticator" not in response.content.decode()


def test_a_bulk_ban_asks_then_bans_the_selection(support, member):
    client = support.client(verified_at=STALE)
    url = "/admin/security/gatewayuser/"
    chosen = {"action": "ban_selected", ACTION_CHECKBOX_NAME: [member.pk], "index": "0"}
    confirm = {**chosen, "post": "yes", "reason": "Spam", "length": "permanent"}
    response = client.post(url, confirm)
    assert_page_says(response, 200, "To ban, enter a code")
    assert not _banned(member)
    response = client.post(url, {**confirm, METHOD_FIELD: "POST", CODE_FIELD: support.totp_code()})
    assert response.status_code == 302 and _banned(member)


def test_an_export_asks_when_stale_then_downloads(auditor):
    client = auditor.client(verified_at=STALE)
    url = "/audit/logs/export.csv?action=user.ban"
    response = client.get(url)
    html = assert_page_says(response, 200, "To export the audit log, enter a code")
    assert not response.has_header("Content-Disposition")
    assert f'name="{METHOD_FIELD}" value="GET"' in html
    response = client.post(url, {METHOD_FIELD: "GET", CODE_FIELD: auditor.totp_code()})
    assert response.status_code == 303 and response["Location"] == url
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    b"".join(response.streaming_content)


def test_an_export_does_not_ask_when_fresh(auditor):
    response = auditor.client().get("/audit/logs/export.csv")
    assert response.status_code == 200 and response.has_header("Content-Disposition")
    b"".join(response.streaming_content)


def test_a_stale_check_is_asked_again_after_the_setting(settings, support, member):
    settings.STEP_UP_MAX_AGE_SECONDS = 60
    client = support.client(verified_at=time.time() - 61)
    response = client.post(_ban_url(member), {"reason": "Spam", "length": "permanent"})
    assert_page_says(response, 200, "more than 1 minute old")


def _step_up_views() -> set[AuditAction]:
    """The dangerous operation of every URL that asks for step-up."""
    found: set[AuditAction] = set()

    def walk(patterns) -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            view = pattern.callback
            while view is not None:
                if hasattr(view, "step_up"):
                    found.add(view.step_up)
                view = getattr(view, "__wrapped__", None)

    walk(get_resolver().url_patterns)
    return found


def _step_up_admin_actions() -> set[AuditAction]:
    from django.contrib import admin

    found: set[AuditAction] = set()
    for model_admin in admin.site._registry.values():
        for action in model_admin.actions or []:
            function = getattr(model_admin, action) if isinstance(action, str) else action
            if hasattr(function, "step_up"):
                found.add(function.step_up)
    return found


def test_every_dangerous_operation_has_a_page_or_action_that_asks():
    asked = _step_up_views() | _step_up_admin_actions()
    assert asked == set(DANGEROUS)
