"""Hourly rollups of ``request_logs`` in the back office's schema, kept from new rows only.

The trends pages need requests, errors, medians and p95s per hour over up to 30 days; computing
them from ``request_logs`` (no ``created_at`` index in the contract) scans the table. Instead
``update_rollups`` (run by ``refresh_analytics``, every minute) adds the rows written since its
last run to ``RequestRollup``: one row per hour at four grains (the platform, a tenant, a tenant's
server, a server's tool) with requests, errors (status >= 400, as the contract's functions count
them), the sum of durations and a histogram of durations over fixed buckets. The same run adds
the same groups per UTC day to ``RequestDailyRollup`` (in the same transaction, under the same
watermark, so a day's row is the sum of its hours), which daily points read
(``monitoring.request_days``).

Which rows are new is an id watermark (``RequestRollupFrontier.rolled_below_id``), moved only over
settled ids: the rule of ``audit.time_blocks`` (the max id seen by one run is settled once every
transaction that was writing to the table at that moment has ended), so a row committed late is
never skipped. Reads add the tail above the watermark from ``request_logs`` itself (a primary-key
range: a minute or two of rows), so counts are exact for whole hours. A custom range's first or
last hour that it covers only in part is counted from the log itself, within the id ranges that
``audit.time_blocks`` says can hold that time, so counts are exact for any range.

Resolution: counts, errors and error rates are exact. A median or p95 is estimated from the
histogram: the bucket bounds are the integers 1 to 8 ms, then quarter-octave steps (each bucket
at most 25% wider than its lower bound) up to 131,072 ms. The estimate is off from the exact
``percentile_cont`` by at most the width of the bucket holding the exact value or its upper
neighbour (``resolution_ms``); under 8 ms it is exact. Durations past the last bound count as it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import operator
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from audit.time_blocks import id_ranges, still_writing, writers_now
from monitoring.models import RequestDailyRollup, RequestRollup, RequestRollupFrontier
from monitoring.watermark import LOCK_SQL, TABLE, read_at_one_watermark

Grain = RequestRollup.Grain


def _bucket_bounds() -> tuple[int, ...]:
    bounds: list[int] = []
    for k in range(4 * 17 + 1):
        bound = round(2 ** (k / 4))
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return tuple(bounds)


# Bucket 0 holds durations under 1 ms; bucket i holds [BUCKET_BOUNDS[i-1], BUCKET_BOUNDS[i]), the
# last one everything from the last bound up: PostgreSQL's width_bucket(value, bounds).
BUCKET_BOUNDS = _bucket_bounds()
BUCKETS = len(BUCKET_BOUNDS) + 1

# Ids read per query: about 200k rows (a few hours of 10M rows a month) at a time.
CHUNK_IDS = 200_000
# Uses index: request_logs_pkey
MAX_ID_SQL = "SELECT max(id) FROM request_logs"
# One id range of request_logs, grouped as the rollups keep it. Uses index: request_logs_pkey
NEW_ROWS_SQL = """
SELECT date_trunc('hour', created_at, 'UTC') AS hour, tenant_id, server_id, tool_name,
       width_bucket(duration_ms, %(bounds)s::int[]) AS bucket,
       count(*), count(*) FILTER (WHERE status_code >= 400), sum(duration_ms)
FROM request_logs
WHERE id >= %(start)s AND (%(stop)s::bigint IS NULL OR id < %(stop)s::bigint)
GROUP BY 1, 2, 3, 4, 5
"""
UPSERT_TEMPLATE = """
INSERT INTO {table}
    ({time}, grain, tenant_id, server_id, tool_name, requests, errors, duration_sum, histogram)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT ON CONSTRAINT {table}_key DO UPDATE SET
    requests = {table}.requests + excluded.requests,
    errors = {table}.errors + excluded.errors,
    duration_sum = {table}.duration_sum + excluded.duration_sum,
    histogram = ARRAY(
        SELECT a + b
        FROM unnest({table}.histogram, excluded.histogram) WITH ORDINALITY AS h(a, b, i)
        ORDER BY i
    )
"""
UPSERT_SQL = UPSERT_TEMPLATE.format(table=RequestRollup._meta.db_table, time="hour")
DAILY_UPSERT_SQL = UPSERT_TEMPLATE.format(table=RequestDailyRollup._meta.db_table, time="day")
# The daily rollups summed from the hourly ones, the first time (or after a reset): the
# histograms of a day, stacked as a two-dimensional array, summed bucket by bucket.
REBUILD_DAYS_SQL = """
INSERT INTO request_daily_rollups
    (day, grain, tenant_id, server_id, tool_name, requests, errors, duration_sum, histogram)
SELECT day, grain, tenant_id, server_id, tool_name, requests, errors, duration_sum,
       ARRAY(SELECT sum(v)::int FROM unnest(histograms) WITH ORDINALITY AS u(v, n)
             GROUP BY (n - 1) %% %(buckets)s ORDER BY (n - 1) %% %(buckets)s)
FROM (
    SELECT date_trunc('day', hour, 'UTC') AS day, grain, tenant_id, server_id, tool_name,
           sum(requests) AS requests, sum(errors) AS errors, sum(duration_sum) AS duration_sum,
           array_agg(histogram) AS histograms
    FROM request_rollups GROUP BY 1, 2, 3, 4, 5
) AS days
"""


@dataclass
class Hour:
    """Requests of one hour (or day) at one grain, and what the pages show from them."""

    start: dt.datetime
    requests: int = 0
    errors: int = 0
    duration_sum: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def add(self, requests: int, errors: int, duration_sum: int, histogram: Sequence[int]) -> None:
        self.requests += requests
        self.errors += errors
        self.duration_sum += duration_sum
        if len(histogram) == len(self.histogram):
            # Bucket by bucket in C: a 7-day page sums hundreds of 69-bucket histograms.
            self.histogram[:] = map(operator.add, self.histogram, histogram)
        else:
            for index, count in enumerate(histogram):
                self.histogram[index] += count

    def add_bucket(self, bucket: int, requests: int, errors: int, duration_sum: int) -> None:
        """Add requests whose durations all fall in one bucket (a group of ``NEW_ROWS_SQL``)."""
        self.requests += requests
        self.errors += errors
        self.duration_sum += duration_sum
        self.histogram[bucket] += requests

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    @property
    def avg_duration_ms(self) -> float | None:
        return self.duration_sum / self.requests if self.requests else None

    @property
    def p50_duration_ms(self) -> float | None:
        return percentile(self.histogram, 0.5)

    @property
    def p95_duration_ms(self) -> float | None:
        return percentile(self.histogram, 0.95)


def _bucket_range(index: int) -> tuple[int, int]:
    """The smallest and largest whole millisecond a bucket holds (durations are integers)."""
    if index == 0:
        return 0, 0
    low = BUCKET_BOUNDS[index - 1]
    high = BUCKET_BOUNDS[index] - 1 if index < len(BUCKET_BOUNDS) else low
    return low, high


def bucket_of(duration_ms: float) -> int:
    """The histogram bucket of a duration, as width_bucket puts it."""
    return sum(1 for bound in BUCKET_BOUNDS if duration_ms >= bound)


def resolution_ms(exact_ms: float) -> int:
    """How far an estimated percentile may be from the exact one near ``exact_ms``."""
    index = bucket_of(exact_ms)
    neighbours = (index, min(index + 1, BUCKETS - 1))
    return max(_bucket_range(i)[1] - _bucket_range(i)[0] for i in neighbours)


def _nth_value(histogram: Sequence[int], running: Sequence[int], position: int) -> float:
    """An estimate of the ``position``-th smallest duration (0-based): the values of a bucket
    spread evenly over the whole milliseconds it holds. ``running`` holds the histogram's
    running totals, so the bucket is a binary search, not a walk over every bucket."""
    index = bisect.bisect_right(running, position)
    if index >= len(histogram):
        raise ValueError("position past the histogram")
    count = histogram[index]
    seen = running[index] - count
    low, high = _bucket_range(index)
    if count == 1:
        return (low + high) / 2
    return low + (position - seen) * (high - low) / (count - 1)


def percentile(histogram: Sequence[int], fraction: float) -> float | None:
    """``percentile_cont(fraction)`` estimated from a histogram (see the module's resolution)."""
    running = list(itertools.accumulate(histogram))
    total = running[-1] if running else 0
    if total == 0:
        return None
    rank = fraction * (total - 1)
    below, above = math.floor(rank), math.ceil(rank)
    low = _nth_value(histogram, running, below)
    high = low if above == below else _nth_value(histogram, running, above)
    return low + (rank - below) * (high - low)


# --- Keeping them up to date ------------------------------------------------------------------

Key = tuple[int, uuid.UUID | None, uuid.UUID | None, str | None]


def _grain_keys(tenant: Any, server: Any, tool: Any) -> tuple[Key, ...]:
    return (
        (Grain.PLATFORM, None, None, None),
        (Grain.TENANT, tenant, None, None),
        (Grain.SERVER, tenant, server, None),
        (Grain.TOOL, tenant, server, tool),
    )


def _grouped(rows: Sequence[Sequence[Any]]) -> dict[tuple[dt.datetime, Key], Hour]:
    """The raw groups of ``NEW_ROWS_SQL`` summed at every grain."""
    hours: dict[tuple[dt.datetime, Key], Hour] = {}
    for hour, tenant, server, tool, bucket, count, errors, duration_sum in rows:
        for key in _grain_keys(tenant, server, tool):
            found = hours.get((hour, key))
            if found is None:
                found = hours[(hour, key)] = Hour(hour)
            found.add_bucket(bucket, count, errors, duration_sum)
    return hours


def _by_day(hours: dict[tuple[dt.datetime, Key], Hour]) -> dict[tuple[dt.datetime, Key], Hour]:
    days: dict[tuple[dt.datetime, Key], Hour] = {}
    for (hour, key), h in hours.items():
        day = floor_day(hour)
        found = days.get((day, key))
        if found is None:
            found = days[(day, key)] = Hour(day)
        found.add(h.requests, h.errors, h.duration_sum, h.histogram)
    return days


def _roll_up(cursor: Any, start: int, stop: int) -> tuple[int, int]:
    """Add request logs with ids in [start, stop) to the hourly and daily rollups: (rows read,
    rollups written)."""
    cursor.execute(NEW_ROWS_SQL, {"bounds": list(BUCKET_BOUNDS), "start": start, "stop": stop})
    raw = cursor.fetchall()
    grouped = _grouped(raw)
    days = _by_day(grouped)
    for sql, rolled in ((UPSERT_SQL, grouped), (DAILY_UPSERT_SQL, days)):
        cursor.executemany(
            sql,
            [
                (moment, *key, h.requests, h.errors, h.duration_sum, h.histogram)
                for (moment, key), h in rolled.items()
            ],
        )
    return sum(row[5] for row in raw), len(grouped) + len(days)


@dataclass(frozen=True)
class RollupUpdate:
    rows_read: int  # request log rows added to the rollups
    rollups_written: int
    seconds: float


def update_rollups() -> RollupUpdate:
    """Add the request logs settled since the last run to the rollups; safe to run concurrently
    (an advisory lock makes a second run wait, then find nothing new)."""
    started = time.perf_counter()
    rows_read = written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCK_SQL)
        frontier, _ = RequestRollupFrontier.objects.select_for_update().get_or_create(name=TABLE)
        cursor.execute(MAX_ID_SQL)
        max_id = cursor.fetchone()[0]
        if frontier.seen_max_id is not None and (max_id or 0) < frontier.seen_max_id:
            # The log was truncated or restored (ids restarted): start again from nothing.
            RequestRollup.objects.all().delete()
            frontier = RequestRollupFrontier(name=TABLE)
        if frontier.days_rolled_below_id != frontier.rolled_below_id:
            # The daily rollups are new (or were reset with the hourly ones): sum the hourly.
            cursor.execute("DELETE FROM request_daily_rollups")
            cursor.execute(REBUILD_DAYS_SQL, {"buckets": BUCKETS})
            written += cursor.rowcount
            frontier.days_rolled_below_id = frontier.rolled_below_id
        seen_max_id = frontier.seen_max_id
        settled = seen_max_id is not None and not still_writing(cursor, frontier.seen_writers)
        if seen_max_id is not None and settled and seen_max_id >= frontier.rolled_below_id:
            # In chunks of ids, so the first run over a big log holds little in memory.
            stop = seen_max_id + 1
            for start in range(frontier.rolled_below_id, stop, CHUNK_IDS):
                read, wrote = _roll_up(cursor, start, min(start + CHUNK_IDS, stop))
                rows_read += read
                written += wrote
            frontier.rolled_below_id = frontier.days_rolled_below_id = stop
        if settled or seen_max_id is None:
            frontier.seen_max_id = max_id
            frontier.seen_writers = writers_now(cursor, TABLE)
        frontier.save()
    return RollupUpdate(rows_read, written, time.perf_counter() - started)


def update_settled_rollups() -> RollupUpdate:
    """Two runs back to back: everything written so far, when nothing else is writing (tests,
    the benchmark's loader)."""
    first, second = update_rollups(), update_rollups()
    return RollupUpdate(
        first.rows_read + second.rows_read,
        first.rollups_written + second.rollups_written,
        first.seconds + second.seconds,
    )


# --- Reading them -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a series counts: the platform, one tenant, one of its servers, or one tool."""

    tenant_id: uuid.UUID | None = None
    server_id: uuid.UUID | None = None
    tool_name: str | None = None

    @property
    def grain(self) -> int:
        if self.tool_name is not None:
            return Grain.TOOL
        if self.server_id is not None:
            return Grain.SERVER
        return Grain.TENANT if self.tenant_id is not None else Grain.PLATFORM


# {tenant}, {server} and {tool} are each "= %(name)s" or "IS NULL" (never user input), so every
# column of the key is an index condition. Uses index: request_rollups_key
ROLLUP_SERIES_SQL = """
SELECT hour, requests, errors, duration_sum, histogram FROM request_rollups
WHERE grain = %(grain)s AND tenant_id {tenant} AND server_id {server} AND tool_name {tool}
  AND hour >= %(since)s AND hour < %(until)s
"""
# The tail above the watermark, read from the log itself. Uses index: request_logs_pkey
TAIL_SERIES_SQL = """
SELECT date_trunc('hour', created_at, 'UTC'), width_bucket(duration_ms, %(bounds)s::int[]),
       count(*), count(*) FILTER (WHERE status_code >= 400), sum(duration_ms)
FROM request_logs
WHERE id >= %(start)s AND created_at >= %(since)s AND created_at < %(until)s
  AND (%(tenant)s::uuid IS NULL OR tenant_id = %(tenant)s::uuid)
  AND (%(server)s::uuid IS NULL OR server_id = %(server)s::uuid)
  AND (%(tool)s::text IS NULL OR tool_name = %(tool)s::text)
GROUP BY 1, 2
"""


# Part of an hour (a custom range's first or last), counted exactly from the log: one query per
# id range that can hold rows of that time (``audit.time_blocks``; in-order ids: one short run).
# Uses index: request_logs_pkey
EDGE_SERIES_SQL = """
SELECT date_trunc('hour', created_at, 'UTC'), width_bucket(duration_ms, %(bounds)s::int[]),
       count(*), count(*) FILTER (WHERE status_code >= 400), sum(duration_ms)
FROM request_logs
WHERE id >= %(start)s AND (%(stop)s::bigint IS NULL OR id < %(stop)s::bigint)
  AND created_at >= %(since)s AND created_at < %(until)s
  AND (%(tenant)s::uuid IS NULL OR tenant_id = %(tenant)s::uuid)
  AND (%(server)s::uuid IS NULL OR server_id = %(server)s::uuid)
  AND (%(tool)s::text IS NULL OR tool_name = %(tool)s::text)
GROUP BY 1, 2
"""


def floor_hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def floor_day(moment: dt.datetime) -> dt.datetime:
    return floor_hour(moment).replace(hour=0)


def ceil_day(moment: dt.datetime) -> dt.datetime:
    day = floor_day(moment)
    return day if day == moment else day + dt.timedelta(days=1)


def key_conditions(params: dict[str, Any]) -> dict[str, str]:
    """The rollup key's columns as index conditions: "= %(name)s", or "IS NULL" for a grain
    that leaves the column out (never user input)."""
    return {
        name: "IS NULL" if params[name] is None else f"= %({name})s"
        for name in ("tenant", "server", "tool")
    }


def scope_params(scope: Scope) -> dict[str, Any]:
    return {
        "grain": scope.grain,
        "tenant": scope.tenant_id,
        "server": scope.server_id,
        "tool": scope.tool_name,
        "bounds": list(BUCKET_BOUNDS),
    }


def hourly_series(scope: Scope, since: dt.datetime, until: dt.datetime) -> list[Hour]:
    """One ``Hour`` per hour that ``[since, until)`` meets, oldest first, empty hours included.

    Whole hours come from the rollups plus the tail not yet rolled up; a first or last hour that
    the range covers only in part (a custom range from 13:25, say) counts exactly the rows of
    that part, read from the log itself, under the hour's start.
    """
    return hourly_series_many(scope, [(since, until)])[0]


def hourly_series_many(
    scope: Scope, ranges: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[list[Hour]]:
    """``hourly_series`` of each range, their whole hours read together: one rollup query and
    one tail query for all of them (a period and the one before it, which meet), at one
    watermark."""
    series: list[dict[dt.datetime, Hour]] = []
    whole: list[tuple[dict[dt.datetime, Hour], dt.datetime, dt.datetime]] = []
    edges: list[tuple[dict[dt.datetime, Hour], dt.datetime, dt.datetime]] = []
    for since, until in ranges:
        hours: dict[dt.datetime, Hour] = {}
        start = floor_hour(since)
        while start < until:
            hours[start] = Hour(start)
            start += dt.timedelta(hours=1)
        series.append(hours)
        whole_since = floor_hour(since)
        if whole_since < since:
            whole_since += dt.timedelta(hours=1)
        whole_until = floor_hour(until)
        if whole_since < whole_until:
            whole.append((hours, whole_since, whole_until))
            edges += [(hours, since, whole_since), (hours, whole_until, until)]
        else:
            edges.append((hours, since, until))
    params = scope_params(scope)
    if whole:
        _add_whole_hours(whole, params)
    for hours, edge_since, edge_until in edges:
        if edge_since < edge_until:
            _add_edge(hours, params, edge_since, edge_until)
    return [list(hours.values()) for hours in series]


def _add_whole_hours(
    whole: Sequence[tuple[dict[dt.datetime, Hour], dt.datetime, dt.datetime]],
    params: dict[str, Any],
) -> None:
    """The rollups of the whole hours of each ``(hours, since, until)``, plus the log above the
    watermark, read at one watermark (``watermark.read_at_one_watermark``) over the span they
    cover; an hour of the span outside every range (a partial hour between two of them) is
    left out."""
    since = min(start for _, start, _ in whole)
    until = max(stop for _, _, stop in whole)

    def read(watermarks: tuple[int, int | None] | None) -> tuple[list[Any], list[Any]]:
        query = {
            **params,
            "since": since,
            "until": until,
            "start": watermarks[0] if watermarks else 0,
        }
        with connection.cursor() as cursor:
            cursor.execute(ROLLUP_SERIES_SQL.format(**key_conditions(query)), query)
            rolled = cursor.fetchall()
            cursor.execute(TAIL_SERIES_SQL, query)
            return rolled, cursor.fetchall()

    def series_of(hour: dt.datetime) -> list[Hour]:
        return [hours[hour] for hours, start, stop in whole if start <= hour < stop]

    rolled, tail = read_at_one_watermark(read)
    for hour, requests, errors, duration_sum, histogram in rolled:
        for found in series_of(hour):
            found.add(requests, errors, duration_sum, histogram)
    for hour, bucket, count, errors, duration_sum in tail:
        for found in series_of(hour):
            found.add_bucket(bucket, count, errors, duration_sum)


def _add_edge(
    hours: dict[dt.datetime, Hour], params: dict[str, Any], since: dt.datetime, until: dt.datetime
) -> None:
    """Every row of ``[since, until)`` (within one hour), rolled up or not, from the log."""
    with connection.cursor() as cursor:
        for ids in id_ranges(TABLE, since, until):
            cursor.execute(
                EDGE_SERIES_SQL,
                {**params, "since": since, "until": until, "start": ids.start, "stop": ids.stop},
            )
            for hour, bucket, count, errors, duration_sum in cursor.fetchall():
                hours[hour].add_bucket(bucket, count, errors, duration_sum)


def daily_series(hours: Sequence[Hour]) -> list[Hour]:
    """The same hours summed per UTC day."""
    days: dict[dt.date, Hour] = {}
    for hour in hours:
        day = days.get(hour.start.date())
        if day is None:
            day = days[hour.start.date()] = Hour(hour.start.replace(hour=0))
        day.add(hour.requests, hour.errors, hour.duration_sum, hour.histogram)
    return list(days.values())


def total(hours: Sequence[Hour]) -> Hour:
    """The whole window's numbers in one ``Hour``."""
    whole = Hour(hours[0].start if hours else dt.datetime.now(dt.UTC))
    for hour in hours:
        whole.add(hour.requests, hour.errors, hour.duration_sum, hour.histogram)
    return whole
