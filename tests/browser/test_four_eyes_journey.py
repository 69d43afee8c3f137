"""Four-eyes in two browsers: admin A asks to grant a user the auditor role, admin B approves it
in a browser context of their own, and A then sees the role changed."""

from __future__ import annotations

from playwright.sync_api import expect

from audit.models import AuditLog
from security.factories import GatewayUserFactory
from security.models import GatewayUser
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def test_a_second_admin_approves_granting_auditor(page, tenant_a):
    make_persona("admin", email="ann@example.com")
    make_persona("admin", email="ben@example.com")
    member = GatewayUserFactory.create(tenant=tenant_a, email="mia@example.com", role="user")

    # Admin A asks: the roles page says it needs a second admin, and saving records a request.
    sign_in(page, "ann@example.com", PERSONA_PASSWORD)
    page.goto(f"/admin/security/gatewayuser/{member.pk}/change/")
    page.get_by_role("link", name="Change roles").click()
    expect(page.locator(".what-happens")).to_contain_text("needs a second admin's approval")
    page.get_by_label("auditor").check()
    page.get_by_role("button", name="Save roles").click()
    expect(page.locator(".messagelist")).to_contain_text("Sent for approval as request #")
    expect(page.locator("#status")).to_have_text("Waiting for approval")
    expect(page.locator("#approve")).to_have_count(0)
    assert GatewayUser.unscoped.get(pk=member.pk).role == "user"

    # Admin B, in a browser context of their own, finds it on the pending page and approves.
    other = page.context.browser.new_context(base_url=page.base_url)
    other.set_default_timeout(15_000)
    try:
        second = other.new_page()
        sign_in(second, "ben@example.com", PERSONA_PASSWORD)
        second.goto("/admin/")  # an admin lands on the dashboard; the index links the requests
        second.get_by_role("link", name="Four-eyes: Requests waiting for approval").click()
        second.locator("#to-approve").get_by_role("link").first.click()
        expect(second.locator(".what-happens")).to_contain_text("The roles become: auditor, user.")
        second.locator("#approve").click()
        expect(second.locator(".messagelist")).to_contain_text(
            "Approved and carried out: Changed the roles of mia@example.com."
        )
        expect(second.locator("#status")).to_have_text("Approved and carried out")
    finally:
        other.close()

    # Admin A sees the role changed on the user's page, and the request carried out.
    page.reload()
    expect(page.locator("#status")).to_have_text("Approved and carried out")
    page.goto(f"/admin/security/gatewayuser/{member.pk}/change/")
    expect(page.locator(".field-roles")).to_contain_text("auditor")
    assert GatewayUser.unscoped.get(pk=member.pk).role == "auditor,user"
    actions = list(AuditLog.unscoped.order_by("id").values_list("action", flat=True))
    assert [a for a in actions if a.startswith(("approval.", "user."))] == [
        "approval.request",
        "user.role_change",
        "approval.approve",
    ]
