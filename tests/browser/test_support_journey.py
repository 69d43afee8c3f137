"""A support person finds a user, bans them for a week, and reviews an impersonation."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from audit.models import AuditLog
from security.factories import (
    GatewaySessionFactory,
    GatewayUserFactory,
    ImpersonationSessionFactory,
)
from security.models import GatewaySession, GatewayUser, ImpersonationRecord
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def test_support_bans_a_user_for_seven_days_and_reviews_an_impersonation(page, tenant_a):
    make_persona("support", email="support@example.com")
    admin = make_persona("admin", email="root@example.com")
    member = GatewayUserFactory.create(tenant=tenant_a, email="mia@example.com", name="Mia Member")
    GatewaySessionFactory.create_batch(2, user=member)
    other = GatewayUserFactory.create(tenant=tenant_a, email="carol@example.com")
    ImpersonationSessionFactory.create(user=other, impersonated_by=admin.gateway_user.id)

    sign_in(page, "support@example.com", PERSONA_PASSWORD)

    # Find the user.
    page.get_by_role("link", name="Gateway users").first.click()
    page.fill("#searchbar", "mia")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list")).to_contain_text("mia@example.com")
    expect(page.locator("#result_list")).not_to_contain_text("carol@example.com")
    page.locator("#result_list").get_by_role("link", name="mia@example.com").click()
    expect(page.locator("#sessions-title")).to_contain_text("Sessions (2)")

    # Ban them for 7 days with a reason.
    page.get_by_role("link", name="Ban", exact=True).click()
    expect(page.locator(".what-happens")).to_contain_text("All of their sessions are deleted")
    page.fill("textarea[name=reason]", "Scraping other tenants' tools")
    page.get_by_label("7 days").check()
    page.get_by_role("button", name="Ban").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "Banned mia@example.com; signed out 2 sessions."
    )
    expect(page.locator("#sessions-title")).to_contain_text("Sessions (0)")
    expect(page.locator("#user-sessions")).to_contain_text("No sessions")
    expect(page.locator(".field-ban_status")).to_contain_text("Banned until")
    banned = GatewayUser.unscoped.get(pk=member.pk)
    assert banned.banned and banned.ban_reason == "Scraping other tenants' tools"
    assert dt.timedelta(days=6, hours=23) < banned.ban_expires - dt.datetime.now(dt.UTC)
    assert not GatewaySession.unscoped.filter(user_id=member.pk).exists()

    # Review the impersonation session with a note.
    page.goto("/admin/")
    page.get_by_role("link", name="Impersonation sessions").first.click()
    expect(page.locator("#result_list")).to_contain_text("carol@example.com")
    expect(page.locator("#result_list")).to_contain_text("root@example.com")
    page.locator("#result_list tbody tr").first.locator("th a").click()
    page.get_by_role("link", name="Mark reviewed").click()
    page.fill("textarea[name=note]", "Ticket 4711: the customer asked for help")
    page.get_by_role("button", name="Mark reviewed").click()

    expect(page.locator(".messagelist")).to_contain_text("Marked the impersonation reviewed.")
    expect(page.locator(".field-review_note")).to_contain_text("Ticket 4711")
    expect(page.locator(".field-reviewed_by")).to_contain_text("support@example.com")
    record = ImpersonationRecord.unscoped.get()
    assert record.review_note == "Ticket 4711: the customer asked for help"
    assert AuditLog.unscoped.filter(action="impersonation.review", outcome="success").count() == 1
    assert AuditLog.unscoped.filter(action="user.ban", outcome="success").count() == 1
