"""The API key list and each key's page, in the admin; changes go through the key pages.

Both pages are read-only admin pages scoped to the actor: a tenant admin sees their tenant's keys
only, an admin every tenant's, with a tenant filter offering scoped choices. A key's hash is never
a field here and cannot be a URL lookup (``ScopedModelAdmin.lookup_allowed``); its plaintext was
never stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from backoffice import presentation
from backoffice.admin_base import ScopedModelAdmin, actor_of, tenant_filter
from backoffice.roles import Capability
from security.api_keys import filters, selectors
from security.models import ApiKey

TENANT_FILTER = tenant_filter("tenant_id")


@admin.register(ApiKey)
class ApiKeyAdmin(ScopedModelAdmin):
    capability = Capability.MANAGE_API_KEYS
    list_display = (
        "name",
        "key_prefix",
        "scopes_list",
        "status_label",
        "expires",
        "last_used",
        "created",
    )
    list_select_related = ("tenant",)
    list_filter = (TENANT_FILTER, filters.StatusFilter, filters.ScopeFilter)
    search_fields = ("name", "key_prefix")
    search_help_text = (
        "Search by key name or prefix (e.g. mcpgw_ab12cd34); a whole key pasted here is "
        "searched by its prefix."
    )
    ordering = ("-created_at",)
    list_per_page = 50
    change_list_template = "security/api_keys/change_list.html"
    change_form_template = "security/api_keys/change_form.html"
    object_history_template = "security/api_keys/history.html"
    # key_hash is deliberately absent: no page shows it.
    fields = (
        "name",
        "key_prefix",
        "tenant_name",
        "status_label",
        "scopes_list",
        "expires_at",
        "rate_limit_per_minute",
        "last_used_at",
        "usage_count",
        "creator",
        "created_at",
        "updated_at",
        "revoked_at",
        "revoker",
    )
    readonly_fields = fields
    # Shown only for a key someone revoked: a key the gateway deactivated has no such moment.
    REVOCATION_FIELDS = ("revoked_at", "revoker")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[ApiKey]:
        queryset = selectors.api_keys_visible_to(actor_of(request))
        return queryset.order_by(*(self.get_ordering(request) or ()))

    def get_list_display(self, request: HttpRequest) -> Any:
        if self._platform_wide(request):
            return ("name", "tenant_name", *self.list_display[1:])
        return self.list_display

    def get_list_filter(self, request: HttpRequest) -> Any:
        if self._platform_wide(request):
            return self.list_filter
        return (filters.StatusFilter, filters.ScopeFilter)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.revoked_at is None:
            return tuple(name for name in self.fields if name not in self.REVOCATION_FIELDS)
        return self.fields

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ApiKey | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context["key_history"] = selectors.key_history(actor_of(request), obj)
            context["history_url"] = reverse("admin:security_apikey_history", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        """The key's own audit rows, in place of the admin's change log (which nothing writes)."""
        if not self._can(request):
            raise self.deny(request, "history")
        key = self.get_object(request, object_id)
        if key is None:
            missing: HttpResponse = self._get_obj_does_not_exist_redirect(
                request, self.model._meta, object_id
            )
            return missing
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"History of {key.name} ({key.key_prefix})",
            "key": key,
            "key_url": reverse("admin:security_apikey_change", args=[key.pk]),
            "key_history": selectors.key_history(actor_of(request), key),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.object_history_template, context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        context = dict(extra_context or {})
        key_id = selectors.as_key_id(object_id)
        if key_id is not None:
            context["key_actions"] = [
                {"label": "Edit", "url": reverse("security:api_key_edit", args=[key_id])},
                {"label": "Rotate", "url": reverse("security:api_key_rotate", args=[key_id])},
                {"label": "Revoke", "url": reverse("security:api_key_revoke", args=[key_id])},
            ]
        return super().change_view(request, object_id, form_url, context)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "POST" and "q" in request.POST and "action" not in request.POST:
            return self._search(request)
        pasted = request.GET.get("q", "")
        prefix = selectors.prefix_in_pasted_key(pasted)
        if prefix is not None and pasted != prefix:
            # The rest of a key is its secret: search by the prefix, and keep the secret out of
            # the page, its search box and the next URL.
            messages.info(request, f"Searched by the key's prefix, {prefix}.")
            params = request.GET.copy()
            params["q"] = prefix
            return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")
        context = {
            "title": "API keys",
            **(extra_context or {}),
            "create_url": reverse("security:api_key_create"),
        }
        return super().changelist_view(request, context)

    def _search(self, request: HttpRequest) -> HttpResponse:
        """The search box posts (admin/security/apikey/search_form.html), so what is pasted into
        it never reaches a URL, a browser's history or an access log; a whole key is searched by
        its prefix, and the list is shown at a URL holding only that."""
        params = request.POST.copy()
        params.pop("csrfmiddlewaretoken", None)
        pasted = params.get("q", "")
        prefix = selectors.prefix_in_pasted_key(pasted)
        if prefix is not None:
            if pasted != prefix:
                messages.info(request, f"Searched by the key's prefix, {prefix}.")
            params["q"] = prefix
        elif not pasted.strip():
            params.pop("q")
        return HttpResponseRedirect(f"{request.path}?{params.urlencode()}", status=303)

    # --- columns ------------------------------------------------------------------------------

    @admin.display(description="tenant", ordering="tenant__name")
    def tenant_name(self, key: ApiKey) -> str:
        # The tenant came with a key already scoped to the actor.
        return key.tenant.name

    @admin.display(description="scopes")
    def scopes_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes) or "—"

    @admin.display(description="status", ordering="status")
    def status_label(self, key: ApiKey) -> str:
        return selectors.describe_status(key)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, key: ApiKey) -> str:
        return _short_time(key.expires_at, "never")

    @admin.display(description="last used (uses)", ordering="last_used_at")
    def last_used(self, key: ApiKey) -> str:
        # Two facts per cell keep the list inside the page at 1400px with the sidebar open.
        return format_html(
            '{}<span class="api-key-aside">{} uses</span>',
            _short_time(key.last_used_at, "never"),
            f"{key.usage_count:,}",
        )

    @admin.display(description="created", ordering="created_at")
    def created(self, key: ApiKey) -> str:
        return format_html(
            '{}<span class="api-key-aside">by {}</span>',
            _short_time(key.created_at, "—"),
            presentation.breakable(key.creator_label),  # type: ignore[attr-defined]
        )

    @admin.display(description="created by", ordering="creator_label")
    def creator(self, key: ApiKey) -> str:
        label: str = key.creator_label  # type: ignore[attr-defined]
        return presentation.breakable(label)

    @admin.display(description="revoked by")
    def revoker(self, key: ApiKey) -> str:
        label: str = key.revoker_label  # type: ignore[attr-defined]
        return label

    def _platform_wide(self, request: HttpRequest) -> bool:
        actor = actor_of(request)
        return actor is not None and actor.is_platform_wide(self.capability)


def _short_time(moment: dt.datetime | None, missing: str) -> str:
    """A list column's time, in the viewer's zone, with how long ago (or how soon) beside it."""
    return presentation.when_html(moment) if moment else missing
