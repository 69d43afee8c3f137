"""Template filters of the registry's own pages."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from registry.models import McpServer

register = template.Library()


@register.filter
def changing_to(servers: Iterable[McpServer], active: bool) -> list[McpServer]:
    """The servers that deactivating (``active`` False) or reactivating would actually change."""
    return [server for server in servers if server.is_active != active]
