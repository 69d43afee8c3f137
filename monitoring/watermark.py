"""Reading the request rollups and the log above their watermark as one consistent picture.

A trend's whole hours (or days) are the rollup rows plus the log rows at or above the
watermark (``RequestRollupFrontier.rolled_below_id``), read in separate statements. An update
that committed between them (it moves rows from "above the watermark" into the rollups, and the
watermark with them, in one transaction) would make one page view count those rows twice, or
not at all. So a read runs ``read(watermark)`` and then looks at the watermark again: unchanged,
no update committed in between (a seqlock: updates move it forward or, after a reset, back to
zero, never to the same value again); changed, it reads again. Updates commit about once a
minute and a read takes milliseconds, so a second try is already rare; the last try holds the
updates' advisory lock, waiting for a running update to end, so a page is never wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import connection, transaction

from monitoring.models import RequestRollupFrontier

T = TypeVar("T")

TABLE = "request_logs"
# The lock ``rollups.update_rollups`` holds while it writes.
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('monitoring.rollups'))"
UNLOCKED_TRIES = 3


def current() -> tuple[int, int | None] | None:
    """(hourly, daily) watermarks: the first log id not yet in each rollup; None: no rollup yet."""
    return (
        RequestRollupFrontier.objects.filter(name=TABLE)
        .values_list("rolled_below_id", "days_rolled_below_id")
        .first()
    )


def read_at_one_watermark(read: Callable[[tuple[int, int | None] | None], T]) -> T:
    """``read(watermarks)`` with no rollup update committed while it ran (see the module)."""
    for _ in range(UNLOCKED_TRIES):
        before = current()
        result = read(before)
        if current() == before:
            return result
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCK_SQL)
        return read(current())
