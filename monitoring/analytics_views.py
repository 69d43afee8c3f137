"""The analytics pages: server health, request performance and tenant usage.

Each reads the contract function's last stored result (``monitoring.result_cache``) through a
selector and says how fresh it is; a result computed on the spot (the first time it is asked for)
is read from the replica when ``backoffice.reads.heavy_reads`` says so, and the page notes when
the primary was read instead. Every CSV download is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from backoffice.access import staff_view
from backoffice.audit_actions import AuditAction
from backoffice.presentation import csv_response
from backoffice.reads import HeavyReads, heavy_reads
from backoffice.roles import Actor, Capability
from monitoring import charts, selectors, trends
from monitoring.forms import (
    WINDOW_LABELS,
    RequestPerformanceForm,
    TenantPickForm,
    WindowForm,
)
from monitoring.rendering import (
    actor_of,
    admin_link,
    freshness,
    page_context,
    stamp,
)
from monitoring.services import record_analytics_export
from monitoring.tables import RequestPerformanceTable
from security.second_factor.step_up import step_up
from tenants.models import Tenant

CHART_BARS = 15
HEALTH_TONES = {"healthy": "good", "degraded": "warn", "unhealthy": "bad", "unknown": "muted"}


# --- The one skeleton of every page and CSV download ------------------------------------


def _stored_result_page(
    request: HttpRequest,
    template: str,
    title: str,
    reads: HeavyReads,
    report: selectors.Report[Any],
    **extra: Any,
) -> HttpResponse:
    """A page of a contract function's stored result: where it was read (the replica or the
    primary, and why), how fresh it is, and the page's own numbers and charts."""
    context = page_context(
        request, title, read_note=reads.note, freshness=freshness(report.source), **extra
    )
    return TemplateResponse(request, template, context)


@dataclass(frozen=True)
class Download:
    """One analytics CSV: the file, and what its audit row records."""

    report: str
    filename: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    parameters: dict[str, Any] | None = None
    tenant_id: object = None


def _csv_download(
    request: HttpRequest,
    download: Callable[[dict[str, Any]], Download],
    checked: tuple[forms.Form, Callable[[], HttpResponse]] | None = None,
) -> HttpResponse:
    """A bad query string (``checked``: the form, and the page that says what is wrong) gets
    its message with 400 and no audit row; otherwise the rows are read as the page reads them,
    the export is recorded, and the file is sent."""
    form, refused = checked if checked is not None else (None, None)
    if form is not None and refused is not None and not form.is_valid():
        return refused()
    file = download(form.cleaned_data if form is not None else {})
    record_analytics_export(
        actor=actor_of(request),
        report=file.report,
        row_count=len(file.rows),
        parameters=file.parameters,
        tenant_id=file.tenant_id,
    )
    return csv_response(file.filename, file.header, file.rows)


# --- Server health --------------------------------------------------------------------------


@staff_view(Capability.VIEW_PLATFORM_ANALYTICS)
@require_safe
def server_health(request: HttpRequest) -> HttpResponse:
    """Active servers per health status, from ``get_server_health_summary()``."""
    reads = heavy_reads(request)
    report = selectors.server_health_summary(actor_of(request), using=reads.alias)
    rows = report.rows
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
    return _stored_result_page(
        request,
        "monitoring/server_health.html",
        "Server health",
        reads,
        report,
        rows=rows,
        total_servers=sum(row.server_count for row in rows),
        total_stale=sum(row.stale_check_count for row in rows),
        count_chart=charts.bar_chart("Active servers per health status", bars),
        stale_chart=charts.bar_chart("Health check older than 5 minutes or missing", stale_bars),
        # An auditor may read analytics but not the registry: no link they would be refused at.
        registry_url=admin_link("admin:registry_mcpserver_changelist")
        if actor_of(request).can(Capability.VIEW_REGISTRY)
        else None,
    )


HEALTH_CSV_FIELDS = (
    "health_status",
    "server_count",
    "avg_response_time_ms",
    "avg_success_rate",
    "stale_check_count",
)


@staff_view(Capability.VIEW_PLATFORM_ANALYTICS)
@step_up(AuditAction.ANALYTICS_EXPORT, methods=("GET",))
@require_safe
def server_health_csv(request: HttpRequest) -> HttpResponse:
    """The health summary's rows as CSV (audited)."""

    def download(_: dict[str, Any]) -> Download:
        reads = heavy_reads(request)
        rows = selectors.server_health_summary(actor_of(request), using=reads.alias).rows
        return Download(
            "server_health",
            f"server-health-{stamp()}.csv",
            HEALTH_CSV_FIELDS,
            [[getattr(r, name) for name in HEALTH_CSV_FIELDS] for r in rows],
        )

    return _csv_download(request, download)


# --- Request performance --------------------------------------------------------------------


@staff_view(Capability.VIEW_ANALYTICS)
@require_safe
def request_performance(request: HttpRequest) -> HttpResponse:
    """Per-server requests, errors, median and p95 over a chosen window, sortable."""
    form = RequestPerformanceForm(request.GET)
    if not form.is_valid():
        return _performance_refused(request, form)
    hours, sort = form.cleaned_data["hours"], form.cleaned_data["sort"]
    reads = heavy_reads(request)
    report = selectors.request_performance(actor_of(request), hours, sort, using=reads.alias)
    rows = report.rows
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
    return _stored_result_page(
        request,
        "monitoring/request_performance.html",
        "Request performance",
        reads,
        report,
        form=form,
        rows=rows,
        hours=hours,
        window_label=WINDOW_LABELS[hours],
        windows=[(h, WINDOW_LABELS[h]) for h in selectors.WINDOW_HOURS],
        sort=sort,
        headers=RequestPerformanceTable.sort_headers(sort, {"hours": str(hours)}),
        links_to_registry=actor_of(request).can(Capability.VIEW_REGISTRY),
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


def _performance_refused(request: HttpRequest, form: RequestPerformanceForm) -> HttpResponse:
    context = page_context(request, "Request performance", form=form, rows=None)
    return TemplateResponse(request, "monitoring/request_performance.html", context, status=400)


PERFORMANCE_CSV_COLUMNS: tuple[tuple[str, Callable[[selectors.ServerPerformanceRow], Any]], ...] = (
    ("server_id", lambda r: r.server_id),
    ("server_name", lambda r: r.server_name),
    ("tenant_id", lambda r: r.tenant_id),
    ("tenant_name", lambda r: r.tenant_name),
    ("total_requests", lambda r: r.total_requests),
    ("error_count", lambda r: r.error_count),
    ("error_rate", lambda r: r.error_rate),
    ("avg_duration_ms", lambda r: r.avg_duration_ms),
    ("p50_duration_ms", lambda r: r.p50_duration_ms),
    ("p95_duration_ms", lambda r: r.p95_duration_ms),
    ("slow", lambda r: r.is_slow),
    ("failing", lambda r: r.is_failing),
)


@staff_view(Capability.VIEW_ANALYTICS)
@step_up(AuditAction.ANALYTICS_EXPORT, methods=("GET",))
@require_safe
def request_performance_csv(request: HttpRequest) -> HttpResponse:
    """The request performance rows, exactly as the page shows them, as CSV (audited)."""
    actor = actor_of(request)
    form = RequestPerformanceForm(request.GET)

    def download(data: dict[str, Any]) -> Download:
        hours, sort = data["hours"], data["sort"]
        reads = heavy_reads(request)
        rows = selectors.request_performance(actor, hours, sort, using=reads.alias).rows
        return Download(
            "request_performance",
            f"request-performance-{hours}h-{stamp()}.csv",
            [name for name, _ in PERFORMANCE_CSV_COLUMNS],
            [[value(r) for _, value in PERFORMANCE_CSV_COLUMNS] for r in rows],
            parameters={"hours": hours, "sort": sort},
            tenant_id=None
            if actor.is_platform_wide(Capability.VIEW_ANALYTICS)
            else actor.tenant_id,
        )

    return _csv_download(request, download, (form, lambda: _performance_refused(request, form)))


# --- Tenant usage ---------------------------------------------------------------------------


@staff_view(Capability.VIEW_ANALYTICS)
@require_safe
def tenant_usage_index(request: HttpRequest) -> HttpResponse:
    """Staff pick a tenant; a tenant admin sees their own tenant's usage straight away."""
    actor = actor_of(request)
    if not actor.is_platform_wide(Capability.VIEW_ANALYTICS):
        own = selectors.analytics_tenants(actor).first()
        if own is None:
            context = page_context(request, "Tenant usage", form=None, no_tenant=True)
            return TemplateResponse(request, "monitoring/tenant_usage.html", context)
        return _usage_page(request, actor, own)
    form = TenantPickForm(request.GET, actor=actor) if "tenant" in request.GET else None
    if form is not None and form.is_valid():
        url = reverse(
            "monitoring:tenant_usage", kwargs={"tenant_id": form.cleaned_data["tenant"].pk}
        )
        return redirect(f"{url}?hours={form.cleaned_data['hours']}")
    picker = form if form is not None else TenantPickForm(None, actor=actor)
    context = page_context(request, "Tenant usage", picker=picker, usage=None)
    status = 400 if form is not None else 200
    return TemplateResponse(request, "monitoring/tenant_usage.html", context, status=status)


@staff_view(Capability.VIEW_ANALYTICS)
@require_safe
def tenant_usage(request: HttpRequest, tenant_id: str) -> HttpResponse:
    """One tenant's usage over a chosen window."""
    actor = actor_of(request)
    tenant = selectors.access_tenant_for_analytics(actor, tenant_id)
    return _usage_page(request, actor, tenant)


def _usage_page(request: HttpRequest, actor: Actor, tenant: Tenant) -> HttpResponse:
    form = WindowForm(request.GET)
    picker = None
    if actor.is_platform_wide(Capability.VIEW_ANALYTICS):
        picker = TenantPickForm(None, actor=actor)
        picker.initial = {"tenant": tenant.pk, "hours": request.GET.get("hours", "24")}
    if not form.is_valid():
        context = page_context(
            request, f"Usage of {tenant.name}", tenant=tenant, form=form, picker=picker, usage=None
        )
        return TemplateResponse(request, "monitoring/tenant_usage.html", context, status=400)
    hours = form.cleaned_data["hours"]
    # One call of the function, for the chosen window only (its stored result).
    reads = heavy_reads(request)
    report = selectors.tenant_usage(tenant, hours, using=reads.alias)
    usage = report.rows[0] if report.rows else None
    # Hour by hour from the rollups (not the function): the window, beside the one before.
    trend = trends.tenant_usage_trend(tenant, hours, timezone.now())

    usage_charts = [
        charts.trend_chart(
            "Requests per hour",
            charts.trend_points(trend.points, lambda h: h.requests, lambda v: f"{v:,.0f}"),
            charts.trend_points(trend.previous, lambda h: h.requests, lambda v: f"{v:,.0f}"),
        ),
        charts.trend_chart(
            "p95 duration per hour (estimated)",
            charts.trend_points(trend.points, lambda h: h.p95_duration_ms, charts.compact_duration),
            charts.trend_points(
                trend.previous, lambda h: h.p95_duration_ms, charts.compact_duration
            ),
            unit="ms",
        ),
    ]
    return _stored_result_page(
        request,
        "monitoring/tenant_usage.html",
        f"Usage of {tenant.name}",
        reads,
        report,
        tenant=tenant,
        form=form,
        picker=picker,
        usage=usage,
        usage_charts=usage_charts,
        hours=hours,
        window_label=WINDOW_LABELS[hours],
        windows=[(h, WINDOW_LABELS[h]) for h in selectors.WINDOW_HOURS],
        csv_url=reverse("monitoring:tenant_usage_csv", kwargs={"tenant_id": tenant.pk})
        + f"?hours={hours}",
    )


USAGE_CSV_FIELDS = (
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
)


@staff_view(Capability.VIEW_ANALYTICS)
@step_up(AuditAction.ANALYTICS_EXPORT, methods=("GET",))
@require_safe
def tenant_usage_csv(request: HttpRequest, tenant_id: str) -> HttpResponse:
    """The usage page's numbers (the chosen window's row) as CSV (audited)."""
    tenant = selectors.access_tenant_for_analytics(actor_of(request), tenant_id)
    form = WindowForm(request.GET)

    def download(data: dict[str, Any]) -> Download:
        hours = data["hours"]
        rows = selectors.tenant_usage(tenant, hours, using=heavy_reads(request).alias).rows
        return Download(
            "tenant_usage",
            f"tenant-usage-{tenant.slug}-{hours}h-{stamp()}.csv",
            USAGE_CSV_FIELDS,
            [[getattr(u, name) for name in USAGE_CSV_FIELDS] for u in rows],
            parameters={"hours": hours},
            tenant_id=tenant.pk,
        )

    def refused() -> HttpResponse:
        context = page_context(
            request, f"Usage of {tenant.name}", tenant=tenant, form=form, usage=None
        )
        return TemplateResponse(request, "monitoring/tenant_usage.html", context, status=400)

    return _csv_download(request, download, (form, refused))
