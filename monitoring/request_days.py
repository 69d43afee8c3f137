"""Daily points of request trends from the daily rollups (``RequestDailyRollup``).

A daily series over 30 days summed from hourly rollups reads 720 rows (each with its histogram)
per period; the daily rollups hold the same sums per UTC day, kept by ``rollups.update_rollups``
in the same transaction and under the same id watermark as the hourly ones, so a day's row is
always the sum of its hours. Whole days read them plus the log above the watermark; a first or
last day that the range covers only in part is read the hourly way (``rollups.hourly_series``),
so the points are those of ``rollups.daily_series(rollups.hourly_series(...))``, exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection

from monitoring import rollups
from monitoring.rollups import Hour, Scope
from monitoring.watermark import read_at_one_watermark

# {tenant}, {server} and {tool} as in rollups.ROLLUP_SERIES_SQL (never user input).
# Uses index: request_daily_rollups_key
DAILY_SERIES_SQL = """
SELECT day, requests, errors, duration_sum, histogram FROM request_daily_rollups
WHERE grain = %(grain)s AND tenant_id {tenant} AND server_id {server} AND tool_name {tool}
  AND day >= %(since)s AND day < %(until)s
"""


def _hourly_days_many(
    scope: Scope, ranges: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[list[Hour]]:
    """``rollups.daily_series(rollups.hourly_series(...))`` of each range, read together."""
    wanted = [(since, until) for since, until in ranges if since < until]
    found = iter(rollups.hourly_series_many(scope, wanted) if wanted else [])
    return [rollups.daily_series(next(found)) if since < until else [] for since, until in ranges]


def _whole_days(
    scope: Scope, ranges: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[dict[dt.datetime, Hour]] | None:
    """The whole days of each ``[since, until)`` from the daily rollups and the log above the
    watermark, read at one watermark over the span they cover (a period and the one before
    it meet); None while the daily rollups are not built yet."""
    since = min(start for start, _ in ranges)
    until = max(stop for _, stop in ranges)
    params: dict[str, Any] = {**rollups.scope_params(scope), "since": since, "until": until}

    def read(watermarks: tuple[int, int | None] | None) -> tuple[list[Any], list[Any]] | None:
        if watermarks is None or watermarks[1] != watermarks[0]:
            return None
        query = {**params, "start": watermarks[0]}
        with connection.cursor() as cursor:
            cursor.execute(DAILY_SERIES_SQL.format(**rollups.key_conditions(query)), query)
            rolled = cursor.fetchall()
            cursor.execute(rollups.TAIL_SERIES_SQL, query)
            return rolled, cursor.fetchall()

    found = read_at_one_watermark(read)
    if found is None:
        return None
    series: list[dict[dt.datetime, Hour]] = []
    for start, stop in ranges:
        days: dict[dt.datetime, Hour] = {}
        day = start
        while day < stop:
            days[day] = Hour(day)
            day += dt.timedelta(days=1)
        series.append(days)

    def days_of(day: dt.datetime) -> list[Hour]:
        return [days[day] for days in series if day in days]

    rolled, tail = found
    for start, requests, errors, duration_sum, histogram in rolled:
        for found_day in days_of(start):
            found_day.add(requests, errors, duration_sum, histogram)
    for hour, bucket, count, errors, duration_sum in tail:
        for found_day in days_of(rollups.floor_day(hour)):
            found_day.add_bucket(bucket, count, errors, duration_sum)
    return series


def daily_series(scope: Scope, since: dt.datetime, until: dt.datetime) -> list[Hour]:
    """One ``Hour`` per UTC day that ``[since, until)`` meets, oldest first, empty days
    included, each starting at its midnight (UTC)."""
    return daily_series_many(scope, [(since, until)])[0]


def daily_series_many(
    scope: Scope, ranges: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[list[Hour]]:
    """``daily_series`` of each range (a period and the one before it): their whole days read
    together, and their partial first and last days together, the hourly way."""
    bounds = [(rollups.ceil_day(since), rollups.floor_day(until)) for since, until in ranges]
    whole = [(day_since, day_until) for day_since, day_until in bounds if day_since < day_until]
    days = _whole_days(scope, whole) if whole else None
    if days is None:
        return _hourly_days_many(scope, ranges)
    found = iter(days)
    edges = _hourly_days_many(
        scope,
        [
            edge
            for (since, until), (day_since, day_until) in zip(ranges, bounds, strict=True)
            for edge in ((since, day_since), (day_until, until))
            if day_since < day_until
        ],
    )
    series: list[list[Hour]] = []
    position = 0
    for (since, until), (day_since, day_until) in zip(ranges, bounds, strict=True):
        if day_since < day_until:
            first, last = edges[position], edges[position + 1]
            position += 2
            series.append([*first, *next(found).values(), *last])
        else:
            series.append(_hourly_days_many(scope, [(since, until)])[0])
    return series
