"""Support bans a tenant admin with their keys; an admin creates a user, sets their password,
and that user signs in with it (the back office reads Better-Auth's hash as the gateway does)."""

from __future__ import annotations

from playwright.sync_api import expect

from audit.models import AuditLog
from security.api_key_secrets import generate_api_key
from security.api_keys.verification import verify_api_key
from security.factories import ApiKeyFactory, GatewaySessionFactory, GatewayUserFactory
from security.models import Account, GatewayUser
from security.passwords import verify_password
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def test_support_bans_a_tenant_admin_and_revokes_their_keys_too(page, tenant_a):
    make_persona("support", email="support@example.com")
    boss = GatewayUserFactory.create(
        tenant=tenant_a, role="tenant_admin", email="boss@acme.example", name="Boss"
    )
    GatewaySessionFactory.create_batch(2, user=boss)
    materials = [generate_api_key() for _ in range(3)]
    for number, material in enumerate(materials):
        ApiKeyFactory.create(
            tenant=tenant_a, created_by=boss, name=f"Key {number}", material=material
        )

    sign_in(page, "support@example.com", PERSONA_PASSWORD)
    page.goto(f"/security/users/{boss.pk}/ban/")
    radius = page.locator("#ban-blast-radius")
    expect(radius).to_contain_text("Key 0")
    expect(radius).to_contain_text(materials[2].prefix)
    expect(radius.locator(".blast-sessions")).to_have_text("2")
    page.fill("textarea[name=reason]", "Leaked credentials")
    page.get_by_label("Revoke these keys too").check()
    page.get_by_role("button", name="Ban").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "Banned boss@acme.example; signed out 2 sessions; revoked 3 keys."
    )
    assert GatewayUser.unscoped.get(pk=boss.pk).banned
    assert all(verify_api_key(material.plaintext) is None for material in materials)
    assert AuditLog.unscoped.filter(action="api_key.revoke").count() == 3


def test_an_admin_creates_a_user_then_sets_their_password_and_they_sign_in(page):
    make_persona("admin", email="root@example.com")
    sign_in(page, "root@example.com", PERSONA_PASSWORD)
    page.goto("/admin/")  # an admin lands on the dashboard; the index lists the models

    page.get_by_role("link", name="Gateway users").first.click()
    page.get_by_role("link", name="Add gateway user").click()
    expect(page.locator("h1")).to_contain_text("Add a gateway user")
    page.fill("input[name=email]", "Nina@Gateway.example")
    page.fill("input[name=name]", "Nina New")
    page.get_by_label("user", exact=True).uncheck()
    page.get_by_label("support", exact=True).check()
    page.fill("input[name=password]", "first password here")
    page.fill("input[name=password_again]", "first password here")
    page.get_by_role("button", name="Create the user").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Created nina@gateway.example (with a password)."
    )

    page.get_by_role("link", name="Set password").click()
    expect(page.locator(".what-happens")).to_contain_text("Every session of theirs is deleted")
    page.fill("input[name=password]", "second password here")
    page.fill("input[name=password_again]", "second password here")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Set a new password for nina@gateway.example; signed out 0 sessions."
    )
    nina = GatewayUser.unscoped.get(email="nina@gateway.example")
    stored = Account.unscoped.get(user=nina, provider_id="credential").password
    assert verify_password("second password here", stored)

    # Nina signs in to the back office with the password set for her.
    page.context.clear_cookies()
    sign_in(page, "nina@gateway.example", "second password here")
    expect(page.locator("#user-tools")).to_contain_text("Log out")
    assert AuditLog.unscoped.filter(
        action="staff.sign_in", actor_id=nina.pk, outcome="success"
    ).exists()
