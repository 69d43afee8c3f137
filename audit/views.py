"""The audit and request log explorers: list, detail and export pages (read-only for everyone).

Views parse the filter and the page cursor, call the selectors and render. Bad input of any kind
is answered with the form's message and status 400, never a query built from it.
"""

from __future__ import annotations

import json
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import models
from django.http import HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe

from audit import form_rendering, selectors
from audit.exports import AUDIT_LOGS, FORMATS, REQUEST_LOGS, LogKind, export_filename, export_logs
from audit.filters import (
    PAGE_PARAMETERS,
    PLATFORM,
    AuditLogFilter,
    LogFilterSet,
    RequestLogFilter,
    zone_named,
)
from audit.models import ActorType, AuditLog, RequestLog
from audit.paging import (
    PagePosition,
    filter_query_string,
    page_position,
    paging_query,
    total_text,
)
from audit.selectors import InvalidCursor, LogOrder
from audit.tables import AuditLogTable, LeanTable, RequestLogTable
from backoffice import presentation
from backoffice.access import staff_view
from backoffice.audit_actions import AuditAction
from backoffice.reads import HeavyReads, heavy_reads
from backoffice.roles import Capability
from backoffice.staff_audit import without_secrets
from backoffice.staff_request import StaffRequest
from registry.models import McpServer
from security.models import ApiKey, GatewaySession, GatewayUser
from security.second_factor.step_up import step_up
from security.selectors import email_of, user_emails
from tenants.models import Tenant


@dataclass(frozen=True)
class Explorer:
    """Everything that differs between the audit log and the request log explorers."""

    name: str  # URL name prefix: audit_log or request_log
    title: str
    kind: LogKind
    filter_class: type[LogFilterSet]
    table_class: type[LeanTable]
    list_fields: tuple[str, ...]
    visible: Callable[..., models.QuerySet[Any]]
    order: Callable[[dict[str, Any]], LogOrder]
    lists_servers: bool = False
    # Columns holding gateway user ids that the table shows as emails.
    people_columns: tuple[str, ...] = ()


AUDIT_LOG_EXPLORER = Explorer(
    name="audit_log",
    title="Audit log",
    kind=AUDIT_LOGS,
    filter_class=AuditLogFilter,
    table_class=AuditLogTable,
    list_fields=selectors.AUDIT_LOG_LIST_FIELDS,
    visible=selectors.audit_logs_visible_to,
    order=selectors.audit_log_order,
    people_columns=("actor_id", "resource_id"),
)
REQUEST_LOG_EXPLORER = Explorer(
    name="request_log",
    title="Request log",
    kind=REQUEST_LOGS,
    filter_class=RequestLogFilter,
    table_class=RequestLogTable,
    list_fields=selectors.REQUEST_LOG_LIST_FIELDS,
    visible=selectors.request_logs_visible_to,
    order=selectors.request_log_order,
    lists_servers=True,
    people_columns=("user_id",),
)


# --- the pages -----------------------------------------------------------------------------


@staff_view(Capability.VIEW_AUDIT_LOGS)
@require_safe
def audit_log_list(request: StaffRequest) -> HttpResponse:
    return explorer_page(request, AUDIT_LOG_EXPLORER)


@staff_view(Capability.VIEW_AUDIT_LOGS)
@require_safe
def request_log_list(request: StaffRequest) -> HttpResponse:
    return explorer_page(request, REQUEST_LOG_EXPLORER)


@staff_view(Capability.VIEW_AUDIT_LOGS)
@require_safe
def audit_log_detail(request: StaffRequest, pk: int) -> HttpResponse:
    return audit_log_page(request, pk)


@staff_view(Capability.VIEW_AUDIT_LOGS)
@require_safe
def request_log_detail(request: StaffRequest, pk: int) -> HttpResponse:
    return request_log_page(request, pk)


@staff_view(Capability.VIEW_AUDIT_LOGS)
@step_up(AuditAction.AUDIT_LOG_EXPORT, methods=("GET",))
@require_safe
def audit_log_export(request: StaffRequest, file_format: str) -> HttpResponse:
    # A StreamingHttpResponse: staff_view is typed for HttpResponse, Django serves both.
    return export_response(request, AUDIT_LOG_EXPLORER, file_format)  # type: ignore[return-value]


@staff_view(Capability.VIEW_AUDIT_LOGS)
@step_up(AuditAction.REQUEST_LOG_EXPORT, methods=("GET",))
@require_safe
def request_log_export(request: StaffRequest, file_format: str) -> HttpResponse:
    return export_response(request, REQUEST_LOG_EXPLORER, file_format)  # type: ignore[return-value]


# --- list ----------------------------------------------------------------------------------


def bound_filter(
    request: StaffRequest, explorer: Explorer, reads: HeavyReads
) -> tuple[LogFilterSet, dict[str, str]]:
    """The explorer's filter set bound to the query string, with scoped choices; its rows are
    read from ``reads.alias`` (the replica, when one is configured and fresh)."""
    actor = request.actor
    tenants = selectors.tenant_choices(actor)
    if not _chosen_among(request, "tenant", tenants):
        tenants = selectors.tenant_choices(actor, fresh=True)
    kwargs: dict[str, Any] = {"tenant_choices": tenants}
    names = dict(tenants)
    if explorer.lists_servers:
        servers = selectors.server_choices(actor)
        if not _chosen_among(request, "server", servers):
            servers = selectors.server_choices(actor, fresh=True)
        kwargs["server_choices"] = servers
        names.update(servers)
    rows = explorer.visible(actor).using(reads.alias)
    filterset = explorer.filter_class(request.GET, queryset=rows, **kwargs)
    return filterset, names


def _chosen_among(request: StaffRequest, name: str, choices: list[tuple[str, str]]) -> bool:
    """Whether the query string's ``name`` is empty or one of the (possibly cached) choices."""
    chosen = request.GET.get(name, "")
    return chosen in ("", PLATFORM) or any(value == chosen for value, _label in choices)


def explorer_page(request: StaffRequest, explorer: Explorer) -> HttpResponse:
    """The list page: filter form, one keyset page of rows, an estimate, paging and exports."""
    reads = heavy_reads(request)
    filterset, names = bound_filter(request, explorer, reads)
    errors: list[str] = []
    zone = zoneinfo.ZoneInfo(presentation.active_zone_name())
    actor = request.actor
    # The page's people by email, read in the page's own query (scoped as user_emails is).
    emails = {
        f"{column}_email": email_of(actor, Capability.VIEW_AUDIT_LOGS, column)
        for column in explorer.people_columns
    }
    if "api_key_id" in explorer.list_fields:
        # The page's API keys by name and prefix, in the page's own query too.
        emails["api_key_id_label"] = selectors.api_key_label_of(actor, "api_key_id")
    rows: list[dict[str, Any]] = []
    next_url = None
    total = None
    page_number = 1
    newer_url = None
    position = PagePosition()
    if filterset.is_valid():
        zone = filterset.form.cleaned_data["tz"]
        try:
            position = page_position(request)
        except InvalidCursor as error:
            errors.append(f"{error} Start again from the newest entries.")
    if filterset.is_valid() and not errors:
        order = explorer.order(filterset.cleaned)
        id_ranges = selectors.id_ranges_for(filterset.qs, order, *filterset.time_range)

        def read(at: PagePosition) -> selectors.LogPage:
            return selectors.log_page(
                filterset.qs.annotate(**emails),
                fields=explorer.list_fields + tuple(emails),
                order=order,
                cursor=at.cursor,
                newer_than=at.newer_than,
                id_ranges=id_ranges,
            )

        page = read(position)
        if position.newer_than is not None and page.newer_cursor is None:
            # Back at the newest rows: the first page, whole, as the Newest link shows it.
            position = PagePosition()
            page = read(position)
        rows = page.rows
        page_number = position.number
        # The estimate needs no id range: the planner reads the time range from created_at.
        estimate = selectors.estimated_rows(filterset.qs, order)
        total = total_text(estimate, rows, position.number > 1 or page.next_cursor is not None)
        if page.next_cursor is not None:
            next_url = "?" + paging_query(request, "cursor", page.next_cursor, page_number + 1)
        if page.newer_cursor is not None and page_number > 1:
            newer_url = "?" + paging_query(request, "newer", page.newer_cursor, page_number - 1)
    list_url = reverse(f"audit:{explorer.name}_list")
    table = explorer.table_class(
        rows,
        zone=zone,
        detail_prefix=list_url,
        tenant_names=names,
        server_names=names,
        people=people_named(rows, explorer.people_columns, explorer.table_class.people_in(rows)),
        api_keys={
            str(row["api_key_id"]): row["api_key_id_label"]
            for row in rows
            if row.get("api_key_id_label")
        },
        detail_query=""
        if zone.key == presentation.active_zone_name()
        else "?" + urlencode({"tz": zone.key}),
    )
    filter_query = filter_query_string(request)
    other = REQUEST_LOG_EXPLORER if explorer is AUDIT_LOG_EXPLORER else AUDIT_LOG_EXPLORER
    context = {
        **admin.site.each_context(request),
        "title": explorer.title,
        # The table needs the whole width more than the admin's app list does.
        "is_nav_sidebar_enabled": False,
        "explorer": explorer,
        "filter": filterset,
        "form": filterset.form,
        "fields_html": form_rendering.fields_html(filterset.form),
        "errors": errors,
        "table": table,
        "rows_html": table.rows_html(table.lean_rows()),
        "total": total,
        "page_number": page_number,
        "next_url": next_url,
        "newer_url": newer_url,
        "newest_url": f"{list_url}?{filter_query}" if filter_query else list_url,
        "list_url": list_url,
        "other_explorer": other,
        "other_list_url": reverse(f"audit:{other.name}_list"),
        "export_links": [
            (
                label,
                reverse(f"audit:{explorer.name}_{name}")
                + (f"?{filter_query}" if filter_query else ""),
            )
            for name, label in (("csv", "CSV"), ("jsonl", "JSON Lines"))
        ],
        "zone_name": zone.key,
        "read_note": reads.note,
    }
    status = 400 if filterset.errors or errors else 200
    return TemplateResponse(request, "audit/log_list.html", context, status=status)


def people_named(
    rows: list[dict[str, Any]], columns: tuple[str, ...], wanted: set[str]
) -> dict[str, str]:
    """Gateway user id -> email for the ids the table shows as people, from the rows' emails."""
    people = {}
    for row in rows:
        for column in columns:
            user_id, email = row.get(column), row.get(f"{column}_email")
            if email and user_id in wanted:
                people[user_id] = email
    return people


# --- detail --------------------------------------------------------------------------------

# What a resource_type names, for the link to its admin page.
RESOURCE_MODELS: dict[str, type[models.Model]] = {
    "user": GatewayUser,
    "api_key": ApiKey,
    "session": GatewaySession,
    "tenant": Tenant,
    "server": McpServer,
    "mcp_server": McpServer,
}


def admin_url(request: StaffRequest, model: type[models.Model], pk: object) -> str | None:
    """The admin page of one object when the viewer may open it (and it is registered yet)."""
    model_admin = admin.site._registry.get(model)
    if pk in (None, "") or model_admin is None or not model_admin.has_view_permission(request):
        return None
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(str(pk))])
    except NoReverseMatch:
        return None


def explorer_url(explorer: Explorer, **filters: object) -> str:
    return reverse(f"audit:{explorer.name}_list") + "?" + urlencode(filters)


def detail_page(
    request: StaffRequest,
    explorer: Explorer,
    entry: models.Model,
    links: list[tuple[str, str, str | None]],
    shown: dict[str, str] | None = None,
) -> HttpResponse:
    """The row's columns (``shown`` overrides how one is written), links, then ``details``."""
    zone = zone_named(request.GET.get("tz"))
    fields = []
    for field in entry._meta.concrete_fields:
        value = getattr(entry, field.attname)
        if shown and field.attname in shown:
            value = shown[field.attname]
        elif field.name == "created_at":
            value = presentation.when(value, seconds=True, zone=zone)
            if not value.endswith(zone.key):
                value += f" ({zone.key})"  # "JST (Asia/Tokyo)": the abbreviation and the zone
        elif field.name == "details":
            continue
        fields.append((field.verbose_name, "" if value is None else str(value)))
    details = getattr(entry, "details", None)
    context = {
        **admin.site.each_context(request),
        "title": f"{explorer.title} entry #{entry.pk}",
        "explorer": explorer,
        "list_url": reverse(f"audit:{explorer.name}_list"),
        "entry": entry,
        "fields": fields,
        "details": (
            None
            if details is None
            else json.dumps(without_secrets(details), indent=2, sort_keys=True)
        ),
        "links": [(label, text, url) for label, text, url in links if text],
    }
    return TemplateResponse(request, "audit/log_detail.html", context)


def api_key_id(text: str | None) -> uuid.UUID | None:
    """The API key an ``api_key`` actor id names, when it is one (the logs keep it as text)."""
    try:
        return uuid.UUID(text or "")
    except ValueError:
        return None


def object_name(actor: Any, kind: str | None, object_id: str | None) -> str | None:
    """What people call the object a log row names by id: an email, a key's name and prefix, a
    tenant's or a server's name; None when it is none of those (or is gone)."""
    if not object_id:
        return None
    if kind in ("user", ActorType.USER, ActorType.STAFF):
        return user_emails(actor, Capability.VIEW_AUDIT_LOGS, {object_id}).get(object_id)
    as_uuid = api_key_id(object_id)
    if as_uuid is None:
        return None
    if kind in ("api_key", ActorType.API_KEY):
        return selectors.api_key_labels(actor, {as_uuid}).get(str(as_uuid))
    if kind == "tenant":
        return selectors.tenant_names({as_uuid}).get(as_uuid)
    if kind in ("server", "mcp_server"):
        return selectors.server_name(as_uuid)
    return None


def named(kind: str | None, name: str | None, object_id: str | None) -> str:
    """``user ann@example.com (id)``: the name first, the id kept beside it for searching."""
    if name:
        return f"{kind or ''} {name} ({object_id})".strip()
    return f"{kind or ''} {object_id or ''}".strip()


def audit_log_page(request: StaffRequest, pk: object) -> HttpResponse:
    """One audit log row in full, with links to its actor, resource and tenant."""
    actor = request.actor
    entry: AuditLog = selectors.access_audit_log(actor, pk)
    tenant_name = (
        selectors.tenant_names({entry.tenant_id}).get(entry.tenant_id) if entry.tenant_id else None
    )
    people = (ActorType.USER, ActorType.STAFF)
    actor_link = None
    if entry.actor_type in people:
        actor_link = admin_url(request, GatewayUser, entry.actor_id)
    elif entry.actor_type == ActorType.API_KEY and (key_id := api_key_id(entry.actor_id)):
        actor_link = admin_url(request, ApiKey, key_id)
    resource_model = RESOURCE_MODELS.get(entry.resource_type or "")
    actor_name = object_name(actor, entry.actor_type, entry.actor_id)
    resource_name = object_name(actor, entry.resource_type, entry.resource_id)
    links = [
        ("Actor", named(entry.actor_type, actor_name, entry.actor_id), actor_link),
        (
            "Everything by this actor",
            entry.actor_id or "",
            explorer_url(AUDIT_LOG_EXPLORER, actor=entry.actor_id) if entry.actor_id else None,
        ),
        (
            "Resource",
            named(entry.resource_type, resource_name, entry.resource_id),
            admin_url(request, resource_model, entry.resource_id) if resource_model else None,
        ),
        (
            "Tenant",
            tenant_name or (str(entry.tenant_id) if entry.tenant_id else ""),
            admin_url(request, Tenant, entry.tenant_id),
        ),
    ]
    return detail_page(request, AUDIT_LOG_EXPLORER, entry, links)


def request_log_page(request: StaffRequest, pk: object) -> HttpResponse:
    """One request log row in full, with links to its tenant, server, user and API key."""
    actor = request.actor
    entry: RequestLog = selectors.access_request_log(actor, pk)
    tenant_name = (
        selectors.tenant_names({entry.tenant_id}).get(entry.tenant_id) if entry.tenant_id else None
    )
    key = str(entry.api_key_id or "")
    server = ""
    if entry.server_id:
        name = selectors.server_name(entry.server_id)
        server = f"{name} ({entry.server_id})" if name else str(entry.server_id)
    links = [
        (
            "Tenant",
            tenant_name or (str(entry.tenant_id) if entry.tenant_id else ""),
            admin_url(request, Tenant, entry.tenant_id),
        ),
        ("Server", server, admin_url(request, McpServer, entry.server_id)),
        (
            "User",
            named("", object_name(actor, "user", entry.user_id), entry.user_id),
            admin_url(request, GatewayUser, entry.user_id),
        ),
        (
            "API key",
            named("", object_name(actor, "api_key", key), key),
            admin_url(request, ApiKey, entry.api_key_id),
        ),
    ]
    return detail_page(request, REQUEST_LOG_EXPLORER, entry, links, {"server_id": server})


# --- export --------------------------------------------------------------------------------


def export_response(
    request: StaffRequest, explorer: Explorer, file_format: str
) -> HttpResponse | StreamingHttpResponse:
    """Stream exactly the rows the list's filter matches; a bad filter shows the list's errors."""
    reads = heavy_reads(request)
    filterset, _names = bound_filter(request, explorer, reads)
    if any(request.GET.get(name) for name in PAGE_PARAMETERS):
        # An export covers the whole filter, never one page of it.
        query = filter_query_string(request)
        return HttpResponse(status=302, headers={"Location": f"{request.path}?{query}"})
    if not filterset.is_valid():
        return explorer_page(request, explorer)
    fmt = FORMATS[file_format]
    filters = filterset.cleaned
    order = explorer.order(filters)
    stream = export_logs(
        actor=request.actor,
        kind=explorer.kind,
        # No id range here: an export must be complete even for a row written long after its
        # created_at (a long request), which the pages' id range (ids grow with time) could miss.
        queryset=filterset.qs,
        order=order,
        filters=filters,
        file_format=fmt,
    )
    response = StreamingHttpResponse(stream, content_type=fmt.content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(explorer.kind, fmt)}"'
    )
    response["Cache-Control"] = "no-store"
    return response
