"""The hourly rollups: counts and error rates equal the contract functions' on the same rows,
medians and p95s within the documented resolution, built from new rows only, never skipping a
row committed late."""

from __future__ import annotations

import datetime as dt
import math
import random

import psycopg
import pytest
from django.db import connection

from audit.factories import RequestLogFactory
from audit.models import RequestLog
from monitoring import rollups
from monitoring.models import RequestRollupFrontier
from registry.factories import McpServerFactory
from tests.monitoring.conftest import function_rows

pytestmark = pytest.mark.django_db


def _window() -> tuple[dt.datetime, dt.datetime]:
    """The last 23 whole hours and the current one: inside the functions' 24-hour window."""
    this_hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return this_hour - dt.timedelta(hours=22), this_hour + dt.timedelta(hours=1)


@pytest.fixture
def known_rows(tenant_a, tenant_b):
    """1,500 rows over the last 21 hours in three servers and two tools, durations from 0 ms
    to 40 s, about 1 in 8 an error; and rows 30 hours ago that no 24-hour window holds."""
    generator = random.Random(14)
    servers = [
        McpServerFactory.create(tenant=tenant_a, name="alpha"),
        McpServerFactory.create(tenant=tenant_a, name="beta"),
        McpServerFactory.create(tenant=tenant_b, name="gamma"),
    ]
    now = dt.datetime.now(dt.UTC)
    rows = []
    for _ in range(1500):
        server = generator.choice(servers)
        rows.append(
            RequestLogFactory.build(
                server=server,
                tool_name=generator.choice(["search", "read", None]),
                status_code=generator.choice([200] * 7 + [500, 404]),
                duration_ms=int(generator.lognormvariate(5, 1.5)) % 40_000,
                created_at=now - dt.timedelta(minutes=generator.randint(1, 21 * 60)),
            )
        )
    for _ in range(20):
        rows.append(
            RequestLogFactory.build(server=servers[0], created_at=now - dt.timedelta(hours=30))
        )
    RequestLog.unscoped.bulk_create(rows)
    return servers


def _close(estimate: float | None, exact: float | None) -> bool:
    assert estimate is not None and exact is not None
    return abs(estimate - exact) <= rollups.resolution_ms(exact)


def test_server_numbers_equal_the_performance_function(known_rows):
    rollups.update_settled_rollups()
    since, until = _window()
    expected = function_rows("SELECT * FROM get_request_performance_summary(24)")
    assert len(expected) == 3
    for row in expected:
        scope = rollups.Scope(tenant_id=row["tenant_id"], server_id=row["server_id"])
        whole = rollups.total(rollups.hourly_series(scope, since, until))
        assert whole.requests == row["total_requests"]
        assert whole.errors == row["error_count"]
        assert whole.error_rate == row["error_rate"]
        assert whole.avg_duration_ms is not None
        assert math.isclose(whole.avg_duration_ms, row["avg_duration_ms"])
        assert _close(whole.p50_duration_ms, row["p50_duration_ms"]), row
        assert _close(whole.p95_duration_ms, row["p95_duration_ms"]), row


def test_tenant_numbers_equal_the_usage_function(known_rows, tenant_a, tenant_b):
    rollups.update_settled_rollups()
    since, until = _window()
    for tenant in (tenant_a, tenant_b):
        (row,) = function_rows("SELECT * FROM get_tenant_usage_summary(%s, 24)", [tenant.pk])
        whole = rollups.total(rollups.hourly_series(rollups.Scope(tenant.pk), since, until))
        assert (whole.requests, whole.errors) == (row["total_requests"], row["error_count"])
        assert _close(whole.p95_duration_ms, row["p95_duration_ms"])


def test_tools_and_the_platform_add_up(known_rows):
    rollups.update_settled_rollups()
    since, until = _window()
    alpha = known_rows[0]
    by_tool = {
        tool: rollups.total(
            rollups.hourly_series(rollups.Scope(alpha.tenant_id, alpha.pk, tool), since, until)
        ).requests
        for tool in ("search", "read")
    }
    assert by_tool == {
        tool: RequestLog.unscoped.filter(
            server=alpha, tool_name=tool, created_at__gte=since
        ).count()
        for tool in ("search", "read")
    }
    platform = rollups.total(rollups.hourly_series(rollups.Scope(), since, until))
    assert platform.requests == 1500


def test_each_hour_counts_its_own_rows(known_rows):
    rollups.update_settled_rollups()
    since, until = _window()
    series = rollups.hourly_series(rollups.Scope(), since, until)
    assert len(series) == 23
    for hour in series:
        end = hour.start + dt.timedelta(hours=1)
        assert (
            hour.requests
            == RequestLog.unscoped.filter(created_at__gte=hour.start, created_at__lt=end).count()
        )
    assert sum(d.requests for d in rollups.daily_series(series)) == 1500


def test_new_rows_are_read_from_the_tail_then_rolled_up_alone(known_rows):
    first = rollups.update_settled_rollups()
    assert first.rows_read == 1520
    since, until = _window()
    RequestLog.unscoped.bulk_create(
        RequestLogFactory.build_batch(
            30, server=known_rows[2], status_code=503, created_at=dt.datetime.now(dt.UTC)
        )
    )
    scope = rollups.Scope(known_rows[2].tenant_id, known_rows[2].pk)
    before = rollups.total(rollups.hourly_series(scope, since, until))
    second = rollups.update_settled_rollups()
    assert second.rows_read == 30  # only the new rows were read
    after = rollups.total(rollups.hourly_series(scope, since, until))
    assert (after.requests, after.errors) == (before.requests, before.errors)
    (row,) = [
        r
        for r in function_rows("SELECT * FROM get_request_performance_summary(24)")
        if r["server_id"] == known_rows[2].pk
    ]
    assert (after.requests, after.errors) == (row["total_requests"], row["error_count"])


def test_a_row_committed_late_is_not_skipped(known_rows):
    # Another session draws an id before the test's rows and commits only after two runs.
    late = psycopg.connect(**connection.get_connection_params())
    try:
        late.execute(
            "INSERT INTO request_logs (method, status_code, duration_ms, created_at)"
            " VALUES ('tools/call', 500, 7, now())"
        )
        RequestLog.unscoped.bulk_create(
            RequestLogFactory.build_batch(
                5, server=known_rows[0], created_at=dt.datetime.now(dt.UTC)
            )
        )
        rollups.update_settled_rollups()
        rollups.update_settled_rollups()
        frontier = RequestRollupFrontier.objects.get()
        late_id = late.execute("SELECT max(id) FROM request_logs").fetchone()[0]  # type: ignore[index]
        assert frontier.rolled_below_id <= late_id  # held back while it may still commit
        late.commit()
    finally:
        late.close()
    try:
        rollups.update_settled_rollups()
        since, until = _window()
        platform = rollups.total(rollups.hourly_series(rollups.Scope(), since, until))
        assert platform.requests == 1500 + 5 + 1
        assert RequestRollupFrontier.objects.get().rolled_below_id > late_id
    finally:
        # Committed outside the test's transaction: remove it, or later tests would count it.
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as cleanup:
            cleanup.execute("DELETE FROM request_logs WHERE id = %s", [late_id])


@pytest.mark.parametrize(
    ("durations", "fraction"),
    [([5] * 10, 0.95), (list(range(1, 9)), 0.5), ([100, 200, 300, 4000], 0.95), ([0, 0, 1], 0.5)],
)
def test_percentiles_from_the_histogram_are_within_resolution(durations, fraction):
    histogram = [0] * rollups.BUCKETS
    for duration in durations:
        histogram[rollups.bucket_of(duration)] += 1
    ordered = sorted(durations)
    rank = fraction * (len(ordered) - 1)
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    exact = low + (rank - math.floor(rank)) * (high - low)
    assert _close(rollups.percentile(histogram, fraction), exact)
    if max(durations) <= 8:
        assert rollups.percentile(histogram, fraction) == exact  # whole milliseconds: exact


def _walked_percentile(histogram, fraction):
    """The estimate as first written: walk the buckets to the rank's one (the reference)."""

    def nth(position):
        seen = 0
        for index, count in enumerate(histogram):
            if position < seen + count:
                low, high = rollups._bucket_range(index)
                if count == 1:
                    return (low + high) / 2
                return low + (position - seen) * (high - low) / (count - 1)
            seen += count
        raise ValueError(position)

    total = sum(histogram)
    if total == 0:
        return None
    rank = fraction * (total - 1)
    low = nth(math.floor(rank))
    high = low if math.ceil(rank) == math.floor(rank) else nth(math.ceil(rank))
    return low + (rank - math.floor(rank)) * (high - low)


def test_the_percentile_search_equals_walking_the_buckets():
    rng = random.Random(14)
    for _ in range(2000):
        histogram = [
            rng.choice([0, 0, 0, 1, 2, 7, rng.randrange(5000)]) for _ in range(rollups.BUCKETS)
        ]
        for fraction in (0.0, 0.5, 0.95, 0.99, 1.0):
            assert rollups.percentile(histogram, fraction) == _walked_percentile(
                histogram, fraction
            )
    assert rollups.percentile([0] * rollups.BUCKETS, 0.5) is None


def test_adding_histograms_sums_bucket_by_bucket_whatever_their_length():
    hour = rollups.Hour(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    hour.add(3, 1, 30, [1, 2] + [0] * (rollups.BUCKETS - 2))
    hour.add(2, 0, 20, [0, 1, 1])  # a shorter one adds to its first buckets
    assert hour.histogram[:3] == [1, 3, 1]
    assert sum(hour.histogram) == 5
    assert (hour.requests, hour.errors, hour.duration_sum) == (5, 1, 50)
