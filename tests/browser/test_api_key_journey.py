"""A tenant admin creates an API key, copies it from the one-time page, sees only its prefix
afterwards, revokes it, and cannot reach another tenant's key by editing the URL."""

from __future__ import annotations

import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from audit.models import AuditLog
from security.api_keys.verification import verify_api_key
from security.factories import ApiKeyFactory
from security.models import ApiKey
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona

KEY_PATTERN = re.compile(r"mcpgw_[a-z0-9]{8}_[A-Za-z0-9_-]{43}")


def settled_content(page) -> str:
    """The page's HTML once a navigation (or Chromium's own error page) has finished loading."""
    for _attempt in range(10):
        page.wait_for_load_state("load")
        try:
            return page.content()
        except PlaywrightError:
            page.wait_for_timeout(200)
    raise AssertionError("the page never settled")


def test_a_tenant_admin_creates_copies_and_revokes_a_key(page, tenant_a, tenant_b):
    make_persona("tenant_admin", tenant=tenant_a, email="ada@tenant-a.example")
    other_key = ApiKeyFactory.create(tenant=tenant_b, name="Tenant B deploy bot")
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.base_url)

    sign_in(page, "ada@tenant-a.example", PERSONA_PASSWORD)

    # From the admin index to the key list, then the create form.
    page.get_by_role("link", name="API keys").first.click()
    expect(page.locator("#content")).not_to_contain_text("Tenant B deploy bot")
    page.get_by_role("link", name="Create API key").click()
    expect(page.locator(".api-key-catalog")).to_contain_text("tools:call")
    page.fill("input[name=name]", "Nightly sync")
    page.get_by_label("tools:call —").check()
    page.get_by_label("resources:read —").check()
    page.get_by_label("In 30 days").check()
    page.get_by_role("button", name="Create the key").click()

    # The one-time page: a warning, the key, and a copy button that puts it on the clipboard.
    expect(page.locator(".api-key-warning")).to_contain_text("it will not be shown again")
    shown = page.locator("#api-key-value").input_value()
    assert KEY_PATTERN.fullmatch(shown)
    page.get_by_role("button", name="Copy").click()
    expect(page.locator(".api-key-copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == shown
    key = ApiKey.unscoped.get(name="Nightly sync")
    assert verify_api_key(shown) == key
    assert key.scopes == ["tools:call", "resources:read"]

    # Afterwards: the prefix only, on the key's page, after a reload and in the list.
    page.get_by_role("link", name="I have stored the key").click()
    expect(page.locator(".field-key_prefix")).to_contain_text(key.key_prefix)
    # Back in the history, Chromium may not show the one-time page again (no-store) nor resend it.
    try:
        page.go_back()
    except PlaywrightError as error:
        assert "ERR_CACHE_MISS" in str(error)
    assert shown not in settled_content(page)
    page.goto(f"/admin/security/apikey/{key.pk}/change/")
    page.reload()
    assert shown not in settled_content(page)
    page.get_by_role("link", name="API keys").last.click()
    expect(page.locator("#result_list")).to_contain_text(key.key_prefix)
    assert shown not in settled_content(page)
    assert ApiKey.unscoped.count() == 2  # going back sent nothing twice

    # Revoke it with a reason.
    page.goto(f"/admin/security/apikey/{key.pk}/change/")
    page.get_by_role("link", name="Revoke").click()
    page.fill("textarea[name=reason]", "Replaced by the new sync job")
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.locator(".messagelist")).to_contain_text("the gateway refuses it from now on")
    expect(page.locator(".field-status_label")).to_contain_text("revoked")
    assert verify_api_key(shown) is None
    assert AuditLog.unscoped.filter(action="api_key.revoke", outcome="success").count() == 1

    # Editing the URL to reach another tenant's key finds nothing.
    for path in (
        f"/admin/security/apikey/{other_key.pk}/change/",
        f"/security/api-keys/{other_key.pk}/revoke/",
        f"/security/api-keys/{other_key.pk}/edit/",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 404
        assert "Tenant B deploy bot" not in settled_content(page)
    assert ApiKey.unscoped.get(pk=other_key.pk).is_active
    assert csp_violations == []
