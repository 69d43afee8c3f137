"""Reads of the MCP server registry, scoped to the person asking."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Q
from django.utils import timezone

from backoffice.roles import Actor, Capability
from registry.models import McpResource, McpServer, McpTool, ServerHealthCheck

# The contract's health summary calls a check older than this "stale".
HEALTH_CHECK_STALE_AFTER = dt.timedelta(minutes=5)
HEALTH_HISTORY_LIMIT = 60


def stale_check_condition(now: dt.datetime | None = None) -> Q:
    """Servers whose last health check is older than five minutes (not those never checked)."""
    now = now or timezone.now()
    return Q(last_health_check_at__lt=now - HEALTH_CHECK_STALE_AFTER)


def is_check_stale(server: McpServer, now: dt.datetime | None = None) -> bool | None:
    """True when stale, False when fresh, None when the server was never checked."""
    if server.last_health_check_at is None:
        return None
    return server.last_health_check_at < (now or timezone.now()) - HEALTH_CHECK_STALE_AFTER


def health_check_history(
    actor: Actor | None, server: McpServer, limit: int = HEALTH_HISTORY_LIMIT
) -> list[ServerHealthCheck]:
    """The server's latest health checks, newest first."""
    # Uses index: idx_health_checks_server_time
    checks = ServerHealthCheck.objects.visible_to(actor, Capability.VIEW_REGISTRY)
    return list(checks.filter(server_id=server.pk).order_by("-checked_at")[:limit])


def server_tools(actor: Actor | None, server: McpServer) -> list[McpTool]:
    """The server's tools, most called first."""
    # Uses index: idx_tools_server
    tools = McpTool.objects.visible_to(actor, Capability.VIEW_REGISTRY)
    return list(tools.filter(server_id=server.pk).order_by("-call_count", "name"))


def server_resources(actor: Actor | None, server: McpServer) -> list[McpResource]:
    """The server's resources, most accessed first."""
    # Uses index: idx_resources_server
    resources = McpResource.objects.visible_to(actor, Capability.VIEW_REGISTRY)
    return list(resources.filter(server_id=server.pk).order_by("-access_count", "uri"))


def valid_server_ids(values: list[str]) -> list[uuid.UUID] | None:
    """The ids of an admin action's selection, or None when one is not a UUID (a forged post)."""
    try:
        return [uuid.UUID(value) for value in values]
    except (ValueError, AttributeError, TypeError):
        return None
