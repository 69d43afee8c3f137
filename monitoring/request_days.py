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


def _hourly_days(scope: Scope, since: dt.datetime, until: dt.datetime) -> list[Hour]:
    if since >= until:
        return []
    return rollups.daily_series(rollups.hourly_series(scope, since, until))


def _whole_days(
    scope: Scope, since: dt.datetime, until: dt.datetime
) -> dict[dt.datetime, Hour] | None:
    """The whole days ``[since, until)`` from the daily rollups and the log above the watermark,
    read at one watermark; None while the daily rollups are not built yet."""
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
    days: dict[dt.datetime, Hour] = {}
    day = since
    while day < until:
        days[day] = Hour(day)
        day += dt.timedelta(days=1)
    rolled, tail = found
    for start, requests, errors, duration_sum, histogram in rolled:
        days[start].add(requests, errors, duration_sum, histogram)
    for hour, bucket, count, errors, duration_sum in tail:
        days[rollups.floor_day(hour)].add_bucket(bucket, count, errors, duration_sum)
    return days


def daily_series(scope: Scope, since: dt.datetime, until: dt.datetime) -> list[Hour]:
    """One ``Hour`` per UTC day that ``[since, until)`` meets, oldest first, empty days
    included, each starting at its midnight (UTC)."""
    day_since, day_until = rollups.ceil_day(since), rollups.floor_day(until)
    days = _whole_days(scope, day_since, day_until) if day_since < day_until else None
    if days is None:
        return _hourly_days(scope, since, until)
    return [
        *_hourly_days(scope, since, day_since),
        *days.values(),
        *_hourly_days(scope, day_until, until),
    ]
