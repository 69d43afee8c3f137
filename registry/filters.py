"""List filters of the MCP server registry."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from registry.selectors import stale_check_condition


class HealthCheckFreshnessFilter(admin.SimpleListFilter):
    """Servers whose health check is stale (older than five minutes) or was never made."""

    title = "health check"
    parameter_name = "health_check"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("stale_or_missing", "Stale or missing"),
            ("stale", "Stale (older than 5 minutes)"),
            ("missing", "Never checked"),
            ("fresh", "Checked in the last 5 minutes"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Uses index: idx_mcp_servers_health_check_time (active servers)
        value = self.value()
        stale = stale_check_condition()
        missing = Q(last_health_check_at__isnull=True)
        if value == "stale_or_missing":
            return queryset.filter(stale | missing)
        if value == "stale":
            return queryset.filter(stale)
        if value == "missing":
            return queryset.filter(missing)
        if value == "fresh":
            return queryset.exclude(stale | missing)
        if value:
            return queryset.none()  # an unknown value matches nothing rather than everything
        return queryset


class ActiveFilter(admin.BooleanFieldListFilter):
    """``is_active`` under the title "active" (the field's own name reads "By is active")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "active"
