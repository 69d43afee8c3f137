"""Reads behind the trends page: series from the hourly rollups, scoped to the person asking.

A scope is the platform, a tenant, one of its servers or one of a server's tools. Tenant admins
are held to their own tenant whatever the query string says: another tenant's tenant or server is
a 404 (``backoffice.tenancy.access``), and the platform-wide scope is only for platform roles.
Every series comes with the period just before it, of the same length, for comparison.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncHour

from backoffice.roles import Actor, Capability
from backoffice.tenancy import access
from monitoring import rollups
from monitoring.rollups import Hour, Scope
from registry.models import McpServer, ServerHealthCheck
from tenants.models import Tenant

CAPABILITY = Capability.VIEW_TRENDS
# The periods the page offers, as (length, step); "custom" takes dates from the person.
PERIODS = {
    "24h": (dt.timedelta(hours=24), "hour"),
    "7d": (dt.timedelta(days=7), "hour"),
    "30d": (dt.timedelta(days=30), "day"),
}
# An hourly series longer than this is unreadable and slow to draw: use days.
MAX_HOURLY = dt.timedelta(days=31)
MAX_CUSTOM = dt.timedelta(days=366)


class ScopeRefused(Exception):
    """The person may not see this scope (e.g. the whole platform as a tenant admin)."""


@dataclass(frozen=True)
class ResolvedScope:
    """A scope the actor may see, with the names to show."""

    scope: Scope
    tenant: Tenant | None
    server: McpServer | None

    @property
    def label(self) -> str:
        if self.server is not None:
            tool = f", tool {self.scope.tool_name}" if self.scope.tool_name is not None else ""
            return f"{self.server.name}{tool}"
        return self.tenant.name if self.tenant is not None else "Whole platform"


def resolve_scope(
    actor: Actor,
    tenant_id: uuid.UUID | None = None,
    server_id: uuid.UUID | None = None,
    tool_name: str | None = None,
) -> ResolvedScope:
    """The scope asked for, checked against ``actor``; a tenant admin's default is their tenant."""
    if not actor.can(CAPABILITY):
        raise ScopeRefused("Your role does not allow trends.")
    server = access(McpServer.objects, actor, CAPABILITY, server_id) if server_id else None
    if server is not None:
        tenant_id = server.tenant_id
    elif tool_name is not None:
        raise ScopeRefused("Choose a server to see one of its tools.")
    if tenant_id is None and not actor.is_platform_wide(CAPABILITY):
        if actor.tenant_id is None:
            raise ScopeRefused("Your account belongs to no tenant, so there are no trends to show.")
        tenant_id = actor.tenant_id
    tenant = access(Tenant.objects, actor, CAPABILITY, tenant_id) if tenant_id else None
    scope = Scope(
        tenant_id=tenant.pk if tenant else None,
        server_id=server.pk if server else None,
        tool_name=tool_name if server else None,
    )
    return ResolvedScope(scope, tenant, server)


def servers_for(actor: Actor, tenant: Tenant | None) -> list[McpServer]:
    """The servers a person may pick, within the chosen tenant if any."""
    servers = McpServer.objects.visible_to(actor, CAPABILITY)
    if tenant is not None:
        servers = servers.filter(tenant_id=tenant.pk)
    return list(servers.order_by("name")[:500])


def tenants_for(actor: Actor) -> list[Tenant]:
    return list(Tenant.objects.visible_to(actor, CAPABILITY).order_by("name"))


@dataclass(frozen=True)
class Window:
    """A period as whole hours or days, UTC: ``since`` inclusive, ``until`` exclusive."""

    since: dt.datetime
    until: dt.datetime
    step: str  # "hour" or "day"

    @property
    def step_label(self) -> str:
        return "hourly" if self.step == "hour" else "daily"

    @property
    def previous(self) -> Window:
        return Window(self.since - (self.until - self.since), self.since, self.step)


def window_for(
    period: str,
    *,
    now: dt.datetime,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    step: str | None = None,
) -> Window:
    """The window of a period ending now (its last hour or day still filling), or a custom one
    from ``first_day`` to ``last_day`` inclusive."""
    if period == "custom":
        if first_day is None or last_day is None:
            raise ValueError("Give the first and the last day of the period.")
        since = dt.datetime.combine(first_day, dt.time(), dt.UTC)
        until = dt.datetime.combine(last_day, dt.time(), dt.UTC) + dt.timedelta(days=1)
        length = until - since
        default_step = "hour" if length <= dt.timedelta(days=2) else "day"
    else:
        length, default_step = PERIODS[period]
        this_hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        if (step or default_step) == "day":
            until = this_hour.replace(hour=0) + dt.timedelta(days=1)
        else:
            until = this_hour + dt.timedelta(hours=1)
        since = until - length
    if until <= since:
        raise ValueError("The last day must not be before the first.")
    if until - since > MAX_CUSTOM:
        raise ValueError("Choose a period of at most 366 days.")
    chosen = step or default_step
    if chosen == "hour" and until - since > MAX_HOURLY:
        raise ValueError("Hourly points cover at most 31 days: choose daily points.")
    return Window(since, until, chosen)


@dataclass(frozen=True)
class Trend:
    """A scope's series over a window and over the period before, point for point."""

    scope: ResolvedScope
    window: Window
    points: list[Hour]
    previous: list[Hour]

    @property
    def total(self) -> Hour:
        return rollups.total(self.points)

    @property
    def previous_total(self) -> Hour:
        return rollups.total(self.previous)


def _series(scope: Scope, window: Window) -> list[Hour]:
    hours = rollups.hourly_series(scope, window.since, window.until)
    return rollups.daily_series(hours) if window.step == "day" else hours


def trend(resolved: ResolvedScope, window: Window) -> Trend:
    """The series for a scope from ``resolve_scope`` (or ``tenant_usage_trend``): never for a
    ResolvedScope built from ids nobody checked."""
    return Trend(
        resolved,
        window,
        _series(resolved.scope, window),
        _series(resolved.scope, window.previous),
    )


@dataclass(frozen=True)
class HealthHour:
    start: dt.datetime
    healthy: int
    degraded: int
    unhealthy: int
    unknown: int

    @property
    def checks(self) -> int:
        return self.healthy + self.degraded + self.unhealthy + self.unknown


def health_history(resolved: ResolvedScope, window: Window) -> list[HealthHour] | None:
    """A server's health checks per hour by status; None unless the scope is one server.

    Uses index: idx_health_checks_server_time (server_id, checked_at desc), one server's range.
    """
    if resolved.server is None or window.until - window.since > MAX_HOURLY:
        return None
    rows = (
        ServerHealthCheck.unscoped.filter(
            server_id=resolved.server.pk,
            checked_at__gte=window.since,
            checked_at__lt=window.until,
        )
        .annotate(hour=TruncHour("checked_at", tzinfo=dt.UTC))
        .values("hour")
        .annotate(
            **{
                status: Count("id", filter=Q(status=status))
                for status in ("healthy", "degraded", "unhealthy", "unknown")
            }
        )
    )
    found = {row["hour"]: row for row in rows}
    hours = []
    start = window.since
    while start < window.until:
        row = found.get(start, {})
        hours.append(
            HealthHour(
                start,
                row.get("healthy", 0),
                row.get("degraded", 0),
                row.get("unhealthy", 0),
                row.get("unknown", 0),
            )
        )
        start += dt.timedelta(hours=1)
    return hours


def tenant_usage_trend(tenant: Tenant, hours: int, now: dt.datetime) -> Trend:
    """The tenant's last ``hours`` hour by hour, and the hours before, for the usage page: call
    only with a tenant from ``selectors.access_tenant_for_analytics``."""
    until = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    until += dt.timedelta(hours=1)
    window = Window(until - dt.timedelta(hours=hours), until, "hour")
    return trend(ResolvedScope(Scope(tenant_id=tenant.pk), tenant, None), window)
