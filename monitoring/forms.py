"""Forms that parse the analytics pages' query strings into values the selectors accept."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from backoffice.roles import Actor
from monitoring.selectors import (
    DEFAULT_PERFORMANCE_SORT,
    DEFAULT_WINDOW_HOURS,
    PERFORMANCE_SORT_KEYS,
    WINDOW_HOURS,
    analytics_tenants,
)
from monitoring.trends import window_for
from tenants.models import Tenant

WINDOW_LABELS = {1: "Last hour", 6: "Last 6 hours", 24: "Last 24 hours", 168: "Last 7 days"}
WINDOW_ERROR = "Choose a window of 1, 6, 24 or 168 hours."


def _with_defaults(data: QueryDict, **defaults: str) -> QueryDict:
    data = data.copy()
    for name, value in defaults.items():
        if not data.get(name):
            data[name] = value
    return data


class WindowForm(forms.Form):
    """The time window of an analytics page: only the windows the page offers."""

    hours = forms.TypedChoiceField(
        label="Window",
        choices=[(hours, WINDOW_LABELS[hours]) for hours in WINDOW_HOURS],
        coerce=int,
        error_messages={"invalid_choice": WINDOW_ERROR, "required": WINDOW_ERROR},
    )

    def __init__(self, data: QueryDict | None, **kwargs: Any) -> None:
        if data is None:
            kwargs.setdefault("initial", {"hours": DEFAULT_WINDOW_HOURS})
            super().__init__(None, **kwargs)
        else:
            super().__init__(_with_defaults(data, hours=str(DEFAULT_WINDOW_HOURS)), **kwargs)


SORT_LABELS = {
    "server_name": "Server",
    "tenant_name": "Tenant",
    "total_requests": "Requests",
    "error_count": "Errors",
    "error_rate": "Error rate",
    "avg_duration_ms": "Average",
    "p50_duration_ms": "Median",
    "p95_duration_ms": "p95",
}


class RequestPerformanceForm(WindowForm):
    """Window and sort order of the request performance page (whitelisted sort keys only)."""

    sort = forms.ChoiceField(
        choices=[(key, key) for key in PERFORMANCE_SORT_KEYS]
        + [(f"-{key}", f"-{key}") for key in PERFORMANCE_SORT_KEYS],
        error_messages={"invalid_choice": "Sort by one of the table's columns."},
    )

    def __init__(self, data: QueryDict | None, **kwargs: Any) -> None:
        if data is not None:
            data = _with_defaults(data, sort=DEFAULT_PERFORMANCE_SORT)
        super().__init__(data, **kwargs)


class TenantPickForm(WindowForm):
    """Staff choose a tenant among those their role lets them see."""

    tenant = forms.ModelChoiceField(
        # Replaced per actor in __init__, so the list never holds another tenant's names.
        queryset=Tenant.unscoped.none(),
        empty_label="Choose a tenant",
        error_messages={"invalid_choice": "Choose one of the tenants in the list."},
    )

    def __init__(self, data: QueryDict | None, *, actor: Actor | None) -> None:
        super().__init__(data)
        self.fields["tenant"].queryset = analytics_tenants(actor)  # type: ignore[attr-defined]


PERIOD_LABELS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "custom": "Custom",
}


class TrendForm(forms.Form):
    """The trends page's scope (tenant, server, tool), period and step; ids are checked against
    the person's scope by ``trends.resolve_scope``, not here."""

    tenant = forms.UUIDField(required=False, error_messages={"invalid": "Unknown tenant."})
    server = forms.UUIDField(required=False, error_messages={"invalid": "Unknown server."})
    tool = forms.CharField(required=False, max_length=200, strip=True)
    period = forms.ChoiceField(
        choices=list(PERIOD_LABELS.items()),
        error_messages={"invalid_choice": "Choose 24 hours, 7 days, 30 days or a custom period."},
    )
    first_day = forms.DateField(required=False, label="From (UTC)")
    last_day = forms.DateField(required=False, label="To (UTC, inclusive)")
    step = forms.ChoiceField(
        required=False,
        choices=[("", "Automatic"), ("hour", "Hourly"), ("day", "Daily")],
        error_messages={"invalid_choice": "Choose hourly or daily points."},
    )

    def __init__(self, data: QueryDict, **kwargs: Any) -> None:
        super().__init__(_with_defaults(data, period="24h"), **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        if cleaned.get("tool") and not cleaned.get("server"):
            raise forms.ValidationError("Choose a server to see one of its tools.")
        try:
            cleaned["window"] = window_for(
                cleaned["period"],
                now=timezone.now(),
                first_day=cleaned.get("first_day"),
                last_day=cleaned.get("last_day"),
                step=cleaned.get("step") or None,
            )
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        return cleaned
