"""Support, in Chromium, works through a user's account: marks their email verified, unlinks a
sign-in method they no longer use, then removes them after reading what goes with them; each
step is checked on the page and in the database (the row, its audit entry)."""

from __future__ import annotations

from playwright.sync_api import expect

from audit.models import AuditLog
from security.factories import (
    AccountFactory,
    CredentialAccountFactory,
    GatewaySessionFactory,
    GatewayUserFactory,
)
from security.models import Account, GatewaySession, GatewayUser
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def user_page(page, user) -> None:
    page.goto(f"/admin/security/gatewayuser/{user.pk}/change/")


def test_support_marks_an_email_verified_then_unlinks_a_sign_in_method(page, tenant_a):
    make_persona("support", email="support@example.com")
    omar = GatewayUserFactory.create(
        tenant=tenant_a, email="omar@acme.example", name="Omar", email_verified=False
    )
    CredentialAccountFactory.create(user=omar, password="salt:hash")
    github = AccountFactory.create(user=omar)

    sign_in(page, "support@example.com", PERSONA_PASSWORD)
    user_page(page, omar)
    page.get_by_role("link", name="Mark email verified").click()
    expect(page.locator("h1")).to_contain_text("Mark the email of omar@acme.example verified")
    page.get_by_role("button", name="Mark verified").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Marked the email of omar@acme.example verified."
    )
    # The link is gone once done; the row and its audit entry say so.
    expect(page.get_by_role("link", name="Mark email verified")).to_have_count(0)
    assert GatewayUser.unscoped.get(pk=omar.pk).email_verified
    assert AuditLog.unscoped.filter(action="user.verify_email", resource_id=omar.pk).count() == 1

    page.get_by_role("link", name="Unlink github").click()
    expect(page.locator("h1")).to_contain_text("Unlink github from omar@acme.example")
    expect(page.locator("#content")).to_contain_text("They keep: credential.")
    page.get_by_role("button", name="Unlink").click()
    expect(page.locator(".messagelist")).to_contain_text("Unlinked github from omar@acme.example.")
    assert list(Account.unscoped.filter(user_id=omar.pk).values_list("provider_id", flat=True)) == [
        "credential"
    ]
    assert not Account.unscoped.filter(pk=github.pk).exists()
    assert AuditLog.unscoped.filter(action="account.unlink", resource_id=omar.pk).count() == 1
    # Their last sign-in method is never offered for unlinking.
    expect(page.get_by_role("link", name="Unlink credential")).to_have_count(0)


def test_support_removes_a_user_after_the_preview_and_a_tombstone_stays(page, tenant_a):
    make_persona("support", email="support@example.com")
    pia = GatewayUserFactory.create(tenant=tenant_a, email="pia@acme.example", name="Pia Gone")
    CredentialAccountFactory.create(user=pia, password="salt:hash")
    GatewaySessionFactory.create_batch(2, user=pia)

    sign_in(page, "support@example.com", PERSONA_PASSWORD)
    user_page(page, pia)
    page.get_by_role("link", name="Remove user").click()
    # The preview: what goes with them, before anything is done.
    expect(page.locator("h1")).to_contain_text("Remove pia@acme.example")
    content = page.locator("#content")
    expect(content).to_contain_text("With it go 2 sessions and their sign-in methods (credential)")
    expect(content).to_contain_text("The audit log keeps a tombstone")
    assert GatewayUser.unscoped.filter(pk=pia.pk).exists()
    page.get_by_role("button", name="Remove the user").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "Removed pia@acme.example; signed out 2 sessions."
    )
    assert not GatewayUser.unscoped.filter(pk=pia.pk).exists()
    assert not GatewaySession.unscoped.filter(user_id=pia.pk).exists()
    (tombstone,) = AuditLog.unscoped.filter(action="user.remove", resource_id=pia.pk)
    assert tombstone.details["email"] == "pia@acme.example"
    assert "salt:hash" not in str(tombstone.details)
    # Back on the user list, which no longer has them.
    expect(page.locator("#result_list")).not_to_contain_text("pia@acme.example")
