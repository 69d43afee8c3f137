"""Which blocks of log ids hold which times: an exact time-to-id map for the explorers' pk walks.

``request_logs`` has no index on ``created_at`` and ``audit_logs`` only a BRIN one, so a time
range on a page read newest-first by id becomes an id range. Ids rise with ``created_at`` when
the gateway writes rows as they happen, but not when it backfills or imports them; an id range
guessed from that assumption silently loses rows. Instead the back office keeps, in its own
schema, the smallest and largest ``created_at`` of every settled block of ``BLOCK_SIZE`` ids
(``LogIdBlock``): the blocks whose span meets a time range are exactly the ones that can hold
its rows, wherever their ids lie. In-order data gives one contiguous run of blocks (the fast
path); a backfilled row only adds its own block.

Ids above the summarised blocks (the newest rows, not yet settled) are always read as well, so
results stay exact whatever the state of the summary; they cost what the tail holds, which the
scheduled ``summarise_log_blocks`` keeps to a few minutes of rows.

A block is summarised only once no transaction that could still add a row to it is running. A
run reads the highest committed id, then notes the transactions writing to the table at that
moment (their ``RowExclusiveLock`` in ``pg_locks``, which every role may read and which is taken
before an INSERT draws its ids): any row with an id up to that one is committed, or belongs to one
of them. A later run, once none of them is left, summarises every whole block up to that id.
Transactions on other tables or databases never hold it back. Rows inserted with an explicit id
(``OVERRIDING SYSTEM VALUE``) into a summarised block, or whose ``created_at`` is updated later,
are outside this promise: the gateway's logs are append-only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from audit.models import AuditLog, LogIdBlock, LogIdFrontier, RequestLog

BLOCK_SIZE = LogIdBlock.SIZE
SUMMARISED_TABLES = (AuditLog._meta.db_table, RequestLog._meta.db_table)
# One lock per table, so two runs (cron on two machines) never summarise a block twice.
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('audit.time_blocks:' || %s))"
# The transactions (other than this one) writing to the table now, by virtual transaction id.
# {table} is one of SUMMARISED_TABLES, never user input.
WRITERS_SQL = """
SELECT coalesce(array_agg(virtualtransaction), '{{}}') FROM pg_locks
WHERE locktype = 'relation' AND relation = '{table}'::regclass AND mode = 'RowExclusiveLock'
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND pid IS DISTINCT FROM pg_backend_pid()
"""
STILL_WRITING_SQL = """
SELECT EXISTS (SELECT FROM pg_locks WHERE virtualtransaction = ANY(%s::text[]))
"""
# {table} is one of SUMMARISED_TABLES, never user input. Uses index: <table>_pkey
MAX_ID_SQL = "SELECT max(id) FROM {table}"
FIRST_ID_SQL = "SELECT min(id) FROM {table}"
# Reads only the newly settled ids, so its cost follows new rows, not the table.
# Uses index: <table>_pkey (a range of it)
SUMMARISE_SQL = """
INSERT INTO log_id_blocks (table_name, block, min_created_at, max_created_at)
SELECT %(table)s, id / %(size)s, min(created_at), max(created_at)
FROM {table}
WHERE id >= %(start)s AND id < %(stop)s
GROUP BY id / %(size)s
"""
# Whether the summary still describes the table: the newest summarised block's latest row is
# where the summary saw it. A log truncated or restored (identities restarted) fails this, and
# its summary is then ignored by pages and rebuilt by the next run. {table} as above.
# Uses index: log_id_blocks_key, <table>_pkey (one block's ids)
SUMMARY_HOLDS = """
EXISTS (
    SELECT FROM log_id_blocks AS newest
    WHERE newest.table_name = %(table)s
      AND newest.block = (SELECT max(block) FROM log_id_blocks WHERE table_name = %(table)s)
      AND EXISTS (
          SELECT FROM {table}
          WHERE id >= newest.block * %(size)s AND id < (newest.block + 1) * %(size)s
            AND created_at = newest.max_created_at
      )
)
"""
SUMMARY_HOLDS_SQL = "SELECT " + SUMMARY_HOLDS
# The runs of consecutive blocks whose times meet [since, until), as id ranges, then the
# unsummarised tail (no end), oldest first: one query for the whole map.
# Uses index: log_id_blocks_key (table_name, block), log_id_frontiers_pkey
ID_RANGES_SQL = (
    """
WITH summary AS (
    SELECT summarised_below_id AS below FROM log_id_frontiers
    WHERE table_name = %(table)s AND """
    + SUMMARY_HOLDS
    + """
)
SELECT min(block) * %(size)s, (max(block) + 1) * %(size)s
FROM (
    SELECT block, block - row_number() OVER (ORDER BY block) AS run
    FROM log_id_blocks
    WHERE table_name = %(table)s AND EXISTS (SELECT FROM summary)
      AND (%(since)s::timestamptz IS NULL OR max_created_at >= %(since)s::timestamptz)
      AND (%(until)s::timestamptz IS NULL OR min_created_at < %(until)s::timestamptz)
) AS candidate
GROUP BY run
UNION ALL
SELECT coalesce((SELECT below FROM summary), 0), NULL
ORDER BY 1, 2 NULLS LAST
"""
)


@dataclass(frozen=True)
class IdRange:
    """Ids from ``start`` (inclusive) to ``stop`` (exclusive; None: no end)."""

    start: int
    stop: int | None


def id_ranges(
    table: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
    using: str = DEFAULT_DB_ALIAS,
) -> list[IdRange]:
    """Every id range that can hold a row of ``table`` written in ``[since, until)``.

    Oldest first; the last range is the unsummarised tail (ids from the summary's end on), so
    the union holds every matching row. Callers still filter on ``created_at``. ``using`` is the
    database the page reads (the replica holds the same summary as the primary).
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            ID_RANGES_SQL.format(table=table),
            {"size": BLOCK_SIZE, "table": table, "since": since, "until": until},
        )
        ranges: list[IdRange] = []
        for start, stop in cursor.fetchall():
            if ranges and ranges[-1].stop is not None and ranges[-1].stop >= start:
                # A run that ends where the next (the tail) starts: one range, one walk.
                ranges[-1] = IdRange(ranges[-1].start, stop)
            else:
                ranges.append(IdRange(start, stop))
    return ranges


def summarise_new_blocks(table: str) -> int:
    """Summarise the blocks of ``table`` settled since the last run; the number summarised.

    Each run also notes how far the next one may go (see the module docstring), so a block is
    summarised by the second run after its last id was handed out: every minute from cron keeps
    the unsummarised tail to about two minutes of rows.
    """
    if table not in SUMMARISED_TABLES:
        raise ValueError(f"{table} is not a log table")
    params: dict[str, Any] = {"table": table, "size": BLOCK_SIZE}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCK_SQL, [table])
        frontier, _created = LogIdFrontier.objects.select_for_update().get_or_create(
            table_name=table
        )
        # The max first, the writers last: whoever drew an id up to it and has not committed
        # is still writing when they are read.
        cursor.execute(MAX_ID_SQL.format(table=table))
        max_id = cursor.fetchone()[0]
        if _was_reset(cursor, table, frontier, max_id):
            LogIdBlock.objects.filter(table_name=table).delete()
            frontier = LogIdFrontier(table_name=table)
        seen_max_id = frontier.seen_max_id
        settled = seen_max_id is not None and not still_writing(cursor, frontier.seen_writers)
        summarised = 0
        if seen_max_id is not None and settled:
            start = frontier.summarised_below_id
            if start == 0:
                # The first blocks: from the oldest row's (retention may have deleted millions).
                cursor.execute(FIRST_ID_SQL.format(table=table))
                start = (cursor.fetchone()[0] or 0) // BLOCK_SIZE * BLOCK_SIZE
            # Only whole blocks: the block holding the newest settled id may still grow.
            stop = (seen_max_id + 1) // BLOCK_SIZE * BLOCK_SIZE
            if stop > start:
                cursor.execute(
                    SUMMARISE_SQL.format(table=table), {**params, "start": start, "stop": stop}
                )
                summarised = cursor.rowcount
                frontier.summarised_below_id = stop
        if settled or seen_max_id is None:
            frontier.seen_max_id = max_id
            frontier.seen_writers = writers_now(cursor, table)
        frontier.save()
    return summarised


def writers_now(cursor: Any, table: str) -> list[str]:
    """The transactions (other than ours) writing to ``table`` now. Read them just after the
    table's max id: once they have all ended, every id up to that one is committed or gone."""
    if table not in SUMMARISED_TABLES:
        raise ValueError(f"{table} is not a log table")
    cursor.execute(WRITERS_SQL.format(table=table))
    writers: list[str] = cursor.fetchone()[0]
    return writers


def still_writing(cursor: Any, writers: list[str]) -> bool:
    """Whether any of ``writers`` (from ``writers_now``) is still running."""
    if not writers:
        return False
    cursor.execute(STILL_WRITING_SQL, [writers])
    return bool(cursor.fetchone()[0])


def _was_reset(cursor: Any, table: str, frontier: LogIdFrontier, max_id: int | None) -> bool:
    """Whether the log was truncated or restored since the summary was made (ids restarted)."""
    if frontier.seen_max_id is not None and (max_id or 0) < frontier.seen_max_id:
        return True
    if not LogIdBlock.objects.filter(table_name=table).exists():
        return False
    cursor.execute(SUMMARY_HOLDS_SQL.format(table=table), {"table": table, "size": BLOCK_SIZE})
    return not cursor.fetchone()[0]


def summarise_settled_blocks(table: str) -> int:
    """Two runs back to back: what a caller with no concurrent writers (the demo seed, the
    benchmark's loader, tests) uses to summarise everything written so far."""
    return summarise_new_blocks(table) + summarise_new_blocks(table)
