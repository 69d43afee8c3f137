"""Server health over time, from the contract's health checks (``server_health_checks``).

Server health in the contract is the ``server_health`` status a health check records (healthy,
degraded, unhealthy, unknown); ``mcp_servers.health_status`` holds only the latest one. So the
history of health is the checks counted per hour (or day) by status: for one server as a chart,
and for every server of a tenant or of the platform as one row of cells each, worst first, so
an outage reads at a glance ("which servers were down, and when"). Request error rates per
server over time are the server's own trend series (pick the server).

Reading every check of a period is slow (about 1 s for 7 days of 100 servers checked every five
minutes), so ``update_health_rollups`` (run by ``refresh_analytics``) keeps the checks per server
and hour in ``HealthCheckRollup``, through the hour that ended at least ``SETTLE`` ago, and each
run recounts the last ``RECOUNT`` of hours too, so a check committed a little late is counted.
Pages read the rollups for whole hours before the frontier and the table itself (one server's
index range each) for the rest: the hours since, and a custom range's partial first and last
hour. A check written more than ``RECOUNT`` after its ``checked_at`` is outside this promise;
the gateway writes each check as it is taken.

The same run sums the hourly rollups of every whole UTC day before the hourly frontier into
``HealthCheckDailyRollup`` (recounting the days its recounted hours touch, so a late check reaches
its day too). A window's whole days read those instead of 24 hourly rows each wherever a day falls
inside one cell of what is summed (a server's total over the window, daily points); its partial
first and last days read the hourly rollups, and the hours after the frontier the checks: the
numbers are the hourly path's, and 30 days read about 30 daily rows per server (and today's
hourly ones) instead of 720 hourly ones.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from backoffice.roles import Actor
from monitoring import rollups
from monitoring.models import HealthCheckRollupFrontier
from monitoring.trends import CAPABILITY, PICKED_SERVER_FIELDS, ResolvedScope, Window
from registry.models import McpServer

STATUSES = ("healthy", "degraded", "unhealthy", "unknown")
SETTLE = dt.timedelta(minutes=5)
RECOUNT = dt.timedelta(hours=2)
FRONTIER = "server_health_checks"
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('monitoring.health_trends'))"
# Uses index: idx_health_checks_server_time (a range per server)
FIRST_CHECK_SQL = """
SELECT min(first) FROM mcp_servers s,
LATERAL (SELECT min(checked_at) AS first FROM server_health_checks WHERE server_id = s.id) AS f
"""
# Every server's checks of [since, until) per hour, replacing what the rollups held for them.
# Uses index: idx_health_checks_server_time (server_id, checked_at desc), a range per server
ROLL_UP_SQL = """
INSERT INTO health_check_rollups (server_id, hour, healthy, degraded, unhealthy, unknown)
SELECT s.id, date_trunc('hour', h.checked_at, 'UTC'),
       count(*) FILTER (WHERE h.status = 'healthy'), count(*) FILTER (WHERE h.status = 'degraded'),
       count(*) FILTER (WHERE h.status = 'unhealthy'), count(*) FILTER (WHERE h.status = 'unknown')
FROM mcp_servers s
JOIN LATERAL (
    SELECT checked_at, status FROM server_health_checks
    WHERE server_id = s.id AND checked_at >= %(since)s AND checked_at < %(until)s
) AS h ON true
GROUP BY 1, 2
ON CONFLICT ON CONSTRAINT health_check_rollups_key DO UPDATE SET
    healthy = excluded.healthy, degraded = excluded.degraded,
    unhealthy = excluded.unhealthy, unknown = excluded.unknown
"""
# Every server's hourly rollups of [since, until) (whole days) per day, replacing what the daily
# rollups held for them. Uses index: health_check_rollups_key (server_id, hour), a range per server
ROLL_UP_DAYS_SQL = """
INSERT INTO health_check_daily_rollups (server_id, day, healthy, degraded, unhealthy, unknown)
SELECT s.id, date_trunc('day', r.hour, 'UTC'),
       sum(r.healthy), sum(r.degraded), sum(r.unhealthy), sum(r.unknown)
FROM mcp_servers s
JOIN LATERAL (
    SELECT hour, healthy, degraded, unhealthy, unknown FROM health_check_rollups
    WHERE server_id = s.id AND hour >= %(since)s AND hour < %(until)s
) AS r ON true
GROUP BY 1, 2
ON CONFLICT ON CONSTRAINT health_check_daily_rollups_key DO UPDATE SET
    healthy = excluded.healthy, degraded = excluded.degraded,
    unhealthy = excluded.unhealthy, unknown = excluded.unknown
"""
# Once, when the daily rollups are first built (the hourly ones may be older than they are).
FIRST_HOUR_SQL = "SELECT min(hour) FROM health_check_rollups"
# The rollups of whole days, summed per cell (a day, or the whole period): only for cells that
# hold each day whole. Uses index: health_check_daily_rollups_key (server_id, day)
DAILY_ROLLUPS_SQL = """
SELECT server_id, date_bin(%(cell)s::interval, day, %(origin)s),
       sum(healthy), sum(degraded), sum(unhealthy), sum(unknown)
FROM health_check_daily_rollups
WHERE server_id = ANY(%(servers)s::uuid[]) AND day >= %(since)s AND day < %(until)s
GROUP BY 1, 2
"""
# The rollups of whole hours, summed per cell (an hour, a few hours, a day, the whole period).
# Uses index: health_check_rollups_key (server_id, hour)
ROLLUPS_SQL = """
SELECT server_id, date_bin(%(cell)s::interval, hour, %(origin)s),
       sum(healthy), sum(degraded), sum(unhealthy), sum(unknown)
FROM health_check_rollups
WHERE server_id = ANY(%(servers)s::uuid[]) AND hour >= %(since)s AND hour < %(until)s
GROUP BY 1, 2
"""
# Rows in the overview, worst first: enough for a tenant; the platform's worst ones.
OVERVIEW_SERVERS = 30
# Cells in an overview row at most: 7 days of hours are drawn as 42 cells of 4 hours.
OVERVIEW_CELLS = 48
# The checks of the servers in [since, until), per server and cell, by status.
# Uses index: idx_health_checks_server_time (server_id, checked_at desc), a range per server.
CHECKS_SQL = """
SELECT server_id, date_bin(%(cell)s::interval, checked_at, %(origin)s),
       count(*) FILTER (WHERE status = 'healthy'), count(*) FILTER (WHERE status = 'degraded'),
       count(*) FILTER (WHERE status = 'unhealthy'), count(*) FILTER (WHERE status = 'unknown')
FROM server_health_checks
WHERE server_id = ANY(%(servers)s::uuid[]) AND checked_at >= %(since)s AND checked_at < %(until)s
GROUP BY 1, 2
"""


@dataclass
class HealthPoint:
    """The checks of one server in one hour or day, by status."""

    start: dt.datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @property
    def checks(self) -> int:
        return sum(self.counts.values())

    @property
    def healthy_share(self) -> float | None:
        return self.counts["healthy"] / self.checks if self.checks else None

    @property
    def worst(self) -> str:
        """The worst status any check found ("none" without checks): an outage is never
        averaged away."""
        for status in ("unhealthy", "degraded", "healthy", "unknown"):
            if self.counts[status]:
                return status
        return "none"

    @property
    def summary(self) -> str:
        c = self.counts
        return (
            f"{c['healthy']} of {self.checks} healthy, {c['degraded']} degraded, "
            f"{c['unhealthy']} unhealthy" + (f", {c['unknown']} unknown" if c["unknown"] else "")
        )


@dataclass(frozen=True)
class ServerHealthRow:
    """One server over the window: its cells (drawn servers only), its totals now and over
    the period before."""

    server: McpServer
    total: HealthPoint
    previous_total: HealthPoint
    points: list[HealthPoint]


def _origin(window: Window) -> dt.datetime:
    start = rollups.floor_hour(window.since)
    return start.replace(hour=0) if window.step == "day" else start


def _step(window: Window) -> dt.timedelta:
    return dt.timedelta(hours=1) if window.step == "hour" else dt.timedelta(days=1)


def _starts(window: Window, cell: dt.timedelta) -> list[dt.datetime]:
    start, starts = _origin(window), []
    while start < window.until:
        starts.append(start)
        start += cell
    return starts


def update_health_rollups(now: dt.datetime | None = None) -> int:
    """Count the checks of the hours settled since the last run (and recount the last
    ``RECOUNT``) into the rollups; returns the rollup rows written. Runs one at a time."""
    until = rollups.floor_hour((now or timezone.now()) - SETTLE)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCK_SQL)
        frontier, _ = HealthCheckRollupFrontier.objects.select_for_update().get_or_create(
            name=FRONTIER
        )
        if frontier.rolled_until is not None:
            since = frontier.rolled_until - RECOUNT
        else:
            cursor.execute(FIRST_CHECK_SQL)
            first = cursor.fetchone()[0]
            since = rollups.floor_hour(first) if first is not None else until
        written = 0
        if since < until:
            cursor.execute(ROLL_UP_SQL, {"since": since, "until": until})
            written = cursor.rowcount
        frontier.rolled_until = max(until, frontier.rolled_until or until)
        written += _roll_up_days(cursor, frontier, since, frontier.rolled_until)
        frontier.save()
    return written


def _roll_up_days(
    cursor: Any,
    frontier: HealthCheckRollupFrontier,
    recounted_since: dt.datetime,
    hours_until: dt.datetime,
) -> int:
    """Sum into the daily rollups every whole day before the hourly frontier (``hours_until``)
    not yet summed, and again every day the hours just recounted touch; returns the rows
    written."""
    until = rollups.floor_day(hours_until)
    if frontier.days_rolled_until is None:
        cursor.execute(FIRST_HOUR_SQL)
        first = cursor.fetchone()[0]
        since = rollups.floor_day(first) if first is not None else until
    else:
        since = min(frontier.days_rolled_until, rollups.floor_day(recounted_since))
    written = 0
    if since < until:
        cursor.execute(ROLL_UP_DAYS_SQL, {"since": since, "until": until})
        written = cursor.rowcount
    frontier.days_rolled_until = max(until, frontier.days_rolled_until or until)
    return written


def _points(
    servers: Sequence[McpServer], window: Window, cell: dt.timedelta | None = None
) -> dict[uuid.UUID, list[HealthPoint]]:
    """Each server's checks per cell of the window (by default its step): whole hours before
    the rollups' frontier from the rollups, the rest (later hours, partial first and last
    hours) from the table."""
    return _points_many(servers, [(window, cell or _step(window))])[0]


def _reads(
    window: Window, cell: dt.timedelta, frontier: HealthCheckRollupFrontier | None
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """What to read for a window's cells: (query, since, until), none of them empty."""
    rolled_until = frontier.rolled_until if frontier and frontier.rolled_until else window.since
    days_rolled_until = frontier.days_rolled_until if frontier else None
    whole_since = rollups.floor_hour(window.since)
    if whole_since < window.since:
        whole_since += dt.timedelta(hours=1)
    whole_until = min(rollups.floor_hour(window.until), rolled_until)
    origin = _origin(window)
    reads = [(CHECKS_SQL, window.since, window.until)]
    if whole_since < whole_until:
        reads = [(ROLLUPS_SQL, whole_since, whole_until)]
        day_since = rollups.ceil_day(whole_since)
        day_until = min(rollups.floor_day(whole_until), days_rolled_until or day_since)
        if day_since < day_until and _days_fit(cell, origin, window.until):
            reads = [
                (ROLLUPS_SQL, whole_since, day_since),
                (DAILY_ROLLUPS_SQL, day_since, day_until),
                (ROLLUPS_SQL, day_until, whole_until),
            ]
        reads = [
            (CHECKS_SQL, window.since, whole_since),
            *reads,
            (CHECKS_SQL, whole_until, window.until),
        ]
    return [(sql, since, until) for sql, since, until in reads if since < until]


def _points_many(
    servers: Sequence[McpServer], cells: Sequence[tuple[Window, dt.timedelta]]
) -> list[dict[uuid.UUID, list[HealthPoint]]]:
    """``_points`` of each (window, cell), read in one statement: the reads of every window
    (rollups, daily rollups, checks), each tagged with its window, in a ``UNION ALL``."""
    if not servers:
        return [{} for _ in cells]
    frontier = HealthCheckRollupFrontier.objects.filter(name=FRONTIER).first()
    found: list[dict[uuid.UUID, dict[dt.datetime, HealthPoint]]] = []
    parts: list[str] = []
    params: dict[str, Any] = {"servers": [s.pk for s in servers]}
    for index, (window, cell) in enumerate(cells):
        starts = _starts(window, cell)
        found.append({s.pk: {start: HealthPoint(start) for start in starts} for s in servers})
        for sql, since, until in _reads(window, cell, frontier):
            n = len(parts)
            for name, value in (
                ("since", since),
                ("until", until),
                ("cell", cell),
                ("origin", _origin(window)),
            ):
                sql = sql.replace(f"%({name})s", f"%({name}_{n})s")
                params[f"{name}_{n}"] = value
            parts.append(f"SELECT {index} AS part, * FROM ({sql}) AS read_{n}")
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for part, server_id, start, *counts in cursor.fetchall():
                point = found[part][server_id][start].counts
                for status, count in zip(STATUSES, counts, strict=True):
                    point[status] += count
    return [
        {server_id: list(points.values()) for server_id, points in by_server.items()}
        for by_server in found
    ]


def _days_fit(cell: dt.timedelta, origin: dt.datetime, until: dt.datetime) -> bool:
    """Whether every UTC day falls inside one cell: the cells are whole days from a midnight,
    or there is one cell only (a server's total over the window)."""
    one_cell = origin + cell >= until
    return one_cell or (origin.hour == 0 and cell % dt.timedelta(days=1) == dt.timedelta(0))


def _totals(
    servers: Sequence[McpServer], windows: Sequence[Window]
) -> list[dict[uuid.UUID, HealthPoint]]:
    """Each server's checks over each whole window (one cell as long as the window), every
    window read in one statement."""
    cells = [(window, window.until - _origin(window)) for window in windows]
    return [
        {server_id: points[0] for server_id, points in by_server.items()}
        for by_server in _points_many(servers, cells)
    ]


def overview_cell(window: Window) -> dt.timedelta:
    """The cell of an overview row: the window's step, or whole hours enough to keep a row at
    ``OVERVIEW_CELLS`` cells (7 days: 4 hours)."""
    step = _step(window)
    if window.step == "day":
        return step
    hours = -(-len(_starts(window, step)) // OVERVIEW_CELLS)
    return dt.timedelta(hours=hours)


def server_history(resolved: ResolvedScope, window: Window) -> list[HealthPoint] | None:
    """One server's checks per point by status; None unless the scope is one server."""
    if resolved.server is None:
        return None
    return _points([resolved.server], window)[resolved.server.pk]


def server_histories(
    resolved: ResolvedScope, window: Window
) -> tuple[list[HealthPoint], list[HealthPoint]] | None:
    """``server_history`` of the window and of the period before, read in one statement."""
    server = resolved.server
    if server is None:
        return None
    step = _step(window)
    current, previous = _points_many([server], [(window, step), (window.previous, step)])
    return current[server.pk], previous[server.pk]


@dataclass(frozen=True)
class HealthOverview:
    """Every active server of the scope, least healthy first, and how many the page draws."""

    rows: list[ServerHealthRow]
    cell: dt.timedelta

    @property
    def shown(self) -> list[ServerHealthRow]:
        return self.rows[:OVERVIEW_SERVERS]


def _scope_servers(actor: Actor, resolved: ResolvedScope) -> list[McpServer]:
    servers = McpServer.objects.visible_to(actor, CAPABILITY).select_related("tenant")
    if resolved.tenant is not None:
        servers = servers.filter(tenant_id=resolved.tenant.pk)
    return list(servers.filter(is_active=True).only(*PICKED_SERVER_FIELDS).order_by("name"))


def overview(
    actor: Actor,
    resolved: ResolvedScope,
    window: Window,
    servers: Sequence[McpServer] | None = None,
) -> HealthOverview | None:
    """Every active server of the scope (tenant or platform), the least healthy first, with
    cells for the ``OVERVIEW_SERVERS`` drawn; None for a one-server scope (its chart says it).

    ``servers``, when given, is every server of the scope the actor may see (the page's server
    picker, when not cut), so they are not read again; the active ones are shown.
    Totals are summed per server in the database (one cell per server), so only the drawn
    servers' cells are built.
    """
    if resolved.server is not None:
        return None
    if servers is None:
        chosen = _scope_servers(actor, resolved)
    else:
        chosen = [s for s in servers if s.is_active]
    totals, previous = _totals(chosen, [window, window.previous])

    def health(server: McpServer) -> tuple[float, int, str, str]:
        share = totals[server.pk].healthy_share
        # Least healthy first; servers with no check at all after those that were checked;
        # servers of the same name and health in the order of their tenants' names.
        return (
            2.0 if share is None else share,
            -totals[server.pk].counts["unhealthy"],
            server.name,
            server.tenant.name,
        )

    chosen.sort(key=health)
    cell = overview_cell(window)
    drawn = _points(chosen[:OVERVIEW_SERVERS], window, cell)
    rows = [ServerHealthRow(s, totals[s.pk], previous[s.pk], drawn.get(s.pk, [])) for s in chosen]
    return HealthOverview(rows, cell)


def overview_points(
    actor: Actor, resolved: ResolvedScope, window: Window
) -> list[tuple[str, McpServer, list[HealthPoint]]]:
    """Every active server's points at the window's step, this period and the one before
    (the CSV of the overview)."""
    servers = _scope_servers(actor, resolved)
    current, previous = _points_many(
        servers, [(window, _step(window)), (window.previous, _step(window))]
    )
    return [
        (label, s, points[s.pk])
        for s in servers
        for label, points in (("current", current), ("previous", previous))
    ]
