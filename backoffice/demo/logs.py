"""Day-by-day loading of the log history: one set-based INSERT per day, oldest first.

The INSERTs themselves live with the parameters they need, in ``audit_logs`` and ``request_logs``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from backoffice.demo.catalog import DAY, HISTORY_DAYS, HOURLY_WEIGHTS


def history_windows(now: dt.datetime, days: int) -> list[tuple[dt.datetime, dt.datetime, bool]]:
    """Cut the last ``days`` days at UTC midnights: (start, end, whether a whole day)."""
    windows = []
    start = now - days * DAY
    while start < now:
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        end = min(midnight + DAY, now)
        windows.append((start, end, start == midnight and end - start == DAY))
        start = end
    return windows


def split_rows(total: int, weights: list[float]) -> list[int]:
    """Share ``total`` rows out by weight, exactly (largest remainder)."""
    shares = [total * w / sum(weights) for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def slots(weighted: list[tuple[Any, int]]) -> list[Any]:
    """Repeat each value by its weight, so a uniform pick of a slot is a weighted pick."""
    return [value for value, weight in weighted for _ in range(weight)]


class LogLoader:
    """Loads log history with set-based SQL, day by day, shaped by weekday and hour of day."""

    def __init__(self, now: dt.datetime) -> None:
        self.windows = history_windows(now, HISTORY_DAYS)
        # Quieter weekends, and a little growth over the month.
        self.weights = [
            (end - start) / DAY * (0.55 if start.weekday() >= 5 else 1.0) * (1 + 0.01 * i)
            for i, (start, end, _) in enumerate(self.windows)
        ]
        hour_slots = slots(list(enumerate(HOURLY_WEIGHTS)))
        self.common = {"hour_slots": hour_slots, "hour_slot_count": len(hour_slots)}

    def load(self, cursor: Any, sql: str, params: dict[str, Any], total: int) -> None:
        """Insert ``total`` rows with ``sql``, one statement per window, oldest first."""
        for (start, end, full_day), rows in zip(
            self.windows, split_rows(total, self.weights), strict=True
        ):
            if rows:
                window = {"rows": rows, "window_start": start, "window_end": end}
                cursor.execute(sql, {**self.common, **params, **window, "full_day": full_day})
