"""An admin suspends a tenant from its page, then follows a user's story into the explorer."""

from __future__ import annotations

from playwright.sync_api import expect

from audit.factories import AuditLogFactory
from security.factories import ApiKeyFactory, GatewayUserFactory
from security.moderation.services import ban_user
from tenants.models import Tenant
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def test_an_admin_suspends_a_tenant_from_its_page(page, tenant_a):
    make_persona("admin", email="root@example.com")
    GatewayUserFactory.create_batch(2, tenant=tenant_a)
    ApiKeyFactory.create(tenant=tenant_a)

    sign_in(page, "root@example.com", PERSONA_PASSWORD)
    page.goto(f"/admin/tenants/tenant/{tenant_a.pk}/change/")
    expect(page.locator("#tenant-links")).to_contain_text("Users")
    page.locator("#tenant-suspend").click()

    expect(page.locator("h1")).to_have_text(f"Suspend {tenant_a.name}?")
    expect(page.locator("#tenant-impact")).to_contain_text("1 usable")
    expect(page.locator(".what-happens")).to_contain_text("are not revoked")
    # A blank reason is refused, and nothing changes.
    page.locator("#confirm-suspend").click()
    expect(page.locator(".errorlist")).to_contain_text("This field is required.")
    assert Tenant.unscoped.get(pk=tenant_a.pk).status == "active"

    page.fill("textarea[name=reason]", "Chargeback on the last invoice")
    page.locator("#confirm-suspend").click()
    expect(page.locator(".messagelist")).to_contain_text(f"{tenant_a.name} was suspended.")
    expect(page.locator("#tenant-status-note")).to_contain_text("Chargeback on the last invoice")
    assert Tenant.unscoped.get(pk=tenant_a.pk).status == "suspended"

    # Its history now holds the suspension.
    page.get_by_role("link", name="History").first.click()
    expect(page.locator("#audit-history")).to_contain_text("tenant.suspend")
    expect(page.locator("#audit-history")).to_contain_text("Chargeback on the last invoice")

    # And it is the first of the admin's recent actions on the home page.
    page.goto("/admin/")
    expect(page.locator("#my-recent-actions li").first).to_contain_text("tenant.suspend")


def test_an_admin_opens_a_users_story_and_follows_see_all_into_the_explorer(page, tenant_a):
    admin = make_persona("admin", email="root@example.com")
    member = GatewayUserFactory.create(tenant=tenant_a, email="mia@example.com")
    ban_user(actor=admin.actor, user_id=member.pk, reason="Scraping", expires_at=None)
    theirs = AuditLogFactory.create(actor_id=member.pk, action="tool.call", resource_id="t1")
    AuditLogFactory.create(action="tool.call", resource_id="t2")  # someone else's

    sign_in(page, "root@example.com", PERSONA_PASSWORD)
    page.goto(f"/admin/security/gatewayuser/{member.pk}/change/")
    expect(page.locator("#user-ban-ledger")).to_contain_text("Scraping")
    expect(page.locator("#user-ban-ledger")).to_contain_text("permanent")
    expect(page.locator("#user-ban-ledger")).to_contain_text("root@example.com")
    expect(page.locator('[data-section="audit-by"]')).to_contain_text("1")

    page.locator("#see-all-audit-by").click()
    expect(page).to_have_url(f"{page.url.split('/audit/')[0]}/audit/logs/?actor={member.pk}")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("tool.call")
    expect(page.locator(f'a[href="/audit/logs/{theirs.pk}/"]')).to_have_count(1)

    page.go_back()
    page.locator("#see-all-audit-about").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody")).to_contain_text("user.ban")
