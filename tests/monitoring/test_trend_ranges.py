"""Trends over a custom range to the second: counts equal the contract's functions on the same
window, partial first and last hours included; every bad filter value is a message, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.factories import RequestLogFactory
from audit.models import RequestLog
from monitoring import rollups
from registry.factories import McpServerFactory
from tests.monitoring.conftest import function_rows, read_cells, read_csv
from tests.pages import assert_page_says

pytestmark = pytest.mark.django_db
URL = "/analytics/trends/"


def _database_now() -> dt.datetime:
    """The transaction's now(): the functions' "last N hours" end there, and the test client's
    requests run in the same transaction, so the page and the function see one window."""
    return function_rows("SELECT now() AS now")[0]["now"]


@pytest.fixture
def traffic(tenant_a, tenant_b):
    """Rows just inside and just outside a 3-hour window that starts and ends mid-hour, some in
    the period before it; half rolled up, the newest still in the log's tail."""
    now = _database_now()
    alpha = McpServerFactory.create(tenant=tenant_a, name="alpha")
    beta = McpServerFactory.create(tenant=tenant_b, name="beta")

    def add(server, count, ago, **extra):
        RequestLog.unscoped.bulk_create(
            RequestLogFactory.build_batch(count, server=server, created_at=now - ago, **extra)
        )

    edge = dt.timedelta(hours=3)
    add(alpha, 3, edge - dt.timedelta(seconds=1), status_code=500)  # just inside
    add(alpha, 4, edge + dt.timedelta(seconds=1))  # just outside: the period before
    add(beta, 6, dt.timedelta(hours=2, minutes=10), duration_ms=40)
    add(alpha, 11, dt.timedelta(hours=5, minutes=59), status_code=404)  # the period before
    add(alpha, 2, dt.timedelta(hours=6, seconds=1))  # before both periods
    rollups.update_settled_rollups()
    add(alpha, 8, dt.timedelta(minutes=1))
    add(beta, 5, dt.timedelta(seconds=2), status_code=502)
    return now, alpha, beta


def _custom(now: dt.datetime, **extra) -> dict[str, str]:
    return {
        "period": "custom",
        "start": (now - dt.timedelta(hours=3)).isoformat(),
        "end": now.isoformat(),
        **extra,
    }


def _totals(html: str) -> dict[tuple[str, str], str]:
    return read_cells(html, "data-period").values


def _performance(hours: int) -> dict[str, dict]:
    rows = function_rows("SELECT * FROM get_request_performance_summary(%s)", [hours])
    return {str(row["server_id"]): row for row in rows}


def test_a_custom_range_counts_what_the_function_counts(admin, traffic):
    now, _alpha, _beta = traffic
    html = assert_page_says(
        admin.client().get(URL, _custom(now)), 200, "counted exactly from the log"
    )
    assert now.minute or now.second or now.microsecond  # the range really starts mid-hour
    totals = _totals(html)
    three, six = _performance(3), _performance(6)
    assert int(totals[("current", "requests")]) == sum(r["total_requests"] for r in three.values())
    assert int(totals[("current", "requests")]) == 3 + 6 + 8 + 5
    assert int(totals[("current", "errors")]) == sum(r["error_count"] for r in three.values())
    # The period before ends where this one starts: the 6 hours less the last 3.
    before = sum(r["total_requests"] for r in six.values()) - int(totals[("current", "requests")])
    assert int(totals[("previous", "requests")]) == before == 4 + 11
    assert int(totals[("previous", "errors")]) == 11


def test_a_custom_range_per_tenant_and_server_matches_the_functions(admin, traffic, tenant_a):
    now, _alpha, beta = traffic
    client = admin.client()
    tenant = _totals(client.get(URL, _custom(now, tenant=tenant_a.pk)).content.decode())
    (usage,) = function_rows("SELECT * FROM get_tenant_usage_summary(%s, 3)", [tenant_a.pk])
    assert int(tenant[("current", "requests")]) == usage["total_requests"] == 11
    assert int(tenant[("current", "errors")]) == usage["error_count"] == 3
    server = _totals(client.get(URL, _custom(now, server=beta.pk)).content.decode())
    row = _performance(3)[str(beta.pk)]
    assert int(server[("current", "requests")]) == row["total_requests"] == 11
    assert float(server[("current", "error_rate")]) == pytest.approx(float(row["error_rate"]))
    assert float(server[("current", "p50_duration_ms")]) == pytest.approx(
        float(row["p50_duration_ms"]), abs=rollups.resolution_ms(float(row["p50_duration_ms"]))
    )


def test_the_csv_of_a_custom_range_has_its_partial_hours(admin, traffic):
    now, alpha, _beta = traffic
    rows = read_csv(admin.client().get(URL + "csv/", _custom(now, server=alpha.pk)))
    current = [r for r in rows if r["period"] == "current"]
    # 3 hours from mid-hour meet 4 clock hours: a partial first and a partial last one.
    assert len(current) == 4
    assert current[0]["start_utc"] == rollups.floor_hour(now - dt.timedelta(hours=3)).isoformat()
    assert sum(int(r["requests"]) for r in current) == 3 + 8
    assert sum(int(r["requests"]) for r in rows if r["period"] == "previous") == 4 + 11


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"tenant": "00000000-0000-4000-8000-000000000000"}, "Unknown tenant: choose one"),
        ({"tenant": "not-a-uuid"}, "Unknown tenant: choose one"),
        ({"server": "1234"}, "Unknown server: choose one"),
        ({"server": "00000000-0000-4000-8000-000000000000"}, "Unknown server: choose one"),
        ({"period": "1y"}, "Choose 24 hours, 7 days, 30 days or a custom period."),
        ({"step": "minute"}, "Choose hourly or daily points."),
        ({"period": "custom"}, "Give the start (From) and the end (To)"),
        ({"period": "custom", "start": "yesterday", "end": "2026-01-02"}, "Enter a date"),
        ({"period": "custom", "start": "2026-13-01", "end": "2026-01-02"}, "Enter a date"),
        ({"period": "custom", "start": "2026-01-01T10:00\x00", "end": "x"}, "Enter a date"),
        (
            {"period": "custom", "start": "2026-01-02T10:00", "end": "2026-01-02T09:59"},
            "The end (To) must be after the start (From).",
        ),
        (
            {"period": "custom", "start": "2024-01-01", "end": "2025-06-01"},
            "Choose a period of at most 366 days.",
        ),
        (
            {"period": "custom", "start": "0001-01-01", "end": "0001-01-02"},
            "Choose a start in 2000 or later.",
        ),
        (
            {"period": "custom", "start": "9999-12-30", "end": "9999-12-30T12:00"},
            "The period starts in the future",
        ),
        (
            {
                "period": "custom",
                "start": "2026-01-01T00:00-23:59",
                "end": "9999-12-31T23:59-01:00",
            },
            "Enter a date",
        ),
        ({"tool": "search"}, "Choose a server to see one of its tools."),
        ({"tool": "bad\x00name"}, "Null characters are not allowed."),
    ],
)
def test_bad_filter_values_are_a_message_with_400(admin, query, message):
    client = admin.client()
    assert_page_says(client.get(URL, query), 400, message)
    assert_page_says(client.get(URL + "csv/", query), 400, message)
    assert_page_says(client.get(URL + "health/csv/", query), 400, message)
