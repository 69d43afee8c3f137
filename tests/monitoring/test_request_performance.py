"""The request performance page shows the function's own numbers, scoped, sorted and flagged."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from audit.models import AuditLog
from registry.factories import McpServerFactory
from tests.conftest import make_persona
from tests.monitoring.conftest import add_logs, as_number, function_rows, read_cells, read_csv
from tests.pages import assert_page_says, assert_refused

pytestmark = pytest.mark.django_db

URL = "/analytics/performance/"
COLUMNS = (
    "total_requests",
    "error_count",
    "error_rate",
    "avg_duration_ms",
    "p50_duration_ms",
    "p95_duration_ms",
)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("hours", [1, 6, 24, 168])
def test_numbers_on_the_page_are_the_functions_own(admin, traffic, hours):
    expected = function_rows("SELECT * FROM get_request_performance_summary(%s)", [hours])
    assert expected, "the fixture should produce traffic in every window"

    response = admin.client().get(URL, {"hours": hours})

    assert response.status_code == 200
    cells = read_cells(response.content.decode())
    assert sorted(cells.row_order) == sorted(str(row["server_id"]) for row in expected)
    for row in expected:
        for column in COLUMNS:
            shown = as_number(cells.values[(str(row["server_id"]), column)])
            assert _close(shown, float(row[column])), (row["server_name"], column)


def test_the_window_decides_which_servers_appear(admin, traffic):
    client = admin.client()
    one_hour = client.get(URL, {"hours": 1}).content.decode()
    week = client.get(URL, {"hours": 168}).content.decode()
    assert "old-reports" not in one_hour
    assert "old-reports" in week


def test_p95_of_the_busy_server_is_what_postgres_computes(admin, traffic):
    # Durations 100, 300, 900, 2500, 4000: percentile_cont(0.95) interpolates to 3700.
    response = admin.client().get(URL, {"hours": 24})
    cells = read_cells(response.content.decode())
    assert as_number(cells.values[(str(traffic.a_busy.pk), "p95_duration_ms")]) == 3700.0
    assert as_number(cells.values[(str(traffic.a_busy.pk), "p50_duration_ms")]) == 900.0
    assert "3,700.0 ms" in response.content.decode()


def _row(html: str, server) -> str:
    row = html[html.index(f'data-server-id="{server.pk}"') :]
    return row[: row.index("</tr>")]


def test_slow_and_failing_servers_are_highlighted(admin, traffic):
    client = admin.client()
    last_hour = client.get(URL, {"hours": 1}).content.decode()
    busy = _row(last_hour, traffic.a_busy)  # p95 3700 ms, 2 errors in 5
    assert "row-bad" in busy and "flag-slow" in busy and "flag-failing" in busy
    quiet = _row(last_hour, traffic.a_quiet)  # 10-30 ms, no error
    assert "flag-slow" not in quiet and "flag-failing" not in quiet and "row-" not in quiet
    # Over 6 hours the quiet server also had a 429 out of 5 requests: 20% errors, failing.
    six_hours = client.get(URL, {"hours": 6}).content.decode()
    assert "flag-failing" in _row(six_hours, traffic.a_quiet)


def test_the_page_has_charts_and_the_p95_column(admin, traffic):
    html = admin.client().get(URL, {"hours": 24}).content.decode()
    assert html.count('<svg class="chart"') == 2
    assert 'data-column="p95_duration_ms"' in html
    assert "p95 duration per server" in html
    assert "style=" not in html.split('id="performance-charts"')[1].split("</div>")[0]


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("-p95_duration_ms", "p95_duration_ms", True),
        ("p95_duration_ms", "p95_duration_ms", False),
        ("-error_rate", "error_rate", True),
        ("server_name", "server_name", False),
        ("-total_requests", "total_requests", True),
    ],
)
def test_sorting_by_a_whitelisted_column(admin, traffic, sort, key, reverse):
    expected = function_rows("SELECT * FROM get_request_performance_summary(24)")
    expected.sort(key=lambda row: row[key], reverse=reverse)
    response = admin.client().get(URL, {"hours": 24, "sort": sort})
    cells = read_cells(response.content.decode())
    assert cells.row_order == [str(row["server_id"]) for row in expected]


@pytest.mark.parametrize(
    "params",
    [
        {"hours": "2"},
        {"hours": "0"},
        {"hours": "-24"},
        {"hours": "abc"},
        {"hours": "24\x00"},
        {"hours": "9" * 40},
        {"hours": "720"},
    ],
)
def test_a_window_not_offered_is_a_clear_error(admin, traffic, params):
    response = admin.client().get(URL, params)
    assert response.status_code == 400
    assert "Choose a window of 1, 6, 24 or 168 hours." in response.content.decode()
    assert "busy-search" not in response.content.decode()


@pytest.mark.parametrize("sort", ["password", "-server_id; DROP TABLE mcp_servers", "\x00", "--"])
def test_a_sort_key_not_offered_is_a_clear_error(admin, traffic, sort):
    response = admin.client().get(URL, {"hours": 24, "sort": sort})
    assert response.status_code == 400
    assert "Sort by one of the table" in response.content.decode()


def test_tenant_admin_sees_only_their_tenants_servers(tenant_admin_a, traffic):
    response = tenant_admin_a.client().get(URL, {"hours": 24})
    html = response.content.decode()
    assert response.status_code == 200
    assert "busy-search" in html and "quiet-files" in html
    assert "beta-secret-server" not in html
    assert "Tenant B" not in html
    cells = read_cells(html)
    assert str(traffic.b_server.pk) not in cells.row_order


def test_tenant_admin_without_a_tenant_sees_nothing(traffic):
    orphan = make_persona("tenant_admin", tenant=None)
    html = orphan.client().get(URL, {"hours": 24}).content.decode()
    assert "busy-search" not in html and "beta-secret-server" not in html
    assert "No request reached a server in this window." in html


def test_csv_holds_the_functions_numbers_and_is_audited(auditor, traffic):
    response = auditor.client().get(URL + "csv/", {"hours": 6})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]
    rows = {row["server_id"]: row for row in read_csv(response)}
    expected = function_rows("SELECT * FROM get_request_performance_summary(6)")
    assert set(rows) == {str(row["server_id"]) for row in expected}
    for row in expected:
        for column in COLUMNS:
            assert _close(float(rows[str(row["server_id"])][column]), float(row[column]))
    entry = AuditLog.unscoped.get(action="analytics.export")
    assert entry.actor_id == auditor.gateway_user.id
    assert entry.details["report"] == "request_performance"
    assert entry.details["hours"] == 6
    assert entry.details["rows"] == len(expected)


def test_tenant_admins_csv_leaves_out_other_tenants(tenant_admin_a, traffic):
    response = tenant_admin_a.client().get(URL + "csv/", {"hours": 24})
    names = {row["server_name"] for row in read_csv(response)}
    assert names == {"busy-search", "quiet-files"}
    entry = AuditLog.unscoped.get(action="analytics.export")
    assert entry.tenant_id == tenant_admin_a.gateway_user.tenant_id


def test_csv_with_a_bad_window_is_refused_and_not_audited(admin, traffic):
    response = admin.client().get(URL + "csv/", {"hours": "5"})
    assert response.status_code == 400
    assert not AuditLog.unscoped.filter(action="analytics.export").exists()


def test_a_formula_in_a_server_name_is_neutralised_in_the_csv(admin, tenant_a):

    server = McpServerFactory.create(tenant=tenant_a, name='=HYPERLINK("http://evil")')
    add_logs(server, dt.timedelta(minutes=5), [(200, 10)])
    rows = read_csv(admin.client().get(URL + "csv/", {"hours": 1}))
    assert rows[0]["server_name"].startswith("'=")


def test_a_server_name_is_text_not_markup(admin, tenant_a):

    server = McpServerFactory.create(tenant=tenant_a, name="<script>alert(1)</script>")
    add_logs(server, dt.timedelta(minutes=5), [(200, 10)])
    html = admin.client().get(URL, {"hours": 1}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("persona", ["support"])
def test_roles_without_analytics_are_refused_and_recorded(request, persona, traffic):
    person = request.getfixturevalue(persona)
    response = person.client().get(URL)
    assert_refused(response)
    assert AuditLog.unscoped.filter(
        actor_id=person.gateway_user.id, outcome="denied", action="staff.access"
    ).exists()
    assert_refused(person.client().get(URL + "csv/"))
    assert not AuditLog.unscoped.filter(action="analytics.export").exists()


def test_anonymous_and_plain_users_are_sent_to_sign_in(client, plain_user):
    for c in (client, plain_user.client()):
        response = c.get(URL)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_server_names_link_to_the_registry_only_for_those_who_may_open_it(admin, auditor, traffic):
    link = f'href="/admin/registry/mcpserver/{traffic.a_busy.pk}/change/"'
    admin_html = admin.client().get(URL, {"hours": 24}).content.decode()
    assert link in admin_html
    page = admin.client().get(f"/admin/registry/mcpserver/{traffic.a_busy.pk}/change/")
    assert_page_says(page, 200, "<h1>View MCP server</h1>", traffic.a_busy.name)

    auditor_html = auditor.client().get(URL, {"hours": 24}).content.decode()
    assert "busy-search" in auditor_html
    assert "/admin/registry/" not in auditor_html
