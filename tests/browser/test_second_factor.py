"""The second factor in a real browser: enrol and sign in with TOTP, step-up on a ban, and a
recovery code that works once. Codes are computed with django-otp's TOTP, as an app would."""

from __future__ import annotations

import base64
import re

from django_otp.oath import TOTP
from playwright.sync_api import expect

from security.factories import GatewayUserFactory
from security.models import GatewayUser
from security.second_factor.devices import replace_recovery_codes
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def _app_code(secret_shown: str) -> str:
    """What an authenticator app that scanned ``secret_shown`` displays now."""
    key = base64.b32decode(secret_shown.replace(" ", ""))
    return f"{TOTP(key).token():06d}"


def test_staff_enrol_then_sign_in_with_totp(page):
    make_persona("support", email="sam@example.com", enrolled=False)
    sign_in(page, "sam@example.com", PERSONA_PASSWORD)
    expect(page).to_have_url(re.compile(r"/security/second-factor/enrol/"))
    expect(page.locator("#second-factor-qr svg")).to_be_visible()
    secret = page.locator("#second-factor-secret").inner_text()

    page.fill("input[name=code]", _app_code(secret))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.locator("#continue").click()
    expect(page.locator("#user-tools")).to_contain_text("Log out")

    # Next time: password, then the app's code.
    page.context.clear_cookies()
    sign_in(page, "sam@example.com", PERSONA_PASSWORD)
    # Support lands on the users to moderate (security/landing.py).
    expect(page).to_have_url(re.compile(r"/admin/security/gatewayuser/$"))
    expect(page.locator("#site-name")).to_contain_text("MCP Gateway back office")


def test_a_ban_asks_for_the_code_again_when_the_last_is_old(page, tenant_a, settings):
    settings.STEP_UP_MAX_AGE_SECONDS = 0  # every check is already old when the ban is sent
    support = make_persona("support", email="support@example.com")
    member = GatewayUserFactory.create(tenant=tenant_a, email="mia@example.com")
    sign_in(page, "support@example.com", PERSONA_PASSWORD)

    page.goto(f"/security/users/{member.pk}/ban/")
    page.fill("textarea[name=reason]", "Scraping")
    page.get_by_role("button", name="Ban").click()
    expect(page.locator("#step-up-reason")).to_contain_text("To ban, enter a code")
    assert GatewayUser.unscoped.get(pk=member.pk).banned is not True

    page.fill("input[name='second_factor-code']", support.totp_code())
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.locator(".messagelist")).to_contain_text("Banned mia@example.com")
    banned = GatewayUser.unscoped.get(pk=member.pk)
    assert banned.banned and banned.ban_reason == "Scraping"


def test_a_recovery_code_signs_in_once(page):
    persona = make_persona("auditor", email="audra@example.com")
    codes = replace_recovery_codes(persona.django_user)

    sign_in(page, "audra@example.com", PERSONA_PASSWORD, code=codes[0])
    expect(page.locator(".messagelist")).to_contain_text("You signed in with a recovery code")
    expect(page.locator("#user-tools")).to_contain_text("Log out")

    page.context.clear_cookies()
    sign_in(page, "audra@example.com", PERSONA_PASSWORD, code=codes[0])
    expect(page.locator("#code-error")).to_contain_text("That code is not right")
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/security/second-factor/\?next="))
