"""The API key list's filters: status (computed in SQL) and scope, each refusing odd values."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from security.api_keys import scopes as scope_catalog
from security.api_keys.selectors import ApiKeyStatus


class StatusFilter(admin.SimpleListFilter):
    """By status; filters on the ``status`` annotation, so the database does the work."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(ApiKeyStatus.choices)

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if not value:
            return queryset
        if value not in ApiKeyStatus.values:
            return queryset.none()
        return queryset.filter(status=value)


class ScopeFilter(admin.SimpleListFilter):
    """Keys holding one scope of the catalog."""

    title = "scope"
    parameter_name = "scope"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(scope.value, scope.value) for scope in scope_catalog.CATALOG]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if not value:
            return queryset
        if value not in scope_catalog.SCOPE_VALUES:
            return queryset.none()
        return queryset.filter(scopes__contains=[value])
