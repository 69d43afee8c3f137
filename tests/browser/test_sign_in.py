"""A staff member signs in with their gateway password; a banned one is told why not."""

import datetime as dt

from playwright.sync_api import expect

from security.models import GatewayUser
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def test_support_signs_in_and_a_banned_user_is_refused(page, tenant_a):
    make_persona("support", email="support@example.com")
    sign_in(page, "support@example.com", PERSONA_PASSWORD)
    expect(page.locator("#site-name")).to_contain_text("MCP Gateway back office")
    expect(page.locator("#user-tools")).to_contain_text("Log out")

    banned = make_persona("support", email="banned@example.com")
    GatewayUser.unscoped.filter(pk=banned.gateway_user.pk).update(
        banned=True,
        ban_reason="abuse",
        ban_expires=None,
        updated_at=dt.datetime.now(dt.UTC),
    )
    other = page.context.browser.new_context(base_url=page.base_url)
    other_page = other.new_page()
    sign_in(other_page, "banned@example.com", PERSONA_PASSWORD)
    expect(other_page.locator(".errornote")).to_contain_text("banned")
    other.close()
