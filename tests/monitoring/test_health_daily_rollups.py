"""Daily health rollups: a window's whole days read them, and the page's numbers stay those of
the checks themselves (and of the hourly path), partial days and a late check included."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring import health_trends, rollups
from monitoring.models import HealthCheckDailyRollup, HealthCheckRollupFrontier
from registry.factories import McpServerFactory, ServerHealthCheckFactory
from registry.models import McpServer, ServerHealthCheck
from tests.monitoring.conftest import read_csv
from tests.pages import assert_page_says

pytestmark = pytest.mark.django_db
URL = "/analytics/trends/"
DAY = dt.timedelta(days=1)

# Every server checked every 37 minutes over the last 64 days (both 30-day periods), one check
# in 17 degraded and one in 29 unhealthy, at offsets of their own per server.
CHECKS_SQL = """
INSERT INTO server_health_checks (server_id, checked_at, status, response_time_ms)
SELECT s.id, at,
       (CASE WHEN (n + k) %% 29 = 0 THEN 'unhealthy' WHEN (n + k) %% 17 = 0 THEN 'degraded'
             ELSE 'healthy' END)::server_health,
       100
FROM unnest(%(servers)s::uuid[]) WITH ORDINALITY AS s(id, k),
     generate_series(%(now)s - interval '64 days', %(now)s, interval '37 minutes')
         WITH ORDINALITY AS g(at, n)
"""


def _raw(since: dt.datetime, until: dt.datetime, cell: str) -> Counter[tuple[str, str, str]]:
    """The checks of [since, until) per (server, cell start, status), from the table itself."""
    found: Counter[tuple[str, str, str]] = Counter()
    for check in ServerHealthCheck.unscoped.filter(
        checked_at__gte=since, checked_at__lt=until
    ).select_related("server"):
        at = check.checked_at.astimezone(dt.UTC)
        start = rollups.floor_day(at) if cell == "day" else rollups.floor_hour(at)
        found[(check.server.name, start.isoformat(), str(check.status))] += 1
    return found


def _shown(rows: list[dict[str, str]], period: str) -> Counter[tuple[str, str, str]]:
    found: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        if row["period"] != period:
            continue
        for status in health_trends.STATUSES:
            if int(row[status]):
                found[(row["server"], row["start_utc"], status)] += int(row[status])
    return found


@pytest.fixture
def rolled(tenant_a):
    """Two servers' checks, rolled up to 01:10 yesterday, then a check of the day before that
    arriving late (after its day was rolled) and a second run that recounts it."""
    alpha = McpServerFactory.create(tenant=tenant_a, name="alpha")
    beta = McpServerFactory.create(tenant=tenant_a, name="beta")
    now = dt.datetime.now(dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(CHECKS_SQL, {"servers": [alpha.pk, beta.pk], "now": now})
    yesterday = rollups.floor_day(now) - DAY
    run_at = yesterday + dt.timedelta(hours=1, minutes=10)
    assert health_trends.update_health_rollups(now=run_at) > 0
    frontier = HealthCheckRollupFrontier.objects.get()
    assert frontier.days_rolled_until == yesterday
    day_before = yesterday - DAY
    rolled_day = HealthCheckDailyRollup.objects.get(server_id=beta.pk, day=day_before)
    late = ServerHealthCheckFactory.create(
        server=beta, checked_at=yesterday - dt.timedelta(minutes=20), unhealthy=True
    )
    health_trends.update_health_rollups(now=run_at + dt.timedelta(minutes=2))
    rolled_day.refresh_from_db()
    expected = ServerHealthCheck.unscoped.filter(
        server=beta, checked_at__gte=day_before, checked_at__lt=yesterday
    )
    assert rolled_day.unhealthy == expected.filter(status="unhealthy").count()
    assert late in expected
    return alpha, beta, now


def test_daily_rollups_are_the_sums_of_each_whole_days_checks(rolled):
    _, _, now = rolled
    frontier = HealthCheckRollupFrontier.objects.get()
    assert frontier.days_rolled_until is not None
    first = rollups.floor_day(now - dt.timedelta(days=64))
    expected = _raw(first, frontier.days_rolled_until, "day")
    found: Counter[tuple[str, str, str]] = Counter()
    names = {s.pk: s.name for s in McpServer.unscoped.all()}
    for row in HealthCheckDailyRollup.objects.all():
        for status in health_trends.STATUSES:
            if getattr(row, status):
                found[(names[row.server_id], row.day.isoformat(), status)] += getattr(row, status)
    assert found == expected and len(found) > 60


@pytest.mark.parametrize("period", ["30d", "7d", "custom"])
def test_pages_read_daily_rollups_and_show_what_the_checks_hold(admin, rolled, period):
    """30 days (daily points and totals), 7 days (totals only: its cells are 4 hours) and a
    custom range from 13:25 nine days ago to now (partial first day; the days after the daily
    frontier from the hourly rollups; the hours after theirs from the checks)."""
    _, _, now = rolled
    params = {"period": period}
    if period == "custom":
        start = rollups.floor_day(now) - 9 * DAY + dt.timedelta(hours=13, minutes=25)
        params.update({"start": start.isoformat(), "end": now.isoformat()})
    client = admin.client()
    with CaptureQueriesContext(connection) as queries:
        page = assert_page_says(client.get(URL, params), 200, "Server health over time")
        rows = read_csv(client.get(URL + "health/csv/", params))
    assert any("FROM health_check_daily_rollups" in q["sql"] for q in queries.captured_queries)
    grid = page[page.index('<div id="health-grid">') :]
    # The hourly path: the same page with no daily rollups to read.
    HealthCheckRollupFrontier.objects.update(days_rolled_until=None)
    with CaptureQueriesContext(connection) as queries:
        hourly_page = client.get(URL, params).content.decode()
        hourly_rows = read_csv(client.get(URL + "health/csv/", params))
    assert not any("FROM health_check_daily_rollups" in q["sql"] for q in queries.captured_queries)
    assert hourly_page[hourly_page.index('<div id="health-grid">') :] == grid
    assert hourly_rows == rows
    step = "hour" if period == "7d" else "day"
    starts = sorted({r["start_utc"] for r in rows if r["period"] == "current"})
    since = dt.datetime.fromisoformat(params.get("start", starts[0]))
    until = dt.datetime.fromisoformat(params["end"]) if period == "custom" else None
    until = until or dt.datetime.fromisoformat(starts[-1]) + (
        DAY if step == "day" else dt.timedelta(hours=1)
    )
    assert _shown(rows, "current") == _raw(since, until, step)
    assert _shown(rows, "previous") == _raw(since - (until - since), since, step)
    for server in ("alpha", "beta"):
        now_counts = _raw(since, until, step)
        before = _raw(since - (until - since), since, step)
        label = f"{_share(now_counts, server)} ({_share(before, server)} before)"
        assert label in grid


def _share(counts: Counter[tuple[str, str, str]], server: str) -> str:
    mine = {k: v for k, v in counts.items() if k[0] == server}
    healthy = sum(v for k, v in mine.items() if k[2] == "healthy")
    return f"{healthy / sum(mine.values()):.1%}"
