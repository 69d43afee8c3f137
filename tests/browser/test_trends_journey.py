"""Staff narrow the trends page from the platform to a tenant, a server and one of its tools,
with the pickers alone; server health over time reads across servers."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from audit.factories import RequestLogFactory
from audit.models import RequestLog
from monitoring import rollups
from registry.factories import McpServerFactory, McpToolFactory, ServerHealthCheckFactory
from tenants.factories import TenantFactory
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def _traffic():
    acme = TenantFactory.create(name="Acme Trends", slug="acme-trends")
    globex = TenantFactory.create(name="Globex Trends", slug="globex-trends")
    now = dt.datetime.now(dt.UTC)
    search = McpServerFactory.create(tenant=acme, name="acme-search")
    McpServerFactory.create(tenant=globex, name="globex-tools")
    McpToolFactory.create(server=search, name="lookup")
    McpToolFactory.create(server=search, name="index")
    logs = []
    for hours in range(1, 20):
        logs += RequestLogFactory.build_batch(
            hours % 5 + 1,
            server=search,
            tool_name="lookup",
            duration_ms=40 * hours,
            created_at=now - dt.timedelta(hours=hours),
        )
        logs += RequestLogFactory.build_batch(
            2, server=search, tool_name="index", created_at=now - dt.timedelta(hours=hours)
        )
    RequestLog.unscoped.bulk_create(logs)
    rollups.update_settled_rollups()
    for hours in range(1, 12):
        ServerHealthCheckFactory.create(
            server=search, checked_at=now - dt.timedelta(hours=hours), unhealthy=hours == 4
        )
    return acme


def test_staff_narrow_trends_to_a_tool_with_the_pickers(page):
    _traffic()
    make_persona("auditor", email="auditor@trends.example")
    sign_in(page, "auditor@trends.example", PERSONA_PASSWORD)
    page.goto("/analytics/trends/")
    expect(page.locator("#health-grid svg.chart")).to_be_visible()
    expect(page.locator("#health-grid")).to_contain_text("acme-search")

    page.select_option("#trend-tenant", label="Acme Trends")
    page.click("#trend-form input[type=submit]")
    expect(page.locator("h1")).to_contain_text("Acme Trends")
    page.select_option("#trend-server", label="acme-search")
    page.click("#trend-form input[type=submit]")
    expect(page.locator("h1")).to_contain_text("acme-search")
    page.select_option("#trend-tool", label="lookup")
    page.click("#trend-form input[type=submit]")
    expect(page.locator("h1")).to_contain_text("acme-search, tool lookup")
    requests = page.locator('#trend-totals tr[data-period="current"] td[data-column="requests"]')
    expect(requests).to_have_text("59")
    expect(page.locator("#trend-charts svg.chart")).to_have_count(5)
    expect(page.locator("#health-chart svg.chart")).to_be_visible()
