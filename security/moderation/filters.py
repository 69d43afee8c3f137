"""Sidebar filters of the user and impersonation lists.

Each filter takes one query parameter, accepts only the values it offers (anything else, a NUL
byte included, is ignored or matches nothing) and offers only values from rows the actor may
see, so that no other tenant's name appears in a sidebar.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from backoffice.admin_base import actor_of
from backoffice.roles import Capability, Role
from security.models import GatewayUser, ban_in_force
from security.moderation.selectors import impersonations_visible_to

# Sidebar lists of people stay short; search finds the rest.
MAX_CHOICES = 100


class ChoiceFilter(admin.SimpleListFilter):
    """A filter whose value must be one of the choices it offers."""

    def value(self) -> str | None:
        value = super().value()
        if value is None or "\x00" in value:
            return None
        return value

    def chosen(self) -> str | None:
        value = self.value()
        allowed = {str(key) for key, _ in self.lookup_choices}
        return value if value in allowed else None


# --- Users ------------------------------------------------------------------------------------


class RoleFilter(ChoiceFilter):
    title = "role"
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(role.value, role.value) for role in Role]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        role = self.chosen()
        if role is None:
            return queryset
        # ``role`` is comma-separated text; the value is one of the fixed role names above.
        return queryset.filter(role__iregex=rf"(^|,)\s*{role}\s*(,|$)")


class BanFilter(ChoiceFilter):
    title = "ban"
    parameter_name = "ban"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Banned"), ("expired", "Ban expired"), ("none", "Not banned")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        # Uses index: idx_users_banned (partial, where banned)
        match self.chosen():
            case "active":
                return queryset.filter(ban_in_force(now))
            case "expired":
                return queryset.filter(banned=True, ban_expires__lte=now)
            case "none":
                return queryset.filter(Q(banned=False) | Q(banned__isnull=True))
        return queryset


class YesNoFilter(ChoiceFilter):
    field_name = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chosen = self.chosen()
        if chosen is None:
            return queryset
        return queryset.filter(**{self.field_name: chosen == "yes"})


class EmailVerifiedFilter(YesNoFilter):
    title = "email verified"
    parameter_name = "verified"
    field_name = "email_verified"


class ActiveFilter(YesNoFilter):
    title = "active"
    parameter_name = "active"
    field_name = "is_active"


class AuthProviderFilter(ChoiceFilter):
    title = "auth provider"
    parameter_name = "provider"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Uses index: idx_users_auth_provider
        providers = (
            GatewayUser.objects.visible_to(actor_of(request), Capability.MODERATE_USERS)
            .exclude(auth_provider__isnull=True)
            .order_by("auth_provider")
            .values_list("auth_provider", flat=True)
            .distinct()[:MAX_CHOICES]
        )
        return [(provider, provider) for provider in providers if provider]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        provider = self.chosen()
        return queryset if provider is None else queryset.filter(auth_provider=provider)


class CreatedFilter(ChoiceFilter):
    title = "created"
    parameter_name = "created"
    PERIODS = {
        "today": ("Today", dt.timedelta(0)),
        "7d": ("Past 7 days", dt.timedelta(days=7)),
        "30d": ("Past 30 days", dt.timedelta(days=30)),
        "365d": ("Past year", dt.timedelta(days=365)),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.PERIODS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chosen = self.chosen()
        if chosen is None:
            return queryset
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        # Uses index: idx_users_created_at
        return queryset.filter(created_at__gte=today - self.PERIODS[chosen][1])


# --- Impersonations ---------------------------------------------------------------------------


class ImpersonationStatusFilter(ChoiceFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("ended", "Ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        match self.chosen():
            case "active":
                return queryset.filter(ended_at__isnull=True, expires_at__gt=now)
            case "expired":
                return queryset.filter(ended_at__isnull=True, expires_at__lte=now)
            case "ended":
                return queryset.filter(ended_at__isnull=False)
        return queryset


class ReviewedFilter(ChoiceFilter):
    title = "reviewed"
    parameter_name = "reviewed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Reviewed"), ("no", "Not reviewed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chosen = self.chosen()
        if chosen is None:
            return queryset
        return queryset.filter(reviewed_at__isnull=chosen == "no")


class PersonFilter(ChoiceFilter):
    """People found in the records the actor may see, by id, labelled by email."""

    # The sidebar lists the first MAX_CHOICES people; a link may name anyone visible.
    offered_values_only = False
    id_field = ""
    email_field = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        people = (
            impersonations_visible_to(actor_of(request))
            .order_by(self.email_field, self.id_field)
            .values_list(self.id_field, self.email_field)
            .distinct()[:MAX_CHOICES]
        )
        return [(person_id, email or person_id) for person_id, email in people]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset if value is None else queryset.filter(**{self.id_field: value})


class ImpersonatorFilter(PersonFilter):
    title = "impersonator"
    parameter_name = "impersonator"
    id_field = "impersonator_id"
    email_field = "impersonator_email"


class ImpersonatedUserFilter(PersonFilter):
    title = "impersonated user"
    parameter_name = "impersonated"
    id_field = "impersonated_user_id"
    email_field = "impersonated_email"


def parse_day(value: str | None) -> dt.date | None:
    """A YYYY-MM-DD date from a query string, or None when it is missing or malformed."""
    if not value or len(value) > 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def started_range(params: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The start-date range chosen in the sidebar, as aware datetimes (the end day included)."""
    since_day = parse_day(params.get(StartedRangeFilter.FROM))
    until_day = parse_day(params.get(StartedRangeFilter.TO))
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(since_day, dt.time.min, tz) if since_day else None
    until = (
        dt.datetime.combine(until_day, dt.time.min, tz) + dt.timedelta(days=1)
        if until_day and until_day < dt.date.max
        else None
    )
    return since, until


class StartedRangeFilter(admin.SimpleListFilter):
    """A from/to date range on when impersonations started, typed into the sidebar."""

    title = "started"
    parameter_name = "started_from"
    FROM = "started_from"
    TO = "started_to"
    parameter_names = (FROM, TO)
    template = "security/moderation/date_range_filter.html"
    # Typed dates, checked in ``__init__`` with their own message.
    offered_values_only = False

    def __init__(
        self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any
    ) -> None:
        super().__init__(request, params, model, model_admin)
        if self.TO in params:
            value = params.pop(self.TO)
            self.used_parameters[self.TO] = value[-1] if isinstance(value, list) else value
        for name in self.parameter_names:
            raw = str(self.used_parameters.get(name) or "")
            if raw and parse_day(raw) is None:
                messages.warning(
                    request,
                    f"Ignored the {name.replace('_', ' ')} date “{raw[:20]!s}”: "
                    "use the form YYYY-MM-DD.",
                )

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("range", "range")]

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return list(self.parameter_names)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        since, until = started_range({k: str(v) for k, v in self.used_parameters.items()})
        if since is not None:
            queryset = queryset.filter(started_at__gte=since)
        if until is not None:
            queryset = queryset.filter(started_at__lt=until)
        return queryset

    def choices(self, changelist: Any) -> Any:
        keep = [
            (name, value)
            for name, values in changelist.params.items()
            if name not in self.parameter_names and name != "p"
            for value in (values if isinstance(values, list) else [values])
        ]
        yield {
            "from": self.used_parameters.get(self.FROM, "") or "",
            "to": self.used_parameters.get(self.TO, "") or "",
            "keep": keep,
            "clear_url": changelist.get_query_string(remove=list(self.parameter_names)),
        }
