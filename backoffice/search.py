"""One search box for everything a staff member may open: users, API keys, servers, tenants and
request ids, each read through its ``*_visible_to`` selector, so results never cross a tenant.

The query is posted (the header's form), never put in a URL: a whole API key pasted into it is
cut to its prefix here, before anything is read, and neither the key nor the query is shown.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from audit import selectors as audit_selectors
from backoffice.roles import Actor, Capability
from backoffice.staff_request import StaffRequest
from registry.models import McpServer
from security.api_keys import selectors as key_selectors
from security.moderation import selectors as user_selectors
from tenants.models import Tenant

MAX_QUERY_LENGTH = 500
PER_KIND = 20
# Audit rows have no request_id index: a request id is looked for in the last day (the BRIN
# index on created_at bounds it), the window the explorer itself allows for this filter.
REQUEST_ID_WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Hit:
    label: str
    detail: str
    url: str | None


@dataclass
class Results:
    """What one query found, by kind; a kind the actor may not search is absent (None)."""

    users: list[Hit] | None = None
    api_keys: list[Hit] | None = None
    servers: list[Hit] | None = None
    tenants: list[Hit] | None = None
    requests: list[Hit] | None = None
    key_was_pasted: bool = False
    groups: list[tuple[str, list[Hit]]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(hits) for _title, hits in self.groups)


def clean_query(text: str) -> tuple[str, bool]:
    """The text to search for, and whether it was a whole API key (then only its prefix)."""
    text = (text or "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    prefix = key_selectors.prefix_in_pasted_key(text)
    if prefix is not None:
        return prefix, True
    return text, False


def search_everything(actor: Actor, text: str) -> Results:
    """Every kind the actor may see that ``text`` names, at most ``PER_KIND`` of each."""
    term, pasted = clean_query(text)
    results = Results(key_was_pasted=pasted)
    if not term:
        return results
    as_uuid = _uuid(term)
    if actor.can(Capability.MODERATE_USERS) and not pasted:
        users = user_selectors.users_visible_to(actor).filter(
            Q(email__istartswith=term) | Q(name__istartswith=term) | Q(pk=term)
        )
        results.users = [
            Hit(u.email, u.name or "", _admin("security_gatewayuser", u.pk))
            for u in users.order_by("email")[:PER_KIND]
        ]
    if actor.can(Capability.MANAGE_API_KEYS):
        keys = key_selectors.api_keys_visible_to(actor).filter(key_prefix__startswith=term)
        if as_uuid is not None:
            keys = key_selectors.api_keys_visible_to(actor).filter(
                Q(pk=as_uuid) | Q(key_prefix__startswith=term)
            )
        results.api_keys = [
            Hit(f"{k.name} ({k.key_prefix})", k.tenant.name, _admin("security_apikey", k.pk))
            for k in keys.select_related("tenant").order_by("key_prefix")[:PER_KIND]
        ]
    if actor.can(Capability.VIEW_REGISTRY) and not pasted:
        named = Q(name__istartswith=term) | (Q(pk=as_uuid) if as_uuid else Q(pk__in=[]))
        servers = McpServer.objects.visible_to(actor, Capability.VIEW_REGISTRY).filter(named)
        results.servers = [
            Hit(
                s.name,
                s.tenant.name if s.tenant_id else "platform",
                _admin("registry_mcpserver", s.pk),
            )
            for s in servers.select_related("tenant").order_by("name")[:PER_KIND]
        ]
    if actor.can(Capability.VIEW_TENANTS) and not pasted:
        named = Q(name__istartswith=term) | Q(slug__istartswith=term)
        if as_uuid is not None:
            named |= Q(pk=as_uuid)
        tenants = Tenant.objects.visible_to(actor, Capability.VIEW_TENANTS).filter(named)
        results.tenants = [
            Hit(t.name, t.slug, _admin("tenants_tenant", t.pk))
            for t in tenants.order_by("name")[:PER_KIND]
        ]
    if actor.can(Capability.VIEW_AUDIT_LOGS) and as_uuid is not None:
        # Uses index: idx_audit_logs_created_brin (the last day), then the rows' request_id.
        since = timezone.now() - REQUEST_ID_WINDOW
        rows = audit_selectors.audit_logs_visible_to(actor).filter(
            request_id=as_uuid, created_at__gte=since
        )
        results.requests = [
            Hit(
                f"#{row.pk} {row.action}",
                row.outcome,
                reverse("audit:audit_log_detail", args=[row.pk]),
            )
            for row in rows.order_by("-id")[:PER_KIND]
        ]
        if results.requests:
            query = urlencode({"request_id": str(as_uuid), "period": "24h"})
            results.requests.append(
                Hit(
                    "Every audit row of this request",
                    "last 24 hours",
                    reverse("audit:audit_log_list") + "?" + query,
                )
            )
    results.groups = [
        (title, hits)
        for title, hits in (
            ("Users", results.users),
            ("API keys", results.api_keys),
            ("Servers", results.servers),
            ("Tenants", results.tenants),
            ("Requests", results.requests),
        )
        if hits is not None
    ]
    return results


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _admin(info: str, pk: Any) -> str | None:
    try:
        return reverse(f"admin:{info}_change", args=[quote(str(pk))])
    except NoReverseMatch:  # a model not registered in this admin: no link, still listed
        return None


@never_cache
@require_http_methods(["GET", "POST"])
def _search_page(request: StaffRequest) -> HttpResponse:
    """Results of the header's search box (POST only: a GET shows the empty page)."""
    actor: Actor = request.actor
    results = None
    if request.method == "POST":
        results = search_everything(actor, request.POST.get("q", ""))
    elif request.GET:
        # Someone put a query in a URL: never read it (it may be a key), ask them to post it.
        return HttpResponseRedirect(reverse("search"))
    context = {**admin.site.each_context(request), "title": "Search", "results": results}
    response = TemplateResponse(request, "backoffice/search.html", context)
    response["Cache-Control"] = "no-store"
    return response


# Open to anyone with a back-office role; each kind is searched only with its capability.
search_page = admin.site.admin_view(_search_page)
