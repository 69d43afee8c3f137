"""An auditor narrows the audit log to one tenant's bans this week, opens one, downloads the CSV."""

import csv
import datetime as dt
import io
from pathlib import Path

from playwright.sync_api import expect

from audit.factories import AuditLogFactory
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def test_auditor_filters_opens_an_entry_and_downloads_the_matching_csv(page, tenant_a, tenant_b):
    now = dt.datetime.now(dt.UTC)
    # Written oldest first, as the gateway appends to its log.
    AuditLogFactory.create(
        tenant_id=tenant_a.id, action="user.ban", created_at=now - dt.timedelta(days=9)
    )
    first_ban = AuditLogFactory.create(
        tenant_id=tenant_a.id,
        action="user.ban",
        resource_id="user-41",
        created_at=now - dt.timedelta(days=3),
    )
    AuditLogFactory.create(
        tenant_id=tenant_b.id, action="user.ban", created_at=now - dt.timedelta(days=2)
    )
    AuditLogFactory.create(
        tenant_id=tenant_a.id, action="user.unban", created_at=now - dt.timedelta(days=1)
    )
    latest_ban = AuditLogFactory.create(
        tenant_id=tenant_a.id,
        action="user.ban",
        resource_id="user-42",
        details={"reason": "Spam", "ban_expires": None},
        created_at=now - dt.timedelta(hours=5),
    )
    make_persona("auditor", email="auditor@example.com")
    sign_in(page, "auditor@example.com", PERSONA_PASSWORD)

    page.goto("/audit/logs/")
    page.select_option("#id_tenant", label="Tenant A")
    page.fill("#id_action", "user.ban")
    page.select_option("#id_period", label="Last 7 days")
    page.click("input[type=submit][value=Filter]")

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("user-42")
    expect(rows.nth(1)).to_contain_text("user-41")
    expect(page.locator(".explorer-summary")).to_contain_text("2 entries")

    rows.nth(0).locator("a").click()
    expect(page.locator("h1")).to_contain_text(f"#{latest_ban.id}")
    expect(page.locator(".explorer-row")).to_contain_text("user.ban")
    expect(page.locator(".explorer-links")).to_contain_text("Tenant A")
    expect(page.locator(".explorer-details")).to_contain_text('"reason": "Spam"')
    page.go_back()

    with page.expect_download() as download_info:
        page.click("a.button:has-text('CSV')")
    download = download_info.value
    assert download.suggested_filename.startswith("audit-log-")
    content = Path(download.path()).read_text(encoding="utf-8")
    exported = list(csv.DictReader(io.StringIO(content)))
    assert [int(row["id"]) for row in exported] == [latest_ban.id, first_ban.id]
    assert {row["action"] for row in exported} == {"user.ban"}
    assert {row["tenant_id"] for row in exported} == {str(tenant_a.id)}
