"""Staff read request performance for the last 24 hours; a tenant admin reads only their usage."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from audit.factories import RequestLogFactory
from registry.factories import McpServerFactory
from tenants.factories import TenantFactory
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def _traffic():
    acme = TenantFactory.create(name="Acme Journeys", slug="acme-journeys")
    globex = TenantFactory.create(name="Globex Journeys", slug="globex-journeys")
    now = dt.datetime.now(dt.UTC)
    slow = McpServerFactory.create(tenant=acme, name="acme-slow-search")
    other = McpServerFactory.create(tenant=globex, name="globex-private-tools")
    for duration, status in ((120, 200), (400, 200), (2600, 500), (3900, 502)):
        RequestLogFactory.create(
            server=slow, duration_ms=duration, status_code=status, created_at=now
        )
    # Two days ago: outside the 24-hour window.
    RequestLogFactory.create(server=other, created_at=now - dt.timedelta(days=2))
    RequestLogFactory.create(server=other, created_at=now - dt.timedelta(hours=2))
    return acme, globex


def test_staff_read_request_performance_and_a_tenant_admin_only_their_usage(page):
    acme, _globex = _traffic()
    make_persona("auditor", email="auditor@journey.example")
    make_persona("tenant_admin", tenant=acme, email="tenant-admin@journey.example")

    sign_in(page, "auditor@journey.example", PERSONA_PASSWORD)
    page.goto("/")
    page.get_by_role("link", name="Request performance").first.click()
    page.get_by_role("link", name="Last 24 hours").click()
    expect(page).to_have_url(re.compile(r"/analytics/performance/\?hours=24"))
    expect(page.locator("#performance-charts svg.chart").first).to_be_visible()
    expect(page.locator("#performance-charts figcaption").first).to_contain_text("p95")
    p95_header = page.locator('#performance-table th[data-column="p95_duration_ms"]')
    expect(p95_header).to_have_text("p95")
    slow_row = page.locator("#performance-table tr", has_text="acme-slow-search")
    expect(slow_row.locator('td[data-column="p95_duration_ms"]')).to_have_text("3,705.0 ms")
    expect(slow_row.locator(".flag-slow")).to_be_visible()
    expect(page.locator("#performance-table")).to_contain_text("globex-private-tools")

    # Sort by p95 with the column header.
    p95_header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"hours=24&sort=-p95_duration_ms$"))
    expect(page.locator("#performance-table tbody tr").first).to_contain_text("acme-slow-search")

    page.context.clear_cookies()
    sign_in(page, "tenant-admin@journey.example", PERSONA_PASSWORD)
    page.goto("/")
    page.get_by_role("link", name="Tenant usage").first.click()
    expect(page.locator("#usage-tenant")).to_contain_text("Acme Journeys")
    requests_card = page.locator('#usage-cards [data-metric="total_requests"] .card-value')
    expect(requests_card).to_have_text("4")
    expect(page.locator("#usage-charts svg.chart").first).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Globex")
    expect(page.locator("select[name=tenant]")).to_have_count(0)

    page.goto("/analytics/performance/?hours=168")
    expect(page.locator("#performance-table")).to_contain_text("acme-slow-search")
    expect(page.locator("body")).not_to_contain_text("globex-private-tools")
