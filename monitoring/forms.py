"""Forms that parse the analytics pages' query strings into values the selectors accept."""

from __future__ import annotations

import datetime as dt
import uuid
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


class UtcMomentField(forms.Field):
    """A moment typed as ``2026-12-03T13:25`` (UTC unless it carries an offset such as ``+01:00``
    or ``Z``), or a day alone: its midnight as a start, the next midnight as an end (the whole
    day included). Parsed here, not by ``DateTimeField``, which reads the server's time zone."""

    default_error_messages = {
        "invalid": "Enter a date (2026-12-03) or a date and time (2026-12-03T13:25), in UTC."
    }

    def __init__(self, *, day_means_end: bool, **kwargs: Any) -> None:
        self.day_means_end = day_means_end
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        text = (value or "").strip()
        if not text:
            return None
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
                return midnight + dt.timedelta(days=1) if self.day_means_end else midnight
            moment = dt.datetime.fromisoformat(text)
            if moment.tzinfo is None:
                return moment.replace(tzinfo=dt.UTC)
            return moment.astimezone(dt.UTC)
        except (ValueError, OverflowError) as error:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from error


class TrendForm(forms.Form):
    """The trends page's scope (tenant, server, tool), period and step; ids are checked against
    the person's scope by ``trends.resolve_scope``, not here."""

    tenant = forms.UUIDField(
        required=False, error_messages={"invalid": "Unknown tenant: choose one from the list."}
    )
    server = forms.UUIDField(
        required=False, error_messages={"invalid": "Unknown server: choose one from the list."}
    )
    tool = forms.CharField(required=False, max_length=300, strip=True)
    period = forms.ChoiceField(
        choices=list(PERIOD_LABELS.items()),
        error_messages={"invalid_choice": "Choose 24 hours, 7 days, 30 days or a custom period."},
    )
    start = UtcMomentField(required=False, day_means_end=False, label="From (UTC)")
    end = UtcMomentField(required=False, day_means_end=True, label="To (UTC)")
    step = forms.ChoiceField(
        required=False,
        choices=[("", "Automatic"), ("hour", "Hourly"), ("day", "Daily")],
        error_messages={"invalid_choice": "Choose hourly or daily points."},
    )

    def __init__(self, data: QueryDict, **kwargs: Any) -> None:
        super().__init__(_with_defaults(data, period="24h"), **kwargs)
        self.note = ""

    def _take_picked_tool(self, cleaned: dict[str, Any]) -> None:
        """The tool picker sends ``<server id>:<tool name>``; a bare name goes with ``server``.

        A picked tool of another server than the one chosen means the server was changed after
        the tool was picked (the tool list follows the server): the server wins.
        """
        head, colon, name = (cleaned.get("tool") or "").partition(":")
        try:
            picked = uuid.UUID(head) if colon and len(head) == 36 else None
        except ValueError:
            picked = None
        if picked is None:
            return
        if cleaned.get("server") not in (None, picked):
            cleaned["tool"] = ""
            self.note = f"The tool {name} is not one of this server's: showing the whole server."
        else:
            cleaned["server"], cleaned["tool"] = picked, name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        self._take_picked_tool(cleaned)
        if cleaned.get("tool") and not cleaned.get("server"):
            raise forms.ValidationError("Choose a server to see one of its tools.")
        try:
            cleaned["window"] = window_for(
                cleaned["period"],
                now=timezone.now(),
                start=cleaned.get("start"),
                end=cleaned.get("end"),
                step=cleaned.get("step") or None,
            )
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        return cleaned
