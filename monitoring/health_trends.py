"""Server health over time, from the contract's health checks (``server_health_checks``).

Server health in the contract is the ``server_health`` status a health check records (healthy,
degraded, unhealthy, unknown); ``mcp_servers.health_status`` holds only the latest one. So the
history of health is the checks counted per hour (or day) by status: for one server as a chart,
and for every server of a tenant or of the platform as one row of cells each, worst first, so
an outage reads at a glance ("which servers were down, and when"). Request error rates per
server over time are the server's own trend series (pick the server).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection

from backoffice.roles import Actor
from monitoring import rollups
from monitoring.trends import CAPABILITY, ResolvedScope, Window
from registry.models import McpServer

STATUSES = ("healthy", "degraded", "unhealthy", "unknown")
# Rows in the overview, worst first: enough for a tenant; the platform's worst ones.
OVERVIEW_SERVERS = 30
# The checks of the servers in [since, until), per server, point and status. {step} is "hour" or
# "day" (the window's step, never user input).
# Uses index: idx_health_checks_server_time (server_id, checked_at desc), a range per server.
CHECKS_SQL = """
SELECT server_id, date_trunc('{step}', checked_at, 'UTC'), status::text, count(*)
FROM server_health_checks
WHERE server_id = ANY(%(servers)s::uuid[]) AND checked_at >= %(since)s AND checked_at < %(until)s
GROUP BY 1, 2, 3
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
    server: McpServer
    points: list[HealthPoint]

    @property
    def total(self) -> HealthPoint:
        whole = HealthPoint(self.points[0].start)
        for point in self.points:
            for status, count in point.counts.items():
                whole.counts[status] += count
        return whole


def _starts(window: Window) -> list[dt.datetime]:
    step = dt.timedelta(hours=1) if window.step == "hour" else dt.timedelta(days=1)
    start = rollups.floor_hour(window.since)
    if window.step == "day":
        start = start.replace(hour=0)
    starts = []
    while start < window.until:
        starts.append(start)
        start += step
    return starts


def _points(servers: Sequence[McpServer], window: Window) -> dict[uuid.UUID, list[HealthPoint]]:
    starts = _starts(window)
    found: dict[uuid.UUID, dict[dt.datetime, HealthPoint]] = {
        s.pk: {start: HealthPoint(start) for start in starts} for s in servers
    }
    if servers:
        with connection.cursor() as cursor:
            cursor.execute(
                CHECKS_SQL.format(step="hour" if window.step == "hour" else "day"),
                {
                    "servers": [s.pk for s in servers],
                    "since": window.since,
                    "until": window.until,
                },
            )
            for server_id, start, status, count in cursor.fetchall():
                found[server_id][start].counts[status] += count
    return {server_id: list(points.values()) for server_id, points in found.items()}


def server_history(resolved: ResolvedScope, window: Window) -> list[HealthPoint] | None:
    """One server's checks per point by status; None unless the scope is one server."""
    if resolved.server is None:
        return None
    return _points([resolved.server], window)[resolved.server.pk]


@dataclass(frozen=True)
class HealthOverview:
    rows: list[ServerHealthRow]
    servers: int  # in the scope, of which ``rows`` shows the worst


def overview(actor: Actor, resolved: ResolvedScope, window: Window) -> HealthOverview | None:
    """Every server of the scope (tenant or platform) over the window, the least healthy first;
    None for a one-server scope (its own chart says it)."""
    if resolved.server is not None:
        return None
    servers = McpServer.objects.visible_to(actor, CAPABILITY).select_related("tenant")
    if resolved.tenant is not None:
        servers = servers.filter(tenant_id=resolved.tenant.pk)
    chosen = list(servers.filter(is_active=True).order_by("name"))
    points = _points(chosen, window)
    rows = [ServerHealthRow(s, points[s.pk]) for s in chosen]

    def health(row: ServerHealthRow) -> tuple[float, int, str]:
        total = row.total
        share = total.healthy_share
        # Least healthy first; servers with no check at all after those that were checked.
        return (2.0 if share is None else share, -total.counts["unhealthy"], row.server.name)

    rows.sort(key=health)
    return HealthOverview(rows[:OVERVIEW_SERVERS], len(rows))
