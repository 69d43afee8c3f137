"""Tenant usage: staff pick any tenant, a tenant admin only theirs; numbers are the function's."""

from __future__ import annotations

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditLog
from monitoring.models import AnalyticsResult
from security.factories import ApiKeyFactory
from tests.conftest import make_persona
from tests.monitoring.conftest import function_rows, read_csv
from tests.pages import assert_not_found, assert_refused

pytestmark = pytest.mark.django_db

INDEX = "/analytics/usage/"


def _usage_url(tenant) -> str:
    return f"/analytics/usage/{tenant.pk}/"


def _cards(html: str) -> dict[str, str]:
    from html.parser import HTMLParser

    found: dict[str, str] = {}

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if "data-metric" in attrs:
                found[attrs["data-metric"]] = attrs.get("data-value") or ""

    Reader().feed(html)
    return found


FIELDS = (
    "total_requests",
    "error_count",
    "distinct_users",
    "servers_used",
    "tools_used",
    "avg_duration_ms",
    "p95_duration_ms",
    "active_api_keys",
    "active_servers",
)


@pytest.mark.parametrize("hours", [1, 6, 24, 168])
def test_numbers_on_the_page_are_the_functions_own(admin, tenant_a, traffic, hours):
    ApiKeyFactory.create(tenant=tenant_a)
    ApiKeyFactory.create(tenant=tenant_a, revoked=True)
    (expected,) = function_rows(
        "SELECT * FROM get_tenant_usage_summary(%s, %s)", [tenant_a.pk, hours]
    )
    response = admin.client().get(_usage_url(tenant_a), {"hours": hours})
    assert response.status_code == 200
    cards = _cards(response.content.decode())
    for field in FIELDS:
        wanted = expected[field]
        shown = cards[field]
        if wanted is None:
            assert shown == "None"
        else:
            assert math.isclose(float(shown), float(wanted)), field
    assert expected["active_api_keys"] == 1


def test_the_page_calls_its_function_once_for_the_chosen_window(admin, tenant_a, traffic):
    with CaptureQueriesContext(connection) as queries:
        response = admin.client().get(_usage_url(tenant_a), {"hours": 168})
    assert response.status_code == 200
    calls = [q["sql"] for q in queries.captured_queries if "get_tenant_usage_summary" in q["sql"]]
    assert len(calls) == 1
    assert AnalyticsResult.objects.filter(name="tenant_usage").get().arguments == [
        str(tenant_a.pk),
        168,
    ]


def test_staff_pick_any_tenant_from_a_list(admin, tenant_a, tenant_b):
    response = admin.client().get(INDEX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Tenant A" in html and "Tenant B" in html
    picked = admin.client().get(INDEX, {"tenant": str(tenant_b.pk), "hours": "6"})
    assert picked.status_code == 302
    assert picked["Location"] == f"{_usage_url(tenant_b)}?hours=6"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not-a-uuid", "is not a valid UUID."),
        ("00000000-0000-0000-0000-000000000000", "Choose one of the tenants in the list."),
        ("\x00", "Null characters are not allowed."),
    ],
)
def test_picking_a_tenant_not_in_the_list_is_a_clear_error(admin, tenant_a, value, message):
    response = admin.client().get(INDEX, {"tenant": value, "hours": "24"})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_tenant_admin_sees_only_their_own_tenant(tenant_admin_a, tenant_a, tenant_b, traffic):
    client = tenant_admin_a.client()
    response = client.get(INDEX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Usage of Tenant A" in html
    assert "Tenant B" not in html and "beta-secret-server" not in html
    assert 'name="tenant"' not in html  # no tenant picker at all
    (expected,) = function_rows("SELECT * FROM get_tenant_usage_summary(%s, 24)", [tenant_a.pk])
    assert _cards(html)["total_requests"] == str(expected["total_requests"])


def test_another_tenants_usage_is_a_404_for_a_tenant_admin(tenant_admin_a, tenant_b):
    client = tenant_admin_a.client()
    assert_not_found(client.get(_usage_url(tenant_b)))
    assert_not_found(client.get(_usage_url(tenant_b) + "csv/"))
    assert not AuditLog.unscoped.filter(action="analytics.export").exists()


def test_an_unknown_tenant_is_a_404(admin):
    unknown = "/analytics/usage/00000000-0000-0000-0000-000000000000/"
    assert_not_found(admin.client().get(unknown))
    assert_not_found(admin.client().get("/analytics/usage/not-a-uuid/"))


def test_tenant_admin_without_a_tenant_is_told_so(db):
    orphan = make_persona("tenant_admin", tenant=None)
    response = orphan.client().get(INDEX)
    assert response.status_code == 200
    assert "Your account belongs to no tenant" in response.content.decode()


@pytest.mark.parametrize("hours", ["0", "12", "x", "1e3"])
def test_a_bad_window_is_a_clear_error(admin, tenant_a, hours):
    response = admin.client().get(_usage_url(tenant_a), {"hours": hours})
    assert response.status_code == 400
    assert "Choose a window of 1, 6, 24 or 168 hours." in response.content.decode()


def test_csv_is_the_pages_numbers_and_is_audited(tenant_admin_a, tenant_a, traffic):
    response = tenant_admin_a.client().get(_usage_url(tenant_a) + "csv/", {"hours": 6})
    rows = read_csv(response)
    assert [row["hours"] for row in rows] == ["6"]
    (expected,) = function_rows("SELECT * FROM get_tenant_usage_summary(%s, 6)", [tenant_a.pk])
    assert int(rows[-1]["total_requests"]) == expected["total_requests"]
    assert math.isclose(float(rows[-1]["p95_duration_ms"]), expected["p95_duration_ms"])
    entry = AuditLog.unscoped.get(action="analytics.export")
    assert entry.tenant_id == tenant_a.pk and entry.details["report"] == "tenant_usage"


def test_support_cannot_see_usage(support, tenant_a):
    assert_refused(support.client().get(INDEX))
    assert_refused(support.client().get(_usage_url(tenant_a)))


def test_the_page_charts_the_window_hour_by_hour_from_the_rollups(tenant_admin_a, traffic):
    html = tenant_admin_a.client().get(INDEX, {"hours": 6}).content.decode()
    charts = html[html.index('id="usage-charts"') :]
    assert charts.count('<svg class="chart"') == 2
    assert "Requests per hour" in charts and "p95 duration per hour (estimated)" in charts
    # One dot per hour of the 6-hour window on each chart; tenant A's rows sum to its total.
    assert charts.count('<circle class="chart-dot"') >= 6
    shown = [
        int(title.split(": ")[1].split("<")[0].replace(",", ""))
        for title in charts.split('<circle class="chart-dot"')[1:7]
    ]
    assert sum(shown) == 10  # 5 + 3 in the last 30 minutes, 2 three hours ago
