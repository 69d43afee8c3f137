"""Reads behind the trends page: series from the rollups, scoped to the person asking.

A scope is the platform, a tenant, one of its servers or one of a server's tools. Tenant admins
are held to their own tenant whatever the query string says: another tenant's tenant or server is
answered as an unknown one (status 400, the probe audited by ``backoffice.tenancy.access``), and
the platform-wide scope is only for platform roles.
Every series comes with the period just before it, of the same length, for comparison.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.http import Http404

from backoffice.roles import Actor, Capability
from backoffice.tenancy import access
from monitoring import request_days, rollups
from monitoring.rollups import Grain, Hour, Scope
from registry.models import McpServer, McpTool
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
# Servers and tools a picker lists at most (a tenant or a server narrows it).
MAX_CHOICES = 500
# Before this, a period and the one before it only hold mistyped years (and year 1 overflows).
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class ScopeRefused(Exception):
    """The scope cannot be shown: an unknown tenant or server (or another tenant's: the same
    words, so the answer tells nothing of what exists), or the whole platform to a tenant
    admin with no tenant. The page says why, with status 400."""


@dataclass(frozen=True)
class ResolvedScope:
    """A scope the actor may see, with the names to show, and what was set aside to get it."""

    scope: Scope
    tenant: Tenant | None
    server: McpServer | None
    note: str = ""

    @property
    def label(self) -> str:
        if self.server is not None:
            tool = f", tool {self.scope.tool_name}" if self.scope.tool_name is not None else ""
            return f"{self.server.name}{tool}"
        return self.tenant.name if self.tenant is not None else "Whole platform"


def _visible(manager: Any, actor: Actor, pk: uuid.UUID, what: str) -> Any:
    """The object, or ``ScopeRefused``; a probe of another tenant's is audited by ``access``."""
    try:
        return access(manager, actor, CAPABILITY, pk)
    except Http404 as missing:
        raise ScopeRefused(f"Unknown {what}: choose one from the list.") from missing


def resolve_scope(
    actor: Actor,
    tenant_id: uuid.UUID | None = None,
    server_id: uuid.UUID | None = None,
    tool_name: str | None = None,
) -> ResolvedScope:
    """The scope asked for, checked against ``actor``; a tenant admin's default is their tenant.

    The pickers list servers of the chosen tenant and tools of the chosen server, so a server
    outside the chosen tenant means the person changed the tenant: the tenant wins, and the
    page says the server was set aside.
    """
    if not actor.can(CAPABILITY):
        raise ScopeRefused("Your role does not allow trends.")
    server = _visible(McpServer.objects, actor, server_id, "server") if server_id else None
    note = ""
    if server is not None and tenant_id is not None and server.tenant_id != tenant_id:
        note = f"The server {server.name} is not one of this tenant's: showing the whole tenant."
        server, tool_name = None, None
    if server is not None:
        tenant_id = server.tenant_id
    elif tool_name is not None:
        raise ScopeRefused("Choose a server to see one of its tools.")
    if tenant_id is None and not actor.is_platform_wide(CAPABILITY):
        if actor.tenant_id is None:
            raise ScopeRefused("Your account belongs to no tenant, so there are no trends to show.")
        tenant_id = actor.tenant_id
    tenant = _visible(Tenant.objects, actor, tenant_id, "tenant") if tenant_id else None
    scope = Scope(
        tenant_id=tenant.pk if tenant else None,
        server_id=server.pk if server else None,
        tool_name=tool_name if server else None,
    )
    return ResolvedScope(scope, tenant, server, note)


# What the picker and the health overview read of a server (its label, tenant and whether it
# is active), not its whole row: a hundred servers' other columns were half the list's cost.
PICKED_SERVER_FIELDS = ("id", "name", "tenant_id", "is_active", "tenant__id", "tenant__name")


def servers_for(actor: Actor, tenant: Tenant | None) -> list[tuple[McpServer, str]]:
    """The servers a person may pick, within the chosen tenant if any, each with its label: its
    name, and its tenant's beside it when several of the list share the name."""
    servers = McpServer.objects.visible_to(actor, CAPABILITY).select_related("tenant")
    if tenant is not None:
        servers = servers.filter(tenant_id=tenant.pk)
    found = list(servers.only(*PICKED_SERVER_FIELDS).order_by("name", "tenant__name")[:MAX_CHOICES])
    named = Counter(s.name for s in found)
    return [(s, s.name if named[s.name] == 1 else f"{s.name} ({s.tenant.name})") for s in found]


def tenants_for(actor: Actor) -> list[Tenant]:
    return list(Tenant.objects.visible_to(actor, CAPABILITY).order_by("name"))


@dataclass(frozen=True)
class ToolChoice:
    """One tool in the picker: ``value`` names its server and the tool (``<server id>:<name>``),
    ``label`` the tool, with its server and tenant beside it when the name is on several."""

    value: str
    label: str
    name: str


# Tool names the log holds for one server (its registry may have dropped some since).
# Uses index: request_rollups_key (grain, tenant_id, server_id, tool_name, hour)
LOGGED_TOOLS_SQL = """
SELECT DISTINCT tool_name FROM request_rollups
WHERE grain = %(grain)s AND tenant_id = %(tenant)s AND server_id = %(server)s
  AND tool_name IS NOT NULL
"""


def tools_for(actor: Actor, resolved: ResolvedScope) -> tuple[list[ToolChoice], bool]:
    """The tools a person may pick, and whether the list was cut at ``MAX_CHOICES``.

    The chosen server's tools (its registry's and those its requests named); without a server,
    the tools of the chosen tenant's servers, or of every server the person may see.
    """
    tools = McpTool.objects.visible_to(actor, CAPABILITY)
    if resolved.server is not None:
        tools = tools.filter(server_id=resolved.server.pk)
    elif resolved.tenant is not None:
        tools = tools.filter(server__tenant_id=resolved.tenant.pk)
    # Names only (not whole rows): the platform's list holds hundreds.
    found = list(
        tools.order_by("name", "server__name").values_list(
            "server_id", "name", "server__name", "server__tenant__name"
        )[: MAX_CHOICES + 1]
    )
    cut = len(found) > MAX_CHOICES
    pairs = {
        (server_id, name): (server, tenant)
        for server_id, name, server, tenant in found[:MAX_CHOICES]
    }
    server = resolved.server
    if server is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                LOGGED_TOOLS_SQL,
                {"grain": Grain.TOOL, "tenant": server.tenant_id, "server": server.pk},
            )
            logged = [name for (name,) in cursor.fetchall()]
        tenant_name = resolved.tenant.name if resolved.tenant else ""
        for name in [*logged, *filter(None, [resolved.scope.tool_name])]:
            pairs.setdefault((server.pk, name), (server.name, tenant_name))
    servers_of = Counter(name for _, name in pairs)
    choices = [
        ToolChoice(
            f"{server_id}:{name}",
            name if servers_of[name] == 1 else f"{name} ({server_name}, {tenant_name})",
            name,
        )
        for (server_id, name), (server_name, tenant_name) in pairs.items()
    ]
    return sorted(choices, key=lambda c: (c.name, c.label)), cut


@dataclass(frozen=True)
class Window:
    """A period in UTC, ``since`` inclusive, ``until`` exclusive, drawn as hourly or daily points.

    The set periods end on the hour (or the day); a custom one may start and end at any minute,
    and its first and last points then cover part of their hour or day (counted exactly).
    """

    since: dt.datetime
    until: dt.datetime
    step: str  # "hour" or "day"

    @property
    def step_label(self) -> str:
        return "hourly" if self.step == "hour" else "daily"

    @property
    def previous(self) -> Window:
        return Window(self.since - (self.until - self.since), self.since, self.step)

    @property
    def partial_start(self) -> bool:
        return self.since != rollups.floor_hour(self.since) or (
            self.step == "day" and self.since.hour != 0
        )

    @property
    def partial_end(self) -> bool:
        return self.until != rollups.floor_hour(self.until) or (
            self.step == "day" and self.until.hour != 0
        )


def window_for(
    period: str,
    *,
    now: dt.datetime,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    step: str | None = None,
) -> Window:
    """The window of a period ending now (its last hour or day still filling), or a custom one
    from ``start`` (included) to ``end`` (excluded), any minute, UTC."""
    if period == "custom":
        if start is None or end is None:
            raise ValueError("Give the start (From) and the end (To) of the custom period.")
        since, until = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
        if until <= since:
            raise ValueError("The end (To) must be after the start (From).")
        if since < EARLIEST:
            raise ValueError("Choose a start in 2000 or later.")
        if since > now:
            raise ValueError("The period starts in the future: there is nothing to show yet.")
        length = until - since
        default_step = "hour" if length <= dt.timedelta(days=2) else "day"
    else:
        length, default_step = PERIODS[period]
        this_hour = rollups.floor_hour(now)
        if (step or default_step) == "day":
            until = this_hour.replace(hour=0) + dt.timedelta(days=1)
        else:
            until = this_hour + dt.timedelta(hours=1)
        since = until - length
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


def _series(scope: Scope, window: Window) -> tuple[list[Hour], list[Hour]]:
    """The window's points and those of the period before."""
    previous = window.previous
    ranges = [(previous.since, previous.until), (window.since, window.until)]
    if window.step == "day":
        before, points = request_days.daily_series_many(scope, ranges)
    else:
        before, points = rollups.hourly_series_many(scope, ranges)
    return points, before


def trend(resolved: ResolvedScope, window: Window) -> Trend:
    """The series for a scope from ``resolve_scope`` (or ``tenant_usage_trend``): never for a
    ResolvedScope built from ids nobody checked."""
    return Trend(resolved, window, *_series(resolved.scope, window))


def tenant_usage_trend(tenant: Tenant, hours: int, now: dt.datetime) -> Trend:
    """The tenant's last ``hours`` hour by hour, and the hours before, for the usage page: call
    only with a tenant from ``selectors.access_tenant_for_analytics``."""
    until = rollups.floor_hour(now) + dt.timedelta(hours=1)
    window = Window(until - dt.timedelta(hours=hours), until, "hour")
    return trend(ResolvedScope(Scope(tenant_id=tenant.pk), tenant, None), window)
