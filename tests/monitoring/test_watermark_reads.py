"""A trend read while a rollup update commits counts every row once (``monitoring.watermark``).

The rollups and the log above the watermark are read in separate statements. The update is
made to commit at the worst moment, deterministically: right after the read has looked at the
watermark and before it reads the rollups, so the rows it moves would be in the rollups and
still above the watermark the read saw. No sleeps: the commit happens inside the read's own
query stream, through an execute wrapper on its connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from audit.factories import RequestLogFactory
from audit.models import RequestLog
from monitoring import request_days, rollups, watermark
from registry.factories import McpServerFactory

pytestmark = pytest.mark.django_db(transaction=True)
DAY = dt.timedelta(days=1)


def _add_rows(server: Any, count: int, created_at: dt.datetime) -> None:
    RequestLog.unscoped.bulk_create(
        RequestLogFactory.build_batch(count, server=server, created_at=created_at)
    )


class UpdateCommitsAfterTheWatermarkIsRead:
    """Each of the first ``times`` watermark reads is followed by new rows and an update that
    rolls them up (moving the watermark) and commits."""

    def __init__(self, server: Any, created_at: dt.datetime, times: int) -> None:
        self.server, self.created_at, self.left = server, created_at, times
        self.fired = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, *rest: Any) -> Any:
        result = execute(sql, params, *rest)
        if self.left and "request_rollup_frontier" in sql and "FOR UPDATE" not in sql:
            self.left -= 1
            self.fired += 1
            with connection.execute_wrapper(lambda ex, *rest: ex(*rest)):
                _add_rows(self.server, 5, self.created_at)
                rollups.update_settled_rollups()
        return result


def _hourly_total(since: dt.datetime, until: dt.datetime) -> int:
    return rollups.total(rollups.hourly_series(rollups.Scope(), since, until)).requests


def _daily_total(since: dt.datetime, until: dt.datetime) -> int:
    return rollups.total(request_days.daily_series(rollups.Scope(), since, until)).requests


@pytest.mark.parametrize("series", [_hourly_total, _daily_total], ids=["hourly", "daily"])
@pytest.mark.parametrize("times", [1, watermark.UNLOCKED_TRIES * 2], ids=["once", "every try"])
def test_an_update_committing_during_a_read_is_never_counted_twice(tenant_a, series, times):
    server = McpServerFactory.create(tenant=tenant_a)
    today = rollups.floor_day(dt.datetime.now(dt.UTC))
    two_days_ago = today - 2 * DAY + dt.timedelta(hours=3)
    _add_rows(server, 20, two_days_ago)
    rollups.update_settled_rollups()
    _add_rows(server, 7, two_days_ago)  # above the watermark: the read's tail
    rollups.update_rollups()  # notes them, so the next update rolls them up
    trap = UpdateCommitsAfterTheWatermarkIsRead(server, two_days_ago, times)

    with connection.execute_wrapper(trap):
        counted = series(today - 3 * DAY, today)

    assert trap.fired == times  # the update really committed inside the read
    assert counted == RequestLog.unscoped.count() == 27 + 5 * times
