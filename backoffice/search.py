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
# Audit rows have no request_id index, and nothing else maps a request id to a time (the
# contract's request_logs has no request id; the explorers' id-block map maps times to ids).
# So a request id is looked for in one day of audit rows (the BRIN index on created_at bounds
# it), the window the explorer allows an unindexed filter; the page says which day and offers
# the day before, back to REQUEST_ID_DAYS_BACK days: each search reads one day, never more.
REQUEST_ID_WINDOW = dt.timedelta(hours=24)
REQUEST_ID_DAYS_BACK = 30


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
    # The day of audit rows a request id was looked for in, and how many days back it ends.
    requests_since: dt.datetime | None = None
    requests_until: dt.datetime | None = None
    requests_days_back: int = 0
    request_id: str = ""
    key_was_pasted: bool = False
    groups: list[tuple[str, list[Hit]]] = field(default_factory=list)

    @property
    def earlier_day(self) -> int | None:
        """How many days back the next, earlier search of the request id would end, if allowed."""
        after = self.requests_days_back + 1
        return after if self.request_id and after < REQUEST_ID_DAYS_BACK else None

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


def search_everything(actor: Actor, text: str, *, days_back: int = 0) -> Results:
    """Every kind the actor may see that ``text`` names, at most ``PER_KIND`` of each; a request
    id in the day of audit rows that ends ``days_back`` days ago."""
    term, pasted = clean_query(text)
    results = Results(key_was_pasted=pasted)
    if not term:
        return results
    as_uuid = _uuid(term)
    if actor.can(Capability.MODERATE_USERS) and not pasted:
        results.users = [
            Hit(u.email, u.name or "", _admin("security_gatewayuser", u.pk))
            for u in _users(actor, term)
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
        _find_request(actor, as_uuid, days_back, results)
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


def _find_request(actor: Actor, request_id: uuid.UUID, days_back: int, results: Results) -> None:
    """The audit rows of ``request_id`` in one day (see ``REQUEST_ID_WINDOW``)."""
    days_back = min(max(days_back, 0), REQUEST_ID_DAYS_BACK - 1)
    until = timezone.now() - days_back * REQUEST_ID_WINDOW
    since = until - REQUEST_ID_WINDOW
    results.request_id = str(request_id)
    results.requests_since, results.requests_until = since, until
    results.requests_days_back = days_back
    # Uses index: idx_audit_logs_created_brin (one day), then the rows' request_id.
    rows = audit_selectors.audit_logs_visible_to(actor).filter(
        request_id=request_id, created_at__gte=since, created_at__lt=until
    )
    results.requests = [
        Hit(
            f"#{row.pk} {row.action}", row.outcome, reverse("audit:audit_log_detail", args=[row.pk])
        )
        for row in rows.order_by("-id")[:PER_KIND]
    ]
    if results.requests:
        query = {"request_id": str(request_id), "tz": "UTC"}
        if days_back:
            query |= {"since": f"{since:%Y-%m-%dT%H:%M}", "until": f"{until:%Y-%m-%dT%H:%M}"}
        else:
            query["period"] = "24h"
        results.requests.append(
            Hit(
                "Every audit row of this request",
                "in the same day",
                reverse("audit:audit_log_list") + "?" + urlencode(query),
            )
        )


def _users(actor: Actor, term: str) -> list[Any]:
    """Users by email prefix (a range of the email index), by id, and by name unless the term
    is an address (names have no index in the contract: that search reads the user table)."""
    visible = user_selectors.users_visible_to(actor)
    found = {u.pk: u for u in visible.filter(pk=term)}
    by_email = user_selectors.users_by_email_prefix(visible, term).order_by("email")
    found.update((u.pk, u) for u in by_email[:PER_KIND])
    if "@" not in term:
        found.update((u.pk, u) for u in visible.filter(name__istartswith=term)[:PER_KIND])
    return sorted(found.values(), key=lambda u: u.email)[:PER_KIND]


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
        earlier = request.POST.get("days_back", "")
        days_back = int(earlier) if earlier.isdigit() and len(earlier) < 4 else 0
        results = search_everything(actor, request.POST.get("q", ""), days_back=days_back)
    elif request.GET:
        # Someone put a query in a URL: never read it (it may be a key), ask them to post it.
        return HttpResponseRedirect(reverse("search"))
    context = {**admin.site.each_context(request), "title": "Search", "results": results}
    response = TemplateResponse(request, "backoffice/search.html", context)
    response["Cache-Control"] = "no-store"
    return response


# Open to anyone with a back-office role; each kind is searched only with its capability.
search_page = admin.site.admin_view(_search_page)
