"""Two rollup updates at once (cron on two machines) count every row once."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.factories import RequestLogFactory
from audit.models import RequestLog
from monitoring import rollups
from registry.factories import McpServerFactory
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_updates_at_the_same_time_count_each_row_once(tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    now = dt.datetime.now(dt.UTC)
    RequestLog.unscoped.bulk_create(
        RequestLogFactory.build_batch(40, server=server, created_at=now)
    )
    rollups.update_rollups()  # notes the max id; the next runs may roll it up

    results, _ = at_once(lambda _n: rollups.update_rollups(), 2)

    assert sorted(update.rows_read for update in results) == [0, 40]
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    series = rollups.hourly_series(
        rollups.Scope(tenant_a.pk), this_hour, this_hour + dt.timedelta(hours=1)
    )
    assert [hour.requests for hour in series] == [40]
