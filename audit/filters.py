"""The filters of the audit and request log explorers (django-filter), validated before any query.

Every value is checked by a form field first: a malformed date, id, enum value, number or IP, a
NUL byte or an unknown parameter becomes a form error shown on the page, never a query. Each
filter maps onto a contract index (see ``audit.selectors``). A filter that no index covers is
tested row by row, so the cost of a page that finds few matches is every row the scan passes:
such filters are accepted only with a bound on those rows (``LogFilterForm.unindexed``).
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.db.models import F, QuerySet, TextField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.form_rendering import EXPLORER_WIDGET_RENDERER
from audit.models import ActorType, AuditLog, AuditOutcome, RequestLog
from audit.selectors import action_codes, actor_id_for
from backoffice import presentation

PLATFORM = "platform"  # the tenant choice for platform events (tenant_id IS NULL)

PERIODS = {
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
PERIOD_CHOICES = [
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
]
STATUS_CLASSES = {"2xx": (200, 300), "3xx": (300, 400), "4xx": (400, 500), "5xx": (500, 600)}
ERROR_CLASSES = ("4xx", "5xx")  # the rows of idx_request_logs_errors (status_code >= 400)
INT_MAX = 2**31 - 1  # duration_ms is a PostgreSQL integer
# Parameters of the pages that are not filters.
PAGE_PARAMETERS = frozenset({"cursor", "newer", "page"})


class NaiveDateTimeField(forms.DateTimeField):
    """A date and time as typed, without a zone: the form applies the zone the viewer chose."""

    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"})

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        for fmt in self.input_formats:
            try:
                return dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
        raise forms.ValidationError(
            "Enter a date and time such as 2025-01-31 14:30.", code="invalid"
        )


def in_zone(value: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """``value`` (a wall-clock time in ``zone``) as an aware UTC datetime, refusing DST gaps."""
    aware = value.replace(tzinfo=zone)
    try:
        utc = aware.astimezone(dt.UTC)
        round_trip = utc.astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError) as exc:
        raise forms.ValidationError("This date is out of range.", code="out_of_range") from exc
    if round_trip != value:
        raise forms.ValidationError(
            f"{value:%Y-%m-%d %H:%M} does not exist in {zone.key} (a clock change).",
            code="imaginary",
        )
    return utc


# The longest time range that makes an unindexed filter affordable on its own: the scan then
# reads at most this range's rows (about 333,000 at 10M rows over 30 days: a pk walk over them,
# matching nothing, takes ~60 ms on the 2-core machine, inside the 100 ms page budget).
MAX_SCAN_WINDOW = dt.timedelta(hours=24)


def action_prefix(value: str) -> str | None:
    """The prefix an action filter asks for (``user.`` or ``user.*``), None for an exact action."""
    value = value.strip()
    if value.endswith("*"):
        return value[:-1] or None
    return value if value.endswith(".") else None


class LogFilterForm(forms.Form):
    """Cross-field checks shared by both explorers: time bounds, zone, unindexed filters.

    An unindexed filter is accepted only when the rows the scan may read are bounded: by a
    ``bounding`` filter, whose index holds one principal's rows (an actor, an API key), or by a
    time range of at most ``MAX_SCAN_WINDOW`` (which the pk walk reads as an id range). Tenant,
    action and server do not bound: each value covers a large share of the table (a tenant is
    1/20 of it in the benchmark), and a filter matching none of that share would read all of it.
    """

    # Widgets rendered in Python, a third of the page's rendering time otherwise (issue #11).
    default_renderer = EXPLORER_WIDGET_RENDERER
    # Set by the filter set: parameter names in the URL that are neither filters nor paging.
    unknown_parameters: list[str] = []
    # Filters that no contract index covers (unless ``covered_by_index`` says so for the
    # combination given), and the filters whose index bounds the rows read.
    unindexed: tuple[str, ...] = ()
    bounding: tuple[str, ...] = ()
    # The time range asked for (a period as since = now - period), in UTC; set by clean().
    time_range: tuple[dt.datetime | None, dt.datetime | None] = (None, None)

    def covered_by_index(self, name: str, cleaned: dict[str, Any]) -> bool:
        """Whether an ``unindexed`` filter is an index condition in this combination."""
        return False

    def bounded_by_time(self, period: str | None) -> bool:
        if period in PERIODS:
            return PERIODS[period] <= MAX_SCAN_WINDOW
        since, until = self.time_range
        if since is None:
            return False
        return (until or timezone.now()) - since <= MAX_SCAN_WINDOW

    def clean_tz(self) -> zoneinfo.ZoneInfo:
        # No zone in the link: the viewer's own (their preference, else the settings' default).
        name = (self.cleaned_data.get("tz") or "").strip() or presentation.active_zone_name()
        if name not in presentation.zone_names():
            raise forms.ValidationError(
                "Unknown time zone: use a name such as UTC or Europe/Paris.", code="invalid"
            )
        return zoneinfo.ZoneInfo(name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.unknown_parameters:
            names = ", ".join(sorted(name[:40] for name in self.unknown_parameters)[:5])
            self.add_error(None, f"Unknown filter: {names}. Use the form's fields.")
        zone = cleaned.get("tz")
        if isinstance(zone, zoneinfo.ZoneInfo):
            for name in ("since", "until"):
                value = cleaned.get(name)
                if isinstance(value, dt.datetime):
                    try:
                        cleaned[name] = in_zone(value, zone)
                    except forms.ValidationError as error:
                        self.add_error(name, error)
        since, until = cleaned.get("since"), cleaned.get("until")
        if isinstance(since, dt.datetime) and isinstance(until, dt.datetime) and since >= until:
            self.add_error("until", "The end must be after the start.")
        if cleaned.get("period") and (since or until):
            self.add_error("period", "Choose a period or start and end times, not both.")
        period = cleaned.get("period")
        if period in PERIODS:
            since = timezone.now() - PERIODS[period]
        self.time_range = (
            since if isinstance(since, dt.datetime) else None,
            until if isinstance(until, dt.datetime) else None,
        )
        given_unindexed = [
            name
            for name in self.unindexed
            if cleaned.get(name) not in (None, "") and not self.covered_by_index(name, cleaned)
        ]
        bounded = any(cleaned.get(name) for name in self.bounding) or self.bounded_by_time(period)
        if given_unindexed and not bounded:
            labels = ", ".join(str(self.fields[name].label) for name in given_unindexed)
            wanted = " or ".join(str(self.fields[name].label).lower() for name in self.bounding)
            self.add_error(
                None,
                f"{labels}: no index covers this filter, so it would read the whole log. "
                f"Add {wanted}, or a time range of at most 24 hours "
                '(the period "Last 24 hours", or From and To at most 24 hours apart).',
            )
        return cleaned


def resolved_actor(value: str | None) -> str | None:
    """An actor typed as an id or an email, as the id the logs record."""
    if not value:
        return None
    actor_id = actor_id_for(value)
    if actor_id is None:
        raise forms.ValidationError("No gateway user has this email.", code="unknown_email")
    return actor_id


class AuditLogFilterForm(LogFilterForm):
    unindexed = ("actor_type", "outcome", "ip", "request_id", "resource_type", "resource_id")
    # Uses index: idx_audit_logs_actor_time (actor_id, created_at DESC)
    bounding = ("actor",)

    def covered_by_index(self, name: str, cleaned: dict[str, Any]) -> bool:
        # idx_audit_logs_action_resource (action, resource_type, resource_id): a resource type
        # after an exact action, and a resource id after both, are equalities on its columns.
        # Without an exact action, a resource type and id together are covered too: the filter
        # names every action code present (``action_codes``), one probe of the index per code.
        action = cleaned.get("action") or ""
        exact_action = bool(action.strip()) and action_prefix(action) is None
        both = bool(cleaned.get("resource_type")) and bool(cleaned.get("resource_id"))
        if name == "resource_type":
            return exact_action or both
        if name == "resource_id":
            return both
        return False

    def clean_actor(self) -> str | None:
        return resolved_actor(self.cleaned_data.get("actor"))


class RequestLogFilterForm(LogFilterForm):
    unindexed = ("user", "tool", "method", "min_duration", "status")
    # Uses index: idx_request_logs_api_key (api_key_id, created_at DESC)
    bounding = ("api_key",)

    def covered_by_index(self, name: str, cleaned: dict[str, Any]) -> bool:
        if name == "tool":
            # Uses index: idx_request_routing_composite (server_id, tool_name, ...)
            return bool(cleaned.get("server"))
        if name == "status":
            # Uses index: idx_request_logs_errors (created_at DESC) WHERE status_code >= 400
            return cleaned.get("status") in ERROR_CLASSES
        return False

    def clean_user(self) -> str | None:
        return resolved_actor(self.cleaned_data.get("user"))


def zone_named(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone a viewer chose (``tz`` in a link), or their own for an empty or unknown name."""
    name = (name or "").strip()
    return zoneinfo.ZoneInfo(
        name if name in presentation.zone_names() else presentation.active_zone_name()
    )


# django-filter ships no types: its classes are Any to mypy.
class WallClockFilter(django_filters.Filter):  # type: ignore[misc]
    field_class = NaiveDateTimeField


class IPAddressFilter(django_filters.Filter):  # type: ignore[misc]
    # Only a valid address reaches the inet column (any other text is a database error there).
    field_class = forms.GenericIPAddressField


class WholeNumberFilter(django_filters.Filter):  # type: ignore[misc]
    field_class = forms.IntegerField


def actor_filter(label: str, column: str) -> django_filters.CharFilter:
    """An actor by id or email; the form resolves an email to the gateway user's id."""
    return django_filters.CharFilter(label=label, field_name=column, max_length=320)


# Form classes by filter set and choices (LogFilterSet.get_form_class): one per tenant's choices
# at most, cleared whole if ever that many accumulate.
_FORM_CLASSES: dict[tuple[object, ...], type[forms.Form]] = {}
MAX_FORM_CLASSES = 256


def _frozen(choices: object) -> object:
    """Choices as a dict key: a list of pairs as a tuple; None or a callable as it is."""
    return tuple(choices) if isinstance(choices, list | tuple) else choices


class LogFilterSet(django_filters.FilterSet):  # type: ignore[misc]
    """Shared shape: choices for tenants come from the caller, already scoped to the viewer."""

    tenant = django_filters.ChoiceFilter(label="Tenant", method="filter_tenant", empty_label="All")
    period = django_filters.ChoiceFilter(
        label="Period", choices=PERIOD_CHOICES, method="filter_period", empty_label="Any time"
    )
    since = WallClockFilter(label="From", method="filter_since")
    until = WallClockFilter(label="To", method="filter_until")
    tz = django_filters.CharFilter(
        label="Time zone",
        method="filter_nothing",
        max_length=64,
        widget=forms.TextInput(
            attrs={"placeholder": f"{settings.TIME_ZONE} (or e.g. Europe/Paris)"}
        ),
    )

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Any] | None = None,
        *,
        tenant_choices: Iterable[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(data, queryset, **kwargs)
        self.filters["tenant"].extra["choices"] = [
            (PLATFORM, "Platform (no tenant)"),
            *tenant_choices,
        ]
        known = set(self.filters) | PAGE_PARAMETERS
        self.unknown_parameters = sorted(set(data or ()) - known)

    def get_form_class(self) -> type[forms.Form]:
        """django-filter's form class, built once per filter set and set of choices.

        django-filter builds a new class, and a form field per filter, for every request; with
        the choices (scoped to the viewer) in the key, one class serves every request that shows
        the same choices. A URL's unknown parameters make a subclass of it, as before.
        """
        key = (type(self), *(_frozen(f.extra.get("choices")) for f in self.filters.values()))
        form_class = _FORM_CLASSES.get(key)
        if form_class is None:
            if len(_FORM_CLASSES) >= MAX_FORM_CLASSES:
                _FORM_CLASSES.clear()
            form_class = _FORM_CLASSES[key] = super().get_form_class()
        unknown = self.unknown_parameters
        if not unknown:
            return form_class
        return type(form_class.__name__, (form_class,), {"unknown_parameters": unknown})

    @property
    def cleaned(self) -> dict[str, Any]:
        """The valid, non-empty filter values (call ``is_valid()`` first)."""
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "", [])}

    def filter_nothing(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        """For values applied elsewhere (the zone is applied by the form)."""
        return queryset

    def filter_tenant(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # Uses index: idx_*_tenant_time (tenant_id, created_at DESC); NULLs are in btrees too.
        if value == PLATFORM:
            return queryset.filter(tenant_id__isnull=True)
        return queryset.filter(tenant_id=uuid.UUID(value))

    @property
    def time_range(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The (since, until) the filter asks for, in UTC (call ``is_valid()`` first)."""
        since_until: tuple[dt.datetime | None, dt.datetime | None] = self.form.time_range
        return since_until

    def filter_period(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        since, _until = self.time_range  # one "now" for the predicate and the id range
        return queryset.filter(created_at__gte=since)

    def filter_since(self, queryset: QuerySet[Any], name: str, value: dt.datetime) -> QuerySet[Any]:
        return queryset.filter(created_at__gte=value)

    def filter_until(self, queryset: QuerySet[Any], name: str, value: dt.datetime) -> QuerySet[Any]:
        return queryset.filter(created_at__lt=value)


def action_range(prefix: str) -> tuple[str, str] | None:
    """Bounds [prefix, next) that a plain btree can scan in a code-point collation, or None."""
    last = ord(prefix[-1])
    if last + 1 > 0x10FFFF or 0xD7FF <= last < 0xE000:
        return None
    return prefix, prefix[:-1] + chr(last + 1)


class AuditLogFilter(LogFilterSet):
    # Uses index: idx_audit_logs_actor_time (actor_id, created_at DESC)
    actor = actor_filter("Actor (id or email)", "actor_id")
    actor_type = django_filters.ChoiceFilter(
        label="Actor type", choices=ActorType.choices, empty_label="Any"
    )
    action = django_filters.CharFilter(
        label="Action (exact, or a prefix such as user.)", method="filter_action", max_length=200
    )
    resource_type = django_filters.CharFilter(
        label="Resource type", max_length=100, method="filter_resource"
    )
    resource_id = django_filters.CharFilter(
        label="Resource id", max_length=200, method="filter_resource"
    )
    outcome = django_filters.ChoiceFilter(
        label="Outcome", choices=AuditOutcome.choices, empty_label="Any"
    )
    ip = IPAddressFilter(label="IP address", field_name="ip_address")
    request_id = django_filters.UUIDFilter(label="Request id")

    class Meta:
        model = AuditLog
        fields: list[str] = []
        form = AuditLogFilterForm

    def filter_resource(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        cleaned = self.form.cleaned_data
        if self.form.covered_by_index(name, cleaned):
            action = (cleaned.get("action") or "").strip()
            if name == "resource_id" and (not action or action_prefix(action) is not None):
                # The codes present (under the prefix, if any) lead the index in place of an
                # exact action; a code written after this read is missed until the next page.
                queryset = queryset.filter(action__in=action_codes(action_prefix(action) or ""))
            # Uses index: idx_audit_logs_action_resource (action, resource_type, resource_id)
            return queryset.filter(**{name: value})
        # Without an exact action before it, that index could only be read whole, which the
        # planner may still prefer on a small or freshly analysed table: compared through
        # COALESCE (the same rows, as the value is never empty) the column offers it no index,
        # and the query keeps to the bounded walk the form required (an actor, or a time range).
        matching: QuerySet[Any] = queryset.alias(
            **{f"{name}_text": Coalesce(F(name), Value(""), output_field=TextField())}
        ).filter(**{f"{name}_text": value})
        return matching

    def filter_action(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        prefix = action_prefix(value)
        if not prefix:
            # Uses index: idx_audit_logs_action_resource (action, resource_type, resource_id)
            return queryset.filter(action=value.rstrip("*"))
        bounds = action_range(prefix)
        # LIKE 'user.%' uses a btree only in the "C" collation; the range uses it in any, and
        # startswith keeps the match exact whatever the range lets through.
        # Uses index: idx_audit_logs_action_resource
        if bounds is not None:
            queryset = queryset.filter(action__gte=bounds[0], action__lt=bounds[1])
        return queryset.filter(action__startswith=prefix)


class RequestLogFilter(LogFilterSet):
    server = django_filters.ChoiceFilter(label="Server", method="filter_server", empty_label="All")
    user = actor_filter("User (id or email)", "user_id")
    api_key = django_filters.UUIDFilter(label="API key id", field_name="api_key_id")
    tool = django_filters.CharFilter(label="Tool", field_name="tool_name", max_length=200)
    method = django_filters.CharFilter(label="Method", field_name="method", max_length=100)
    status = django_filters.ChoiceFilter(
        label="Status",
        choices=[(name, name) for name in STATUS_CLASSES],
        method="filter_status",
        empty_label="Any",
    )
    min_duration = WholeNumberFilter(
        label="Minimum duration (ms)",
        field_name="duration_ms",
        lookup_expr="gte",
        min_value=0,
        max_value=INT_MAX,
    )

    class Meta:
        model = RequestLog
        fields: list[str] = []
        form = RequestLogFilterForm

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Any] | None = None,
        *,
        server_choices: Iterable[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(data, queryset, **kwargs)
        self.filters["server"].extra["choices"] = list(server_choices)

    def filter_server(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # Uses index: idx_request_logs_server_time (server_id, created_at DESC), or
        # idx_tenant_utilization_composite (tenant_id, server_id, created_at DESC) with a tenant.
        return queryset.filter(server_id=uuid.UUID(value))

    def filter_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # Uses index: idx_request_logs_errors (created_at DESC) WHERE status_code >= 400
        low, high = STATUS_CLASSES[value]
        return queryset.filter(status_code__gte=low, status_code__lt=high)


def describe(cleaned: dict[str, Any]) -> dict[str, str]:
    """The filter as plain text, for an export's audit row."""
    described = {}
    for name, value in cleaned.items():
        if isinstance(value, dt.datetime):
            described[name] = value.isoformat()
        elif isinstance(value, zoneinfo.ZoneInfo):
            described[name] = value.key
        else:
            described[name] = str(value)
    return described
