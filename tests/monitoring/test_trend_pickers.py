"""The trends page's tool picker and server health over time across servers: names not ids,
tenant scoped, and their numbers as CSV with spreadsheet formulas made plain text."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.factories import RequestLogFactory
from audit.models import AuditLog, RequestLog
from monitoring import health_trends, rollups
from registry.factories import McpServerFactory, McpToolFactory, ServerHealthCheckFactory
from registry.models import ServerHealthCheck
from tenants.models import Tenant
from tests.monitoring.conftest import read_cells, read_csv
from tests.pages import assert_page_says

pytestmark = pytest.mark.django_db
URL = "/analytics/trends/"


@pytest.fixture
def servers(tenant_a, tenant_b):
    """A tool "search" on a server of each tenant, one tool only in the log, health checks."""
    now = dt.datetime.now(dt.UTC)
    alpha = McpServerFactory.create(tenant=tenant_a, name="alpha")
    gamma = McpServerFactory.create(tenant=tenant_a, name="gamma")
    beta = McpServerFactory.create(tenant=tenant_b, name="beta")
    McpToolFactory.create(server=alpha, name="search")
    McpToolFactory.create(server=alpha, name="fetch")
    McpToolFactory.create(server=beta, name="search")
    McpToolFactory.create(server=beta, name="beta-only")
    RequestLog.unscoped.bulk_create(
        RequestLogFactory.build_batch(
            6, server=alpha, tool_name="search", created_at=now - dt.timedelta(hours=2)
        )
        + RequestLogFactory.build_batch(
            2, server=alpha, tool_name="retired", created_at=now - dt.timedelta(hours=2)
        )
        + RequestLogFactory.build_batch(
            4, server=beta, tool_name="search", created_at=now - dt.timedelta(hours=2)
        )
    )
    rollups.update_settled_rollups()
    for minutes in (30, 90):
        at = now - dt.timedelta(minutes=minutes)
        ServerHealthCheckFactory.create(server=alpha, checked_at=at)
        ServerHealthCheckFactory.create(server=gamma, checked_at=at, unhealthy=True)
        ServerHealthCheckFactory.create(server=beta, checked_at=at, degraded=True)
    return alpha, gamma, beta


def _options(html: str, select_id: str) -> dict[str, str]:
    select = re.search(rf'<select name="\w+" id="{select_id}">(.*?)</select>', html, re.S)
    assert select is not None
    return {
        unescape(value): unescape(label)
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select[1])
    }


def test_tools_of_the_chosen_server_by_name_with_logged_ones(admin, servers):
    alpha, _, _ = servers
    html = admin.client().get(URL, {"server": alpha.pk}).content.decode()
    tools = _options(html, "trend-tool")
    assert tools == {
        "": "All tools",
        f"{alpha.pk}:fetch": "fetch",
        f"{alpha.pk}:retired": "retired",
        f"{alpha.pk}:search": "search",
    }


def test_a_name_on_several_servers_shows_its_server_and_tenant(admin, servers):
    alpha, _, beta = servers
    tools = _options(admin.client().get(URL).content.decode(), "trend-tool")
    assert tools[f"{alpha.pk}:search"] == "search (alpha, Tenant A)"
    assert tools[f"{beta.pk}:search"] == "search (beta, Tenant B)"
    assert tools[f"{beta.pk}:beta-only"] == "beta-only"


def test_a_server_name_in_several_tenants_shows_its_tenant(admin, tenant_admin_a, servers):
    alpha, _, beta = servers
    twin = McpServerFactory.create(tenant=beta.tenant, name="alpha")
    listed = _options(admin.client().get(URL).content.decode(), "trend-server")
    assert listed[str(alpha.pk)] == "alpha (Tenant A)"
    assert listed[str(twin.pk)] == "alpha (Tenant B)"
    assert listed[str(beta.pk)] == "beta"
    own = _options(tenant_admin_a.client().get(URL).content.decode(), "trend-server")
    assert own[str(alpha.pk)] == "alpha" and str(twin.pk) not in own


def test_a_tenant_admin_picks_only_their_tenants_tools(tenant_admin_a, servers):
    alpha, _, beta = servers
    html = tenant_admin_a.client().get(URL).content.decode()
    tools = _options(html, "trend-tool")
    assert tools[f"{alpha.pk}:search"] == "search"  # beta's "search" is not theirs to see
    assert "beta" not in html and str(beta.pk) not in html


def test_picking_a_tool_shows_its_series(admin, servers):
    alpha, gamma, beta = servers
    client = admin.client()
    picked = client.get(URL, {"tool": f"{beta.pk}:search"})
    html = assert_page_says(picked, 200, "Trends: beta, tool search")
    assert read_cells(html, "data-period").values[("current", "requests")] == "4"
    assert f'<option value="{beta.pk}:search" selected>' in html
    # The server was changed after the tool was picked: the server wins, and the page says so.
    changed = client.get(URL, {"server": gamma.pk, "tool": f"{alpha.pk}:search"})
    assert_page_says(changed, 200, "Trends: gamma", "is not one of this server&#x27;s")


def test_a_tenant_admin_cannot_pick_another_tenants_tool(tenant_admin_a, servers):
    _, _, beta = servers
    response = tenant_admin_a.client().get(URL, {"tool": f"{beta.pk}:search"})
    html = assert_page_says(response, 400, "Unknown server: choose one from the list.")
    assert "beta" not in html


def test_health_over_time_across_servers_least_healthy_first(admin, servers):
    html = assert_page_says(admin.client().get(URL), 200, "Server health over time")
    grid = html[html.index('<div id="health-grid">') :]
    rows = re.findall(r'<g class="grid-row"><text[^>]*>([^<]*)<title>', grid)
    assert rows == ["gamma (Tenant A)", "beta (Tenant B)", "alpha (Tenant A)"]
    assert "0 of 1 healthy, 0 degraded, 1 unhealthy" in grid
    assert 'class="status-unhealthy"' in grid and 'class="status-none"' in grid
    assert "style=" not in grid and 'fill="#' not in grid


def test_a_tenant_admin_sees_their_servers_health_only(tenant_admin_a, servers):
    html = tenant_admin_a.client().get(URL).content.decode()
    grid = html[html.index('<div id="health-grid">') :]
    assert re.findall(r'<g class="grid-row"><text[^>]*>([^<]*)<title>', grid) == [
        "gamma",
        "alpha",
    ]
    assert "beta" not in html


def test_health_csv_is_scoped_escaped_and_audited(tenant_admin_a, tenant_a, servers):
    alpha, gamma, _ = servers
    gamma.name = "=HYPERLINK(gamma)"
    gamma.save()
    rows = read_csv(tenant_admin_a.client().get(URL + "health/csv/"))
    assert {row["server"] for row in rows} == {"alpha", "'=HYPERLINK(gamma)"}
    rows = [row for row in rows if row["period"] == "current"]
    assert sum(int(r["unhealthy"]) for r in rows) == 2
    assert sum(int(r["checks"]) for r in rows) == 4
    entry = AuditLog.unscoped.get(action="analytics.export")
    assert entry.tenant_id == tenant_a.pk and entry.details["report"] == "trends_health"
    one = read_csv(tenant_admin_a.client().get(URL + "health/csv/", {"server": alpha.pk}))
    assert {row["period"] for row in one} == {"current", "previous"}
    assert sum(int(r["healthy"]) for r in one if r["period"] == "current") == 2


@pytest.mark.parametrize("name", ["=1+1", "+SUM(A1)", "-2+3", "@cmd"])
def test_trend_csv_makes_formula_names_plain_text(admin, name):
    tenant = Tenant.unscoped.create(name=name, slug="formula")
    server = McpServerFactory.create(tenant=tenant, name=name)
    RequestLog.unscoped.bulk_create(RequestLogFactory.build_batch(2, server=server, tool_name=name))
    rows = read_csv(admin.client().get(URL + "csv/", {"server": server.pk, "tool": name}))
    assert {(r["tenant"], r["server"], r["tool"]) for r in rows} == {(f"'{name}",) * 3}
    assert sum(int(r["requests"]) for r in rows if r["period"] == "current") == 2


def test_a_server_and_a_tenant_that_disagree_show_the_tenant(admin, servers, tenant_b):
    alpha, _, _ = servers
    response = admin.client().get(URL, {"tenant": tenant_b.pk, "server": alpha.pk})
    assert_page_says(response, 200, "Trends: Tenant B", "is not one of this tenant&#x27;s")


def test_health_rollups_count_what_the_table_holds_partial_hours_included(admin, tenant_a):
    """Rolled-up hours, the hours after the frontier and a custom range's partial edges add up
    to the checks in the range, counted from the table itself."""
    alpha = McpServerFactory.create(tenant=tenant_a, name="alpha")
    now = dt.datetime.now(dt.UTC)
    for minutes in range(5, 600, 10):
        ServerHealthCheckFactory.create(
            server=alpha,
            checked_at=now - dt.timedelta(minutes=minutes),
            unhealthy=minutes % 70 == 5,
        )
    assert health_trends.update_health_rollups() > 0
    late = ServerHealthCheckFactory.create(
        server=alpha, checked_at=now - dt.timedelta(minutes=61), degraded=True
    )
    assert health_trends.update_health_rollups() > 0  # recounts the last hours: ``late`` too
    start, end = now - dt.timedelta(hours=8, minutes=17), now - dt.timedelta(minutes=3)
    expected = ServerHealthCheck.unscoped.filter(checked_at__gte=start, checked_at__lt=end)
    with CaptureQueriesContext(connection) as queries:
        rows = read_csv(
            admin.client().get(
                URL + "health/csv/",
                {"period": "custom", "start": start.isoformat(), "end": end.isoformat()},
            )
        )
    current = [r for r in rows if r["period"] == "current"]
    assert sum(int(r["checks"]) for r in current) == expected.count()
    assert sum(int(r["degraded"]) for r in current) == 1 == expected.filter(pk=late.pk).count()
    assert sum(int(r["unhealthy"]) for r in current) == expected.filter(status="unhealthy").count()
    before = ServerHealthCheck.unscoped.filter(
        checked_at__gte=start - (end - start), checked_at__lt=start
    )
    assert sum(int(r["checks"]) for r in rows if r["period"] == "previous") == before.count() > 0
    assert any("FROM health_check_rollups" in q["sql"] for q in queries.captured_queries)


def test_the_page_draws_the_least_healthy_servers_and_the_csv_holds_all(
    admin, servers, monkeypatch
):
    monkeypatch.setattr(health_trends, "OVERVIEW_SERVERS", 2)
    client = admin.client()
    html = assert_page_says(client.get(URL), 200, "The 2 least healthy of 3 active servers")
    grid = html[html.index('<div id="health-grid">') :]
    assert re.findall(r'<g class="grid-row"><text[^>]*>([^<]*)<title>', grid) == [
        "gamma (Tenant A)",
        "beta (Tenant B)",
    ]
    rows = read_csv(client.get(URL + "health/csv/"))
    assert {r["server"] for r in rows} == {"alpha", "beta", "gamma"}


def test_seven_days_of_health_are_drawn_in_cells_of_four_hours(admin, servers):
    html = assert_page_says(admin.client().get(URL, {"period": "7d"}), 200, "per 4 hours")
    grid = html[html.index('<div id="health-grid">') :]
    first_row = grid[: grid.index("</g>")]
    assert first_row.count("<rect ") == 42
    assert "0 of 2 healthy, 0 degraded, 2 unhealthy" in first_row  # gamma's two checks
