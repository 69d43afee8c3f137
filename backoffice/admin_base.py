"""The base of every back-office admin page: role checks, tenant scoping and safe lookups.

A ``ScopedModelAdmin`` names the capability that opens it; its queryset, its filter choices and
its object pages all go through ``Model.objects.visible_to(actor, capability)``, so a page cannot
forget the tenant. Pages are read-only unless they say otherwise: changes go through services,
which write the audit row.
"""

from __future__ import annotations

import uuid
from functools import update_wrapper
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.db import DataError, models, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path

from backoffice.audit_actions import AuditAction
from backoffice.operations import ROLE_REFUSAL, Refused
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import SECRET_KEYS, record_denied
from backoffice.tenancy import record_out_of_scope_attempt
from tenants.models import Tenant

INVALID_FILTER_MESSAGE = (
    "A filter value is not valid for its column (an unknown status, a malformed address or "
    "number), so the filters were cleared."
)


def actor_of(request: HttpRequest) -> Actor | None:
    return getattr(request, "actor", None)


# ModelAdmin takes no type argument at run time (django-stubs gives it one).
class ScopedModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    capability: Capability
    # Counting tens of millions of rows costs seconds; never count the whole table, nor facets.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset: models.QuerySet[Any] = self.model.objects.visible_to(
            actor_of(request), self.capability
        )
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    # --- permissions: by capability, read-only by default -----------------------------------
    def _can(self, request: HttpRequest) -> bool:
        actor = actor_of(request)
        return actor is not None and actor.can(self.capability)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._can(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Only the actions whose capability the actor holds.

        Fails closed: an action without ``@backoffice.access.staff_action(capability=...)`` is
        never offered.
        """
        actor = actor_of(request)
        offered = {}
        for name, entry in super().get_actions(request).items():
            if entry is None:
                continue
            capability = getattr(entry[0], "capability", None)
            if actor is not None and capability is not None and actor.can(capability):
                offered[name] = entry
        return offered

    def response_action(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> Any:
        """Refuse (and record) a posted action the actor's role does not offer."""
        self.refuse_unoffered_action(request)
        return super().response_action(request, queryset)

    def refuse_unoffered_action(self, request: HttpRequest) -> None:
        """Django ignores a posted action it does not offer; we refuse it and record the attempt."""
        name = request.POST.get("action", "") if request.method == "POST" else ""
        if name and self._can(request) and name not in self.get_actions(request):
            raise self.deny(request, f"action {name[:100]}")

    def get_urls(self) -> list[URLPattern]:
        """Django's URLs, the list's behind ``refuse_unoffered_action`` whatever page it shows
        (the logs' lists are their explorers, which never see a posted action)."""
        urls = super().get_urls()
        changelist = f"{self.opts.app_label}_{self.opts.model_name}_changelist"

        def checked_changelist(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            self.refuse_unoffered_action(request)
            return self.changelist_view(request, *args, **kwargs)

        checked = self.admin_site.admin_view(
            update_wrapper(checked_changelist, self.changelist_view)
        )
        checked.model_admin = self  # type: ignore[attr-defined]
        return [
            path("", checked, name=changelist) if url.name == changelist else url for url in urls
        ]

    def deny(self, request: HttpRequest, what: str = "") -> Refused:
        """Record a refused attempt and return the exception to raise (already recorded)."""
        actor = actor_of(request)
        if actor is not None:
            record_denied(
                actor=actor,
                action=AuditAction.STAFF_ACCESS,
                resource_type=self.model._meta.label_lower,
                details={"path": request.path[:500], "method": request.method, "what": what},
            )
        return Refused(what or ROLE_REFUSAL)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return OfferedFiltersChangeList

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The list, refusing unoffered actions and turning bad filter values into a message."""
        if not self._can(request):
            raise self.deny(request, "list")
        garbled = [
            key
            for key, values in request.GET.lists()
            if "\x00" in key or any("\x00" in value for value in values)
        ]
        if garbled:
            messages.warning(request, "A filter held a NUL character, which no text has: removed.")
            return _redirect_without(request, garbled)
        try:
            # A savepoint, so a value the column rejects leaves the request's transaction usable.
            with transaction.atomic():
                response = super().changelist_view(request, extra_context)
        except UnofferedFilters as refused:
            shown = ", ".join(name[:40] for name in refused.names)
            messages.warning(request, f"Ignored filters this page does not have: {shown}.")
            return _redirect_without(request, refused.names)
        except UnofferedFilterValues as refused:
            for title, value in refused.values:
                messages.error(
                    request,
                    f"“{value[:40]}” is not a {title} this list offers, so that filter was "
                    "cleared: pick one from the list on the right.",
                )
            return _redirect_without(request, refused.names)
        except (DataError, ValueError, OverflowError):
            messages.error(request, INVALID_FILTER_MESSAGE)
            return HttpResponseRedirect(request.path)
        if isinstance(response, HttpResponseRedirect) and response.url.endswith("?e=1"):
            # Django's answer to an impossible page or a value an offered filter cannot take; it
            # loses the whole query and, with it, the way back.
            if PAGE_VAR in request.GET:
                messages.warning(
                    request, "There is no such page of results: showing the first one."
                )
                return _redirect_without(request, [PAGE_VAR])
            messages.error(request, INVALID_FILTER_MESSAGE)
            return HttpResponseRedirect(request.path)
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self._can(request):
            raise self.deny(request, "view")
        return super().change_view(request, object_id, form_url, extra_context)

    # --- Django's own refusals: this back office is read-only, and every refusal is recorded ---
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise self.deny(request, "add")
        return super().add_view(request, form_url, extra_context)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        posted_change = request.method == "POST" and object_id is not None
        if posted_change and not self.has_change_permission(request):
            raise self.deny(request, "change")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_delete_permission(request):
            raise self.deny(request, "delete")
        return super().delete_view(request, object_id, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if not self._can(request):
            raise self.deny(request, "history")
        return super().history_view(request, object_id, extra_context)

    # --- objects: another tenant's is a 404, a malformed id too -----------------------------
    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):  # type: ignore[no-untyped-def]
        if "\x00" in object_id:
            return None
        return super().get_object(request, object_id, from_field)

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str):  # type: ignore[no-untyped-def]
        """Django's answer when the object page finds nothing: a 404, and a probe is recorded."""
        try:
            # Django hands over the id still quoted for URLs (quote() turns "_" into "_5F").
            pk = self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            pk = None
        if pk is not None and "\x00" not in str(pk):
            record_out_of_scope_attempt(self.model.objects, actor_of(request), self.capability, pk)
        raise Http404(f"No {opts.verbose_name} with this id.")

    # --- lookups and search that cannot leak or crash ---------------------------------------
    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # A lookup on a hash, password or token would let a URL probe it one character at a time.
        if set(lookup.split("__")) & SECRET_KEYS:
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet[Any], search_term: str
    ) -> tuple[models.QuerySet[Any], bool]:
        # PostgreSQL text cannot hold NUL; a NUL in the search box matches nothing.
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


def _redirect_without(request: HttpRequest, names: list[str]) -> HttpResponseRedirect:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    query = params.urlencode()
    return HttpResponseRedirect(f"{request.path}?{query}" if query else request.path)


class UnofferedFilters(Exception):
    """The URL filters on something the page offers no filter for."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


class UnofferedFilterValues(Exception):
    """A sidebar filter was given a value it does not offer (``role=root``, ``status=sleeping``)."""

    def __init__(self, values: list[tuple[str, str, str]]) -> None:
        super().__init__(", ".join(name for name, _title, _value in values))
        self.names = [name for name, _title, _value in values]
        self.values = [(title, value) for _name, title, value in values]


class OfferedFiltersChangeList(ChangeList):
    """A changelist that filters only through the filters its page shows.

    Django applies any other ``field__lookup=value`` in the URL to the query: a back door past
    the filters' own validation, and a source of server errors (``created_at__year=99999``,
    ``name__trigram_similar=x``). Those parameters are refused here, whatever the page.
    """

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            filters = super().get_filters(request)
        except DisallowedModelAdminLookup:
            # A lookup ``lookup_allowed`` refuses (a secret, a relation): the same answer.
            params = self.get_filters_params()
            refused = [
                name
                for name, values in params.items()
                if not all(self.model_admin.lookup_allowed(name, v, request) for v in values)
            ]
            raise UnofferedFilters(sorted(refused)) from None
        remaining = filters[2]
        if remaining:
            raise UnofferedFilters(sorted(remaining))
        # A filter with nothing to offer (no tenants to list) is not shown, and Django then
        # drops its value without a word: so the shown specs are looked up by parameter.
        shown = {
            spec.parameter_name: spec
            for spec in filters[0]
            if isinstance(spec, admin.SimpleListFilter)
        }
        unoffered = []
        for list_filter in self.list_filter:
            if not (
                isinstance(list_filter, type)
                and issubclass(list_filter, admin.SimpleListFilter)
                and getattr(list_filter, "offered_values_only", True)
            ):
                continue
            name = str(list_filter.parameter_name)
            value = request.GET.get(name, "")
            spec = shown.get(name)
            offered = {str(choice) for choice, _label in spec.lookup_choices} if spec else set()
            if value and value not in offered:
                unoffered.append((name, str(list_filter.title), value))
        if unoffered:
            # Ignoring the value would show every row under a filter that looks applied.
            raise UnofferedFilterValues(unoffered)
        return filters


class TenantListFilter(admin.SimpleListFilter):
    """Filter by tenant, offering only the tenants the actor may see (never other tenants')."""

    title = "tenant"
    parameter_name = "tenant"
    field_path = "tenant_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        tenants = Tenant.objects.visible_to(actor_of(request), Capability.VIEW_TENANTS)
        return [(str(pk), name) for pk, name in tenants.values_list("id", "name")]

    def queryset(
        self, request: HttpRequest, queryset: models.QuerySet[Any]
    ) -> models.QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        try:
            tenant_id = uuid.UUID(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(**{self.field_path: tenant_id})


def tenant_filter(field_path: str) -> type[TenantListFilter]:
    """A ``TenantListFilter`` for models whose tenant is reached through ``field_path``."""
    return type("TenantListFilter", (TenantListFilter,), {"field_path": field_path})
