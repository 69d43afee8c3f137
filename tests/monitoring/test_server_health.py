"""The server health page shows get_server_health_summary() as it is; only platform-wide roles."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from audit.models import AuditLog
from registry.factories import McpServerFactory
from tests.monitoring.conftest import as_number, function_rows, read_cells, read_csv
from tests.pages import assert_page_says, assert_refused

pytestmark = pytest.mark.django_db

URL = "/analytics/health/"


@pytest.fixture
def servers(tenant_a, tenant_b):
    McpServerFactory.create(tenant=tenant_a, avg_response_time_ms=100, success_rate=1.0)
    McpServerFactory.create(tenant=tenant_b, avg_response_time_ms=300, success_rate=0.9, stale=True)
    McpServerFactory.create(tenant=tenant_a, degraded=True)
    McpServerFactory.create(tenant=tenant_b, unhealthy=True)
    McpServerFactory.create(tenant=tenant_a, unknown=True)
    McpServerFactory.create(tenant=tenant_a, inactive=True, avg_response_time_ms=9999)


def test_numbers_on_the_page_are_the_functions_own(auditor, servers):
    expected = function_rows("SELECT * FROM get_server_health_summary()")
    response = auditor.client().get(URL)
    assert response.status_code == 200
    cells = read_cells(response.content.decode(), row_attr="data-status")
    assert cells.row_order == [row["health_status"] for row in expected]
    for row in expected:
        for column in ("server_count", "avg_response_time_ms", "avg_success_rate"):
            shown = as_number(cells.values[(row["health_status"], column)])
            wanted = row[column]
            if wanted is None:
                assert shown is None
            else:
                assert shown is not None and math.isclose(shown, wanted)
        stale = as_number(cells.values[(row["health_status"], "stale_check_count")])
        assert stale == row["stale_check_count"]
    healthy = next(row for row in expected if row["health_status"] == "healthy")
    assert healthy["server_count"] == 2 and healthy["stale_check_count"] == 1
    assert healthy["avg_response_time_ms"] == 200.0  # the inactive server is not counted


def test_the_page_has_charts(admin, servers):
    html = admin.client().get(URL).content.decode()
    assert html.count('<svg class="chart"') == 2
    assert "Active servers per health status" in html


def test_csv_matches_the_function_and_is_audited(admin, servers):
    response = admin.client().get(URL + "csv/")
    rows = read_csv(response)
    expected = function_rows("SELECT * FROM get_server_health_summary()")
    assert [r["health_status"] for r in rows] == [r["health_status"] for r in expected]
    assert [int(r["server_count"]) for r in rows] == [r["server_count"] for r in expected]
    entry = AuditLog.unscoped.get(action="analytics.export")
    assert entry.details["report"] == "server_health" and entry.actor_type == "staff"


@pytest.mark.parametrize("persona", ["tenant_admin_a", "support"])
def test_roles_not_platform_wide_are_refused(request, persona, servers):
    person = request.getfixturevalue(persona)
    client = person.client()
    assert_refused(client.get(URL))
    assert_refused(client.get(URL + "csv/"))
    assert AuditLog.unscoped.filter(actor_id=person.gateway_user.id, outcome="denied").count() == 2
    assert not AuditLog.unscoped.filter(action="analytics.export").exists()


def test_a_stale_check_is_one_older_than_five_minutes(admin, tenant_a):
    now = dt.datetime.now(dt.UTC)
    McpServerFactory.create(tenant=tenant_a, last_health_check_at=now - dt.timedelta(minutes=4))
    McpServerFactory.create(tenant=tenant_a, last_health_check_at=now - dt.timedelta(minutes=6))
    cells = read_cells(admin.client().get(URL).content.decode(), row_attr="data-status")
    assert as_number(cells.values[("healthy", "stale_check_count")]) == 1


def test_the_registry_link_is_only_offered_to_those_who_may_open_it(admin, auditor, servers):
    link = 'href="/admin/registry/mcpserver/"'
    assert link in admin.client().get(URL).content.decode()
    assert_page_says(
        admin.client().get("/admin/registry/mcpserver/"), 200, "<h1>Select MCP server to view</h1>"
    )
    auditor_html = auditor.client().get(URL).content.decode()
    assert "/admin/registry/" not in auditor_html
    assert_refused(auditor.client().get("/admin/registry/mcpserver/"))  # where it would lead
