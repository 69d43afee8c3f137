"""Daily request rollups: daily points read them for whole days and equal the sums of the
hourly path point for point (partial days, the tail above the watermark and a row arriving late
for a day already rolled included), and they are built from the hourly rollups once."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.factories import RequestLogFactory
from audit.models import RequestLog
from monitoring import request_days, rollups
from monitoring.models import RequestDailyRollup, RequestRollupFrontier
from monitoring.rollups import Scope
from registry.factories import McpServerFactory

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def _rows(servers, now: dt.datetime, count: int, seed: int) -> list[RequestLog]:
    generator = random.Random(seed)
    return [
        RequestLogFactory.build(
            server=generator.choice(servers),
            tool_name=generator.choice(["search", "read", None]),
            status_code=generator.choice([200] * 7 + [500, 404]),
            duration_ms=int(generator.lognormvariate(5, 1.5)) % 40_000,
            created_at=now - dt.timedelta(minutes=generator.randint(1, 62 * 24 * 60)),
        )
        for _ in range(count)
    ]


@pytest.fixture
def servers(tenant_a, tenant_b):
    """2,000 rows over the last 62 days in three servers of two tenants, rolled up."""
    found = [
        McpServerFactory.create(tenant=tenant_a, name="alpha"),
        McpServerFactory.create(tenant=tenant_a, name="beta"),
        McpServerFactory.create(tenant=tenant_b, name="gamma"),
    ]
    RequestLog.unscoped.bulk_create(_rows(found, dt.datetime.now(dt.UTC), 2000, 14))
    rollups.update_settled_rollups()
    return found


def _scopes(servers) -> list[Scope]:
    alpha = servers[0]
    return [
        Scope(),
        Scope(tenant_id=alpha.tenant_id),
        Scope(tenant_id=alpha.tenant_id, server_id=alpha.pk),
        Scope(tenant_id=alpha.tenant_id, server_id=alpha.pk, tool_name="search"),
    ]


def _ranges(now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    tomorrow = rollups.floor_day(now) + DAY
    return [
        (tomorrow - 30 * DAY, tomorrow),  # the 30-day period
        (tomorrow - 60 * DAY, tomorrow - 30 * DAY),  # the one before it
        (tomorrow - 10 * DAY + dt.timedelta(hours=13, minutes=25), now - dt.timedelta(minutes=7)),
        (now - dt.timedelta(hours=20), now),  # no whole day
    ]


def _raw(scope: Scope, since: dt.datetime, until: dt.datetime) -> Counter[tuple[str, str]]:
    """Requests and errors per UTC day, counted from the log itself."""
    rows = RequestLog.unscoped.filter(created_at__gte=since, created_at__lt=until)
    if scope.tenant_id:
        rows = rows.filter(tenant_id=scope.tenant_id)
    if scope.server_id:
        rows = rows.filter(server_id=scope.server_id)
    if scope.tool_name:
        rows = rows.filter(tool_name=scope.tool_name)
    found: Counter[tuple[str, str]] = Counter()
    for created_at, status in rows.values_list("created_at", "status_code"):
        day = rollups.floor_day(created_at).isoformat()
        found[(day, "requests")] += 1
        found[(day, "errors")] += status >= 400
    return found


def _counted(points: list[rollups.Hour]) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for point in points:
        found[(point.start.isoformat(), "requests")] += point.requests
        found[(point.start.isoformat(), "errors")] += point.errors
    return +found


def _assert_same_as_the_hourly_path(servers) -> None:
    now = dt.datetime.now(dt.UTC)
    for scope in _scopes(servers):
        for since, until in _ranges(now):
            with CaptureQueriesContext(connection) as queries:
                daily = request_days.daily_series(scope, since, until)
            hourly = rollups.daily_series(rollups.hourly_series(scope, since, until))
            assert daily == hourly, (scope, since, until)
            assert _counted(daily) == _raw(scope, since, until)
            read_days = any("FROM request_daily_rollups" in q["sql"] for q in queries)
            assert read_days == (until - since > DAY)
            # A period and the one before it read together (the page): the same points.
            pair = [(since - (until - since), since), (since, until)]
            assert request_days.daily_series_many(scope, pair) == [
                request_days.daily_series(scope, start, stop) for start, stop in pair
            ]
            if until - since < 20 * DAY:
                assert rollups.hourly_series_many(scope, pair) == [
                    rollups.hourly_series(scope, start, stop) for start, stop in pair
                ]


def test_daily_points_equal_the_hourly_path_and_the_log(servers):
    assert RequestDailyRollup.objects.exists()
    _assert_same_as_the_hourly_path(servers)


def test_late_rows_count_from_the_tail_then_from_their_days_rollups(servers):
    """Rows written after their days were rolled up (a gateway backfilling 20 days back)."""
    frontier = RequestRollupFrontier.objects.get()
    RequestLog.unscoped.bulk_create(_rows(servers, dt.datetime.now(dt.UTC), 300, 15))
    _assert_same_as_the_hourly_path(servers)  # the new rows from the tail
    rollups.update_settled_rollups()
    assert RequestRollupFrontier.objects.get().rolled_below_id > frontier.rolled_below_id
    _assert_same_as_the_hourly_path(servers)  # now from the rollups


def test_daily_rollups_are_the_hourly_ones_summed_and_built_from_them_once(servers):
    def contents() -> list[tuple]:
        return sorted(
            RequestDailyRollup.objects.values_list(
                "day",
                "grain",
                "tenant_id",
                "server_id",
                "tool_name",
                "requests",
                "errors",
                "duration_sum",
                "histogram",
            ),
            key=repr,
        )

    kept = contents()
    # As just after the migration: hourly rollups, no daily ones; pages read the hourly path.
    RequestDailyRollup.objects.all().delete()
    RequestRollupFrontier.objects.update(days_rolled_below_id=None)
    _assert_same_as_the_hourly_path_without_days(servers)
    rollups.update_rollups()
    assert contents() == kept
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM request_daily_rollups d
            WHERE d.requests <> (
                SELECT sum(h.requests) FROM request_rollups h
                WHERE h.grain = d.grain AND h.tenant_id IS NOT DISTINCT FROM d.tenant_id
                  AND h.server_id IS NOT DISTINCT FROM d.server_id
                  AND h.tool_name IS NOT DISTINCT FROM d.tool_name
                  AND h.hour >= d.day AND h.hour < d.day + interval '1 day')
            """
        )
        assert cursor.fetchone()[0] == 0
    assert len(kept) > 200


def _assert_same_as_the_hourly_path_without_days(servers) -> None:
    now = dt.datetime.now(dt.UTC)
    since, until = _ranges(now)[0]
    for scope in _scopes(servers):
        with CaptureQueriesContext(connection) as queries:
            daily = request_days.daily_series(scope, since, until)
        assert not any("FROM request_daily_rollups" in q["sql"] for q in queries)
        assert _counted(daily) == _raw(scope, since, until)
