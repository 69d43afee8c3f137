"""Time-ranged explorer pages are exact whatever the order of ids (backfills, imports).

Rows written as they happen get ids rising with created_at; a gateway that backfills or imports
rows gives old (or future) times to new ids. Every page of a time range must hold exactly the
rows whose created_at is in it, summarised or not yet, and in-order data keeps the fast path:
one id range, bounded at the time range's ends. The summary is only trusted for committed rows,
so these tests commit for real (``transaction=True``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection, connections

from audit.models import LogIdBlock, LogIdFrontier
from audit.time_blocks import (
    BLOCK_SIZE,
    IdRange,
    id_ranges,
    summarise_new_blocks,
    summarise_settled_blocks,
)
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)

# To the minute: the explorer's time inputs are.
NOW = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
# 30 days of rows, one every 10 minutes, ids rising with time: 4,320 rows, 4 whole blocks.
IN_ORDER_SQL = """
INSERT INTO {table} ({columns}, created_at)
SELECT {values}, %(newest)s - make_interval(mins => (4320 - g) * 10)
FROM generate_series(1, 4320) AS g
"""
# Rows for one past hour, inserted now: new ids, old times.
BACKFILL_SQL = """
INSERT INTO {table} ({columns}, created_at)
SELECT {values}, %(start)s + make_interval(secs => g * 10)
FROM generate_series(1, %(rows)s) AS g
"""
COLUMNS = {
    "audit_logs": ("actor_type, action, outcome", "'user', 'tool.call', 'success'"),
    "request_logs": ("method, status_code, duration_ms", "'tools/call', 200, 5"),
}
URLS = {"audit_logs": "/audit/logs/", "request_logs": "/audit/requests/"}


def insert(sql: str, table: str, **params: Any) -> None:
    columns, values = COLUMNS[table]
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=table, columns=columns, values=values), params)


def max_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        return cursor.fetchone()[0]


def matching_ids(table: str, since: dt.datetime, until: dt.datetime) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE created_at >= %s AND created_at < %s ORDER BY id DESC",
            [since, until],
        )
        return [row[0] for row in cursor.fetchall()]


def every_page(client, table: str, since: dt.datetime, until: dt.datetime) -> list[int]:
    """The ids shown over every page of the range, following the Older links."""
    url: str | None = URLS[table]
    query: dict[str, str] | None = {
        "since": f"{since:%Y-%m-%dT%H:%M}",
        "until": f"{until:%Y-%m-%dT%H:%M}",
        "tz": "UTC",
    }
    ids: list[int] = []
    while url:
        response = client.get(url, query)
        html = response.content.decode()
        assert response.status_code == 200, html[-2000:]
        ids += [int(i) for i in re.findall(rf'href="{URLS[table]}(\d+)/', html)]
        match = re.search(r'href="(\?[^"]*cursor=[^"]*)" rel="next"', html)
        url = URLS[table] + match.group(1).replace("&amp;", "&") if match else None
        query = None
    return ids


@pytest.fixture
def hour_ten_days_back() -> tuple[dt.datetime, dt.datetime]:
    """A one-hour range ten days back, to the minute (the form's precision)."""
    since = NOW - dt.timedelta(days=10)
    return since, since + dt.timedelta(hours=1)


@pytest.mark.parametrize("table", ["audit_logs", "request_logs"])
def test_in_order_rows_take_one_id_range_at_the_time_ranges_ends(auditor, table):
    insert(IN_ORDER_SQL, table, newest=NOW)
    summarise_settled_blocks(table)
    since, until = NOW - dt.timedelta(days=25), NOW - dt.timedelta(days=24)

    ranges = id_ranges(table, since, until)

    # One range of whole blocks, a day's rows (144) plus at most a block at each end.
    assert len(ranges) == 2  # the run of blocks, then the unsummarised tail
    (run, tail) = ranges
    assert run.stop is not None and run.stop - run.start <= 2 * BLOCK_SIZE
    assert tail == IdRange(LogIdFrontier.objects.get(table_name=table).summarised_below_id, None)
    assert every_page(auditor.client(), table, since, until) == matching_ids(table, since, until)


@pytest.mark.parametrize("table", ["audit_logs", "request_logs"])
@pytest.mark.parametrize("summarised", [True, False], ids=["summarised", "not yet summarised"])
def test_backfilled_rows_are_on_the_pages_of_their_time(
    auditor, table, summarised, hour_ten_days_back
):
    since, until = hour_ten_days_back
    insert(IN_ORDER_SQL, table, newest=NOW)
    summarise_settled_blocks(table)
    # 250 rows of that hour arrive now, with the newest ids (3 pages with the in-order ones).
    before = max_id(table)
    insert(BACKFILL_SQL, table, start=since, rows=250)
    backfilled = set(range(before + 1, max_id(table) + 1))
    if summarised:
        insert(IN_ORDER_SQL, table, newest=NOW)  # and more in-order rows after them
        summarise_settled_blocks(table)
        assert LogIdFrontier.objects.get(table_name=table).summarised_below_id > max(backfilled)

    expected = matching_ids(table, since, until)
    assert len(backfilled) == 250 and backfilled <= set(expected)
    assert every_page(auditor.client(), table, since, until) == expected


def test_rows_imported_with_later_times_than_their_ids_are_found(auditor, hour_ten_days_back):
    """The other way round: low ids carrying recent times (an import replayed in bulk)."""
    table = "audit_logs"
    since, until = NOW - dt.timedelta(hours=2), NOW
    insert(BACKFILL_SQL, table, start=since, rows=100)
    insert(IN_ORDER_SQL, table, newest=NOW - dt.timedelta(days=1))
    summarise_settled_blocks(table)

    expected = matching_ids(table, since, until)
    assert len(expected) == 100
    assert every_page(auditor.client(), table, since, until) == expected
    # Newer pages walk the same ranges the other way.
    assert len(id_ranges(table, since, until)) == 2


def test_a_block_waits_for_transactions_that_may_still_add_ids_to_it(db):
    table = "audit_logs"
    insert(IN_ORDER_SQL, table, newest=NOW)
    other = connections["default"].copy()
    try:
        # A gateway transaction that took an id and has not committed yet.
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_logs (actor_type, action, outcome, created_at) "
                "VALUES ('user', 'late.row', 'success', %s) RETURNING id",
                [NOW - dt.timedelta(days=60)],
            )
            late_id = cursor.fetchone()[0]
        insert(IN_ORDER_SQL, table, newest=NOW)  # later ids, committed

        summarise_settled_blocks(table)
        summarised_below = LogIdFrontier.objects.get(table_name=table).summarised_below_id
        assert summarised_below <= late_id  # its block is not summarised while it may change

        other.commit()
    finally:
        other.close()
    summarise_settled_blocks(table)
    late_block = LogIdBlock.objects.get(table_name=table, block=late_id // BLOCK_SIZE)
    assert late_block.min_created_at == NOW - dt.timedelta(days=60)


def test_runs_at_the_same_time_summarise_each_block_once(db):
    table = "request_logs"
    insert(IN_ORDER_SQL, table, newest=NOW)
    summarise_new_blocks(table)

    results, _ = at_once(lambda _n: summarise_new_blocks(table), 2)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT id / %s) FROM request_logs WHERE id < %s",
            [BLOCK_SIZE, (max_id(table) + 1) // BLOCK_SIZE * BLOCK_SIZE],
        )
        whole_blocks = cursor.fetchone()[0]
    assert whole_blocks >= 4
    assert sorted(results) == [0, whole_blocks]
    assert LogIdBlock.objects.filter(table_name=table).count() == whole_blocks


@pytest.mark.parametrize("regrown", [False, True], ids=["emptied", "emptied and refilled"])
def test_a_log_truncated_or_restored_is_summarised_again(auditor, regrown):
    """Identities restarted (TRUNCATE ... RESTART IDENTITY, a restore): the old summary would
    put the new rows below its end, where pages trust it; it is ignored, then rebuilt."""
    table = "audit_logs"
    for _ in range(3):
        insert(IN_ORDER_SQL, table, newest=NOW)
    summarise_settled_blocks(table)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_logs RESTART IDENTITY")
    insert(IN_ORDER_SQL, table, newest=NOW - dt.timedelta(days=40))
    if regrown:
        for _ in range(3):
            insert(IN_ORDER_SQL, table, newest=NOW - dt.timedelta(days=40))
    since, until = NOW - dt.timedelta(days=55), NOW - dt.timedelta(days=54)
    expected = matching_ids(table, since, until)
    assert expected

    assert every_page(auditor.client(), table, since, until) == expected
    summarise_settled_blocks(table)
    assert every_page(auditor.client(), table, since, until) == expected
    assert LogIdFrontier.objects.get(table_name=table).summarised_below_id <= max_id(table)
