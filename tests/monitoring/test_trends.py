"""The trends page: series from the rollups, beside the period before, scoped fail-closed, as
SVG that reads in both themes and as CSV."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.factories import RequestLogFactory
from audit.models import AuditLog, RequestLog
from monitoring import rollups
from monitoring.models import RequestRollupFrontier
from registry.factories import McpServerFactory, ServerHealthCheckFactory
from tests.monitoring.conftest import function_rows, read_cells, read_csv
from tests.pages import assert_page_says

pytestmark = pytest.mark.django_db
URL = "/analytics/trends/"


@pytest.fixture
def requests(tenant_a, tenant_b):
    """Rows in both tenants over the last 20 hours, some 30 hours ago (the period before), one
    tool named like a spreadsheet formula; half rolled up, half still in the log's tail."""
    now = dt.datetime.now(dt.UTC)
    a_server = McpServerFactory.create(tenant=tenant_a, name="alpha")
    b_server = McpServerFactory.create(tenant=tenant_b, name="beta")

    def add(server, count, ago, **extra):
        RequestLog.unscoped.bulk_create(
            RequestLogFactory.build_batch(count, server=server, created_at=now - ago, **extra)
        )

    add(a_server, 40, dt.timedelta(hours=2), tool_name="search", duration_ms=120)
    add(a_server, 10, dt.timedelta(hours=5), tool_name="=HYPERLINK(1)", status_code=500)
    add(a_server, 7, dt.timedelta(hours=30), tool_name="search")
    rollups.update_settled_rollups()
    add(a_server, 5, dt.timedelta(minutes=3), tool_name="search", status_code=404)
    add(b_server, 9, dt.timedelta(hours=1), tool_name="secret-tool")
    return a_server, b_server


def _totals(html: str) -> dict[tuple[str, str], str]:
    return read_cells(html, "data-period").values


def test_a_tenant_admin_sees_their_own_tenant_and_its_numbers(tenant_admin_a, tenant_a, requests):
    response = tenant_admin_a.client().get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    (usage,) = function_rows("SELECT * FROM get_tenant_usage_summary(%s, 24)", [tenant_a.pk])
    totals = _totals(html)
    assert int(totals[("current", "requests")]) == usage["total_requests"] == 55
    assert int(totals[("current", "errors")]) == usage["error_count"] == 15
    assert int(totals[("previous", "requests")]) == 7
    assert "beta" not in html and "secret-tool" not in html and "Whole platform" not in html


def test_another_tenants_tenant_or_server_reads_as_unknown(tenant_admin_a, tenant_b, requests):
    """A filter value outside the person's tenant is answered as an unknown one (400, the same
    words), like a choice outside the audit explorers' lists; the probe is audited."""
    client = tenant_admin_a.client()
    unknown = "00000000-0000-4000-8000-000000000000"
    for field, other in (("tenant", tenant_b.pk), ("server", requests[1].pk)):
        probe = assert_page_says(
            client.get(URL, {field: other}), 400, f"Unknown {field}: choose one from the list."
        )
        mistyped = assert_page_says(
            client.get(URL, {field: unknown}), 400, f"Unknown {field}: choose one from the list."
        )
        assert "beta" not in probe and "Tenant B" not in probe and "beta" not in mistyped
    assert_page_says(client.get(URL + "csv/", {"server": requests[1].pk}), 400, "Unknown server")
    assert AuditLog.unscoped.filter(outcome="denied", resource_id=str(requests[1].pk)).count() == 2
    assert client.get(URL, {"server": requests[0].pk}).status_code == 200


def test_staff_see_the_platform_then_narrow_to_a_server_and_tool(admin, requests):
    client = admin.client()
    platform = _totals(client.get(URL).content.decode())
    assert int(platform[("current", "requests")]) == 64
    alpha, _ = requests
    tool = _totals(client.get(URL, {"server": alpha.pk, "tool": "search"}).content.decode())
    assert int(tool[("current", "requests")]) == 45
    assert int(tool[("current", "errors")]) == 5
    assert float(tool[("current", "error_rate")]) == 5 / 45
    assert float(tool[("current", "p50_duration_ms")]) == pytest.approx(
        120, abs=rollups.resolution_ms(120)
    )


def test_thirty_days_are_daily_points_and_a_custom_range_is_checked(admin, requests):
    client = admin.client()
    html = client.get(URL, {"period": "30d"}).content.decode()
    assert "daily points, beside the 30 days before" in html
    assert html.count('<circle class="chart-dot"') >= 30  # at least the requests chart's days
    today = dt.datetime.now(dt.UTC).date()
    bad = client.get(URL, {"period": "custom", "start": today, "end": today - dt.timedelta(days=3)})
    assert bad.status_code == 400
    assert "The end (To) must be after the start (From)." in bad.content.decode()
    too_long = client.get(
        URL,
        {
            "period": "custom",
            "start": today - dt.timedelta(days=60),
            "end": today,
            "step": "hour",
        },
    )
    assert too_long.status_code == 400
    assert "Hourly points cover at most 31 days" in too_long.content.decode()
    assert client.get(URL, {"period": "1y"}).status_code == 400
    assert client.get(URL, {"server": "not-a-uuid"}).status_code == 400
    assert client.get(URL, {"tool": "search"}).status_code == 400


def test_charts_are_svg_drawn_with_theme_classes_not_colours(admin, requests):
    html = admin.client().get(URL, {"server": requests[0].pk}).content.decode()
    svg = html[html.index('<div class="chart-pair" id="trend-charts">') :]
    assert svg.count('<svg class="chart"') == 5
    assert 'class="chart-line-previous"' in svg and 'class="chart-line"' in svg
    assert "style=" not in svg and 'fill="#' not in svg and 'stroke="#' not in svg


def test_a_servers_health_over_time(admin, requests):
    alpha = requests[0]
    now = dt.datetime.now(dt.UTC)
    ServerHealthCheckFactory.create(server=alpha, checked_at=now - dt.timedelta(hours=3))
    ServerHealthCheckFactory.create(
        server=alpha, checked_at=now - dt.timedelta(hours=3), unhealthy=True
    )
    html = admin.client().get(URL, {"server": alpha.pk}).content.decode()
    assert "Health checks that found the server healthy (%)" in html
    assert "1 of 2 healthy, 0 degraded, 1 unhealthy" in html


def test_csv_holds_both_periods_escapes_formulas_and_is_audited(tenant_admin_a, tenant_a, requests):
    response = tenant_admin_a.client().get(URL + "csv/", {"server": requests[0].pk})
    rows = read_csv(response)
    assert {row["period"] for row in rows} == {"current", "previous"}
    assert len(rows) == 48
    assert sum(int(r["requests"]) for r in rows if r["period"] == "current") == 55
    entry = AuditLog.unscoped.get(action="analytics.export")
    assert entry.tenant_id == tenant_a.pk and entry.details["report"] == "trends"


def test_csv_escapes_a_formula_tool_name(admin, requests):
    response = admin.client().get(URL + "csv/", {"server": requests[0].pk, "tool": "=HYPERLINK(1)"})
    rows = read_csv(response)
    assert {row["tool"] for row in rows} == {"'=HYPERLINK(1)"}
    assert sum(int(r["errors"]) for r in rows) == 10


def test_support_has_no_trends(support):
    assert support.client().get(URL).status_code == 403


def test_the_page_reads_the_log_only_above_the_rollups_watermark(admin, requests):
    with CaptureQueriesContext(connection) as queries:
        admin.client().get(URL, {"period": "30d"})
    log_reads = [q["sql"] for q in queries.captured_queries if "FROM request_logs" in q["sql"]]
    assert log_reads  # the tail, twice (this period and the one before)
    watermark = RequestRollupFrontier.objects.get().rolled_below_id
    assert all(f"WHERE id >= {watermark} AND" in sql for sql in log_reads)
