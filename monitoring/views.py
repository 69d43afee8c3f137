"""The home dashboard, the analytics pages and the monitoring pages.

Views parse the query string with a form, call a selector, and render inside the admin's chrome;
scoping and numbers live in ``monitoring.selectors``. Every CSV download is audited.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from backoffice.access import staff_view
from backoffice.reads import heavy_reads
from backoffice.roles import Actor, Capability
from monitoring import charts, selectors
from monitoring.dashboard import dashboard_for
from monitoring.forms import (
    SORT_LABELS,
    WINDOW_LABELS,
    RequestPerformanceForm,
    TenantPickForm,
    WindowForm,
)
from monitoring.pages import pages_for
from monitoring.services import record_analytics_export
from tenants.models import Tenant

CHART_BARS = 15
HEALTH_TONES = {"healthy": "good", "degraded": "warn", "unhealthy": "bad", "unknown": "muted"}


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    # read_note: why a page's heavy reads went to the primary instead of the replica.
    return {**admin.site.each_context(request), "title": title, "read_note": None, **extra}


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _admin_link(url_name: str, query: str = "") -> str | None:
    """A link to another app's admin page, or None while that page does not exist yet."""
    try:
        return reverse(url_name) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None


def _csv_cell(value: Any) -> Any:
    # A cell starting with = + - @ runs as a formula in a spreadsheet: make it plain text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return response


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M")


# --- Home -----------------------------------------------------------------------------------


def _dashboard(request: HttpRequest) -> HttpResponse:
    """Home: what needs this person's attention, by role, with links onward."""
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        raise PermissionDenied("Your role does not allow the back office.")
    board = dashboard_for(actor)
    links = {
        "banned_users": _admin_link("admin:security_gatewayuser_changelist", "ban=active"),
        "users": _admin_link("admin:security_gatewayuser_changelist"),
        "impersonations": _admin_link(
            "admin:security_impersonationrecord_changelist", "status=active"
        ),
        "api_keys": _admin_link("admin:security_apikey_changelist"),
        "denied_actions": _admin_link(
            "admin:audit_auditlog_changelist", "outcome=denied&period=24h"
        ),
        "audit_log": _admin_link("admin:audit_auditlog_changelist"),
        "unhealthy_servers": _admin_link(
            "admin:registry_mcpserver_changelist",
            "health_status__exact=unhealthy&is_active__exact=1",
        ),
    }
    health_chart = charts.bar_chart(
        "Active servers per health status",
        [
            charts.Bar(
                row.health_status,
                row.server_count,
                f"{row.server_count:,}",
                HEALTH_TONES.get(row.health_status, "normal"),
            )
            for row in board.health_summary
        ],
    )
    context = _context(
        request,
        "Dashboard",
        board=board,
        links=links,
        pages=pages_for(actor),
        health_chart=health_chart if board.health_summary else None,
        window_label=WINDOW_LABELS[selectors.DEFAULT_WINDOW_HOURS],
    )
    return TemplateResponse(request, "monitoring/dashboard.html", context)


# Every back-office role opens the dashboard; what it shows depends on the role.
dashboard = admin.site.admin_view(_dashboard)


# --- Server health --------------------------------------------------------------------------


@staff_view(Capability.VIEW_PLATFORM_ANALYTICS)
def server_health(request: HttpRequest) -> HttpResponse:
    """Active servers per health status, from ``get_server_health_summary()``."""
    reads = heavy_reads(request)
    rows = selectors.server_health_summary(_actor(request), using=reads.alias)
    bars = [
        charts.Bar(
            row.health_status,
            row.server_count,
            f"{row.server_count:,}",
            HEALTH_TONES.get(row.health_status, "normal"),
        )
        for row in rows
    ]
    stale_bars = [
        charts.Bar(
            row.health_status,
            row.stale_check_count,
            f"{row.stale_check_count:,} of {row.server_count:,}",
            "warn" if row.stale_check_count else "good",
        )
        for row in rows
    ]
    context = _context(
        request,
        "Server health",
        read_note=reads.note,
        rows=rows,
        total_servers=sum(row.server_count for row in rows),
        total_stale=sum(row.stale_check_count for row in rows),
        count_chart=charts.bar_chart("Active servers per health status", bars),
        stale_chart=charts.bar_chart("Health check older than 5 minutes or missing", stale_bars),
        # An auditor may read analytics but not the registry: no link they would be refused at.
        registry_url=_admin_link("admin:registry_mcpserver_changelist")
        if _actor(request).can(Capability.VIEW_REGISTRY)
        else None,
    )
    return TemplateResponse(request, "monitoring/server_health.html", context)


@staff_view(Capability.VIEW_PLATFORM_ANALYTICS)
def server_health_csv(request: HttpRequest) -> HttpResponse:
    """The health summary's rows as CSV (audited)."""
    rows = selectors.server_health_summary(_actor(request), using=heavy_reads(request).alias)
    record_analytics_export(actor=_actor(request), report="server_health", row_count=len(rows))
    return _csv_response(
        f"server-health-{_stamp()}.csv",
        [
            "health_status",
            "server_count",
            "avg_response_time_ms",
            "avg_success_rate",
            "stale_check_count",
        ],
        (
            [
                r.health_status,
                r.server_count,
                r.avg_response_time_ms,
                r.avg_success_rate,
                r.stale_check_count,
            ]
            for r in rows
        ),
    )


# --- Request performance --------------------------------------------------------------------

PERFORMANCE_COLUMNS = (
    "server_name",
    "tenant_name",
    "total_requests",
    "error_count",
    "error_rate",
    "avg_duration_ms",
    "p50_duration_ms",
    "p95_duration_ms",
)


def _sort_links(hours: int, sort: str) -> list[dict[str, Any]]:
    current = sort.removeprefix("-")
    descending = sort.startswith("-")
    links = []
    for key in PERFORMANCE_COLUMNS:
        # Numbers sort largest first on the first click, names A to Z.
        first = key if key in ("server_name", "tenant_name") else f"-{key}"
        target = (f"{key}" if descending else f"-{key}") if key == current else first
        links.append(
            {
                "key": key,
                "label": SORT_LABELS[key],
                "url": f"?hours={hours}&sort={target}",
                "sorted": "descending"
                if key == current and descending
                else ("ascending" if key == current else ""),
            }
        )
    return links


@staff_view(Capability.VIEW_ANALYTICS)
def request_performance(request: HttpRequest) -> HttpResponse:
    """Per-server requests, errors, median and p95 over a chosen window, sortable."""
    form = RequestPerformanceForm(request.GET)
    if not form.is_valid():
        context = _context(request, "Request performance", form=form, rows=None)
        return TemplateResponse(request, "monitoring/request_performance.html", context, status=400)
    hours, sort = form.cleaned_data["hours"], form.cleaned_data["sort"]
    reads = heavy_reads(request)
    rows = selectors.request_performance(_actor(request), hours, sort, using=reads.alias)
    several_tenants = len({r.tenant_id for r in rows}) > 1

    def label(r: selectors.ServerPerformanceRow) -> str:
        return f"{r.server_name} ({r.tenant_name})" if several_tenants else r.server_name

    by_p95 = sorted(rows, key=lambda r: r.p95_duration_ms or 0, reverse=True)[:CHART_BARS]
    by_errors = sorted(rows, key=lambda r: r.error_rate, reverse=True)[:CHART_BARS]
    p95_chart = charts.bar_chart(
        "p95 duration per server (ms)",
        [
            charts.Bar(
                label(r),
                r.p95_duration_ms or 0,
                f"{r.p95_duration_ms or 0:,.0f} ms",
                "bad" if r.is_slow else "normal",
            )
            for r in by_p95
        ],
    )
    error_chart = charts.bar_chart(
        "Error rate per server",
        [
            charts.Bar(
                label(r),
                r.error_rate,
                f"{r.error_rate * 100:.1f}%",
                "bad" if r.is_failing else "normal",
            )
            for r in by_errors
        ],
    )
    context = _context(
        request,
        "Request performance",
        read_note=reads.note,
        form=form,
        rows=rows,
        hours=hours,
        window_label=WINDOW_LABELS[hours],
        windows=[(h, WINDOW_LABELS[h]) for h in selectors.WINDOW_HOURS],
        sort=sort,
        columns=_sort_links(hours, sort),
        links_to_registry=_actor(request).can(Capability.VIEW_REGISTRY),
        p95_chart=p95_chart,
        error_chart=error_chart,
        slow_ms=selectors.SLOW_P95_MS,
        failing_rate=selectors.FAILING_ERROR_RATE,
        totals={
            "servers": len(rows),
            "requests": sum(r.total_requests for r in rows),
            "errors": sum(r.error_count for r in rows),
            "slow": sum(1 for r in rows if r.is_slow),
            "failing": sum(1 for r in rows if r.is_failing),
        },
        csv_url=reverse("monitoring:request_performance_csv") + f"?hours={hours}&sort={sort}",
    )
    return TemplateResponse(request, "monitoring/request_performance.html", context)


@staff_view(Capability.VIEW_ANALYTICS)
def request_performance_csv(request: HttpRequest) -> HttpResponse:
    """The request performance rows, exactly as the page shows them, as CSV (audited)."""
    form = RequestPerformanceForm(request.GET)
    if not form.is_valid():
        context = _context(request, "Request performance", form=form, rows=None)
        return TemplateResponse(request, "monitoring/request_performance.html", context, status=400)
    hours, sort = form.cleaned_data["hours"], form.cleaned_data["sort"]
    actor = _actor(request)
    rows = selectors.request_performance(actor, hours, sort, using=heavy_reads(request).alias)
    record_analytics_export(
        actor=actor,
        report="request_performance",
        row_count=len(rows),
        parameters={"hours": hours, "sort": sort},
        tenant_id=None if actor.is_platform_wide(Capability.VIEW_ANALYTICS) else actor.tenant_id,
    )
    return _csv_response(
        f"request-performance-{hours}h-{_stamp()}.csv",
        [
            "server_id",
            "server_name",
            "tenant_id",
            "tenant_name",
            "total_requests",
            "error_count",
            "error_rate",
            "avg_duration_ms",
            "p50_duration_ms",
            "p95_duration_ms",
            "slow",
            "failing",
        ],
        (
            [
                r.server_id,
                r.server_name,
                r.tenant_id,
                r.tenant_name,
                r.total_requests,
                r.error_count,
                r.error_rate,
                r.avg_duration_ms,
                r.p50_duration_ms,
                r.p95_duration_ms,
                r.is_slow,
                r.is_failing,
            ]
            for r in rows
        ),
    )


# --- Tenant usage ---------------------------------------------------------------------------


@staff_view(Capability.VIEW_ANALYTICS)
def tenant_usage_index(request: HttpRequest) -> HttpResponse:
    """Staff pick a tenant; a tenant admin sees their own tenant's usage straight away."""
    actor = _actor(request)
    if not actor.is_platform_wide(Capability.VIEW_ANALYTICS):
        own = selectors.analytics_tenants(actor).first()
        if own is None:
            context = _context(request, "Tenant usage", form=None, no_tenant=True)
            return TemplateResponse(request, "monitoring/tenant_usage.html", context)
        return _usage_page(request, actor, own)
    form = TenantPickForm(request.GET, actor=actor) if "tenant" in request.GET else None
    if form is not None and form.is_valid():
        url = reverse(
            "monitoring:tenant_usage", kwargs={"tenant_id": form.cleaned_data["tenant"].pk}
        )
        return redirect(f"{url}?hours={form.cleaned_data['hours']}")
    picker = form if form is not None else TenantPickForm(None, actor=actor)
    context = _context(request, "Tenant usage", picker=picker, usage=None)
    status = 400 if form is not None else 200
    return TemplateResponse(request, "monitoring/tenant_usage.html", context, status=status)


@staff_view(Capability.VIEW_ANALYTICS)
def tenant_usage(request: HttpRequest, tenant_id: str) -> HttpResponse:
    """One tenant's usage over a chosen window, next to the shorter windows for comparison."""
    actor = _actor(request)
    tenant = selectors.access_tenant_for_analytics(actor, tenant_id)
    return _usage_page(request, actor, tenant)


def _usage_page(request: HttpRequest, actor: Actor, tenant: Tenant) -> HttpResponse:
    form = WindowForm(request.GET)
    picker = None
    if actor.is_platform_wide(Capability.VIEW_ANALYTICS):
        picker = TenantPickForm(None, actor=actor)
        picker.initial = {"tenant": tenant.pk, "hours": request.GET.get("hours", "24")}
    if not form.is_valid():
        context = _context(
            request, f"Usage of {tenant.name}", tenant=tenant, form=form, picker=picker, usage=None
        )
        return TemplateResponse(request, "monitoring/tenant_usage.html", context, status=400)
    hours = form.cleaned_data["hours"]
    reads = heavy_reads(request)
    by_window = selectors.tenant_usage_by_window(tenant, hours, using=reads.alias)
    usage = by_window[-1]
    requests_chart = charts.bar_chart(
        "Requests per window",
        [
            charts.Bar(WINDOW_LABELS[u.hours], u.total_requests, f"{u.total_requests:,}")
            for u in by_window
        ],
    )
    p95_chart = charts.bar_chart(
        "p95 duration per window (ms)",
        [
            charts.Bar(
                WINDOW_LABELS[u.hours],
                u.p95_duration_ms or 0,
                "—" if u.p95_duration_ms is None else f"{u.p95_duration_ms:,.0f} ms",
                "bad" if (u.p95_duration_ms or 0) >= selectors.SLOW_P95_MS else "normal",
            )
            for u in by_window
        ],
    )
    context = _context(
        request,
        f"Usage of {tenant.name}",
        read_note=reads.note,
        tenant=tenant,
        form=form,
        picker=picker,
        usage=usage,
        by_window=by_window,
        hours=hours,
        window_label=WINDOW_LABELS[hours],
        windows=[(h, WINDOW_LABELS[h]) for h in selectors.WINDOW_HOURS],
        requests_chart=requests_chart,
        p95_chart=p95_chart,
        csv_url=reverse("monitoring:tenant_usage_csv", kwargs={"tenant_id": tenant.pk})
        + f"?hours={hours}",
    )
    return TemplateResponse(request, "monitoring/tenant_usage.html", context)


@staff_view(Capability.VIEW_ANALYTICS)
def tenant_usage_csv(request: HttpRequest, tenant_id: str) -> HttpResponse:
    """The usage page's numbers (one row per window shown) as CSV (audited)."""
    actor = _actor(request)
    tenant = selectors.access_tenant_for_analytics(actor, tenant_id)
    form = WindowForm(request.GET)
    if not form.is_valid():
        context = _context(request, f"Usage of {tenant.name}", tenant=tenant, form=form, usage=None)
        return TemplateResponse(request, "monitoring/tenant_usage.html", context, status=400)
    hours = form.cleaned_data["hours"]
    by_window = selectors.tenant_usage_by_window(tenant, hours, using=heavy_reads(request).alias)
    record_analytics_export(
        actor=actor,
        report="tenant_usage",
        row_count=len(by_window),
        parameters={"hours": hours},
        tenant_id=tenant.pk,
    )
    fields = [
        "hours",
        "tenant_id",
        "total_requests",
        "error_count",
        "distinct_users",
        "servers_used",
        "tools_used",
        "avg_duration_ms",
        "p95_duration_ms",
        "active_api_keys",
        "active_servers",
    ]
    return _csv_response(
        f"tenant-usage-{tenant.slug}-{hours}h-{_stamp()}.csv",
        fields,
        ([getattr(u, name) for name in fields] for u in by_window),
    )


# --- Monitoring -----------------------------------------------------------------------------


@staff_view(Capability.VIEW_MONITORING)
def database_size(request: HttpRequest) -> HttpResponse:
    """Size of every table of the gateway's schema, largest first."""
    reads = heavy_reads(request)
    tables = selectors.database_sizes(using=reads.alias)
    chart = charts.stacked_bar_chart(
        "Largest tables",
        [
            charts.StackedBar(
                t.table_name,
                [("table", t.table_bytes), ("indexes", t.index_bytes), ("TOAST", t.toast_bytes)],
                t.total_size,
            )
            for t in tables[:CHART_BARS]
        ],
        ["table", "indexes", "TOAST"],
    )
    context = _context(
        request,
        "Database size",
        read_note=reads.note,
        tables=tables,
        chart=chart,
        total_bytes=sum(t.total_bytes for t in tables),
    )
    return TemplateResponse(request, "monitoring/database_size.html", context)


INDEX_COLUMNS = (("name", "Index"), ("table", "Table"), ("scans", "Scans"), ("size", "Size"))


def _index_sort_links(sort: str, never_used_only: bool) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (again: reversed) and its current state."""
    current, descending = sort.removeprefix("-"), sort.startswith("-")
    links = {}
    for key, label in INDEX_COLUMNS:
        # Scans and size sort largest first on the first click, names A to Z.
        first = f"-{key}" if key in ("scans", "size") else key
        target = (key if descending else f"-{key}") if key == current else first
        query = f"sort={target}" + ("&never_used=1" if never_used_only else "")
        state = ("descending" if descending else "ascending") if key == current else ""
        links[key] = {"label": label, "url": f"?{query}", "sorted": state}
    return links


@staff_view(Capability.VIEW_MONITORING)
def index_usage(request: HttpRequest) -> HttpResponse:
    """Scans per index; one never scanned that enforces no constraint costs writes for nothing."""
    never_used_only = request.GET.get("never_used") == "1"
    sort = request.GET.get("sort", selectors.DEFAULT_INDEX_SORT)
    if sort.removeprefix("-") not in selectors.INDEX_SORTS:
        sort = selectors.DEFAULT_INDEX_SORT
    all_indexes = selectors.index_usage(sort=sort)
    never_used = [i for i in all_indexes if i.unused_and_droppable]
    context = _context(
        request,
        "Index usage",
        indexes=never_used if never_used_only else all_indexes,
        never_used_only=never_used_only,
        sort=sort,
        columns=_index_sort_links(sort, never_used_only),
        index_count=len(all_indexes),
        constraint_count=sum(1 for i in all_indexes if i.enforces),
        never_used_count=len(never_used),
        never_used_bytes=sum(i.index_bytes for i in never_used),
    )
    return TemplateResponse(request, "monitoring/index_usage.html", context)


METRIC_LABELS = {
    "connections": "Database connections",
    "cache_hit_ratio": "Cache hit ratio",
    "requests_last_hour": "Requests in the last hour",
    "error_rate_last_hour": "Error rate, last hour",
    "p95_duration_last_hour": "p95 duration, last hour",
    "unhealthy_servers": "Unhealthy servers",
    "active_sessions": "Active sessions",
    "active_impersonations": "Active impersonations",
    "api_keys_expiring_7d": "API keys expiring within 7 days",
}


def _metric_display(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "ms":
        return f"{value:,.1f} ms"
    return f"{value:,.0f}"


def _metric_tone(name: str, value: float | None) -> str:
    if value is None:
        return "muted"
    alarming = {
        "cache_hit_ratio": value < 0.9,
        "error_rate_last_hour": value >= selectors.FAILING_ERROR_RATE,
        "p95_duration_last_hour": value >= selectors.SLOW_P95_MS,
        "unhealthy_servers": value > 0,
        "api_keys_expiring_7d": value > 0,
        "active_impersonations": value > 0,
    }
    return "warn" if alarming.get(name, False) else "normal"


@staff_view(Capability.VIEW_MONITORING)
def performance_metrics(request: HttpRequest) -> HttpResponse:
    """The ``performance_monitoring`` view as cards, the worrying ones highlighted."""
    reads = heavy_reads(request)
    metrics = selectors.performance_metrics(using=reads.alias)
    cards = [
        {
            "name": m.metric_name,
            "label": METRIC_LABELS.get(m.metric_name, m.metric_name.replace("_", " ")),
            "value": m.metric_value,
            "display": _metric_display(m.metric_value, m.unit),
            "unit": m.unit,
            "tone": _metric_tone(m.metric_name, m.metric_value),
        }
        for m in metrics
    ]
    captured_at = metrics[0].captured_at if metrics else None
    context = _context(
        request,
        "Performance metrics",
        cards=cards,
        captured_at=captured_at,
        read_note=reads.note,
        on_replica=reads.on_replica,
    )
    return TemplateResponse(request, "monitoring/performance_metrics.html", context)
