"""The API key list's filters: status (computed in SQL) and scope, each refusing odd values."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from backoffice.admin_base import actor_of
from security.api_keys import scopes as scope_catalog
from security.api_keys.selectors import ApiKeyStatus, scopes_outside_catalog


class StatusFilter(admin.SimpleListFilter):
    """By status; filters on the ``status`` annotation, so the database does the work."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(ApiKeyStatus.choices)

    def queryset(
        self, request: HttpRequest, queryset: models.QuerySet[Any]
    ) -> models.QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value not in ApiKeyStatus.values:
            return queryset.none()
        return queryset.filter(status=value)


class ScopeFilter(admin.SimpleListFilter):
    """Keys holding one scope: the catalog's, then any other scope the actor's keys hold."""

    title = "scope"
    parameter_name = "scope"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        catalog = [(scope.value, scope.value) for scope in scope_catalog.CATALOG]
        others = [
            (scope, f"{scope} (not in the catalog)")
            for scope in scopes_outside_catalog(actor_of(request))
        ]
        return catalog + others

    def queryset(
        self, request: HttpRequest, queryset: models.QuerySet[Any]
    ) -> models.QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value not in {choice for choice, _label in self.lookup_choices}:
            return queryset.none()
        return queryset.filter(scopes__contains=[value])
