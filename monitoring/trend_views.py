"""The trends page: hourly or daily requests, errors, error rate, median and p95 of the platform,
a tenant, a server or a tool, beside the period before; server health over time; the numbers of
every chart as CSV."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from backoffice.access import staff_view
from backoffice.audit_actions import AuditAction
from backoffice.presentation import csv_response
from backoffice.roles import Capability
from monitoring import charts, health_trends, trends
from monitoring.forms import PERIOD_LABELS, TrendForm
from monitoring.rendering import actor_of, page_context, stamp
from monitoring.rollups import Hour
from monitoring.services import record_analytics_export
from security.second_factor.step_up import step_up

TEMPLATE = "monitoring/trends.html"
HEALTH_LEGEND = [
    ("status-healthy", "all checks healthy"),
    ("status-degraded", "some degraded"),
    ("status-unhealthy", "some unhealthy"),
    ("status-unknown", "unknown"),
    ("status-none", "no check"),
]


def _time_format(window: trends.Window) -> str:
    return "%Y-%m-%d" if window.step == "day" else "%Y-%m-%d %H:%M"


def _charts(trend: trends.Trend) -> list[Any]:
    series: list[tuple[str, Callable[[Hour], float | None], Callable[[float], str], str]] = [
        ("Requests", lambda h: h.requests, lambda v: f"{v:,.0f}", ""),
        ("Errors", lambda h: h.errors, lambda v: f"{v:,.0f}", ""),
        (
            "Error rate (%)",
            lambda h: None if h.error_rate is None else h.error_rate * 100,
            lambda v: f"{v:.1f}%",
            "",
        ),
        ("Median duration", lambda h: h.p50_duration_ms, charts.compact_duration, "ms"),
        ("p95 duration", lambda h: h.p95_duration_ms, charts.compact_duration, "ms"),
    ]
    return [
        charts.trend_chart(
            title,
            charts.trend_points(trend.points, value, display),
            charts.trend_points(trend.previous, value, display),
            unit=unit,
            time_format=_time_format(trend.window),
        )
        for title, value, display, unit in series
    ]


def _health_points(history: Sequence[health_trends.HealthPoint]) -> list[charts.TrendPoint]:
    return [
        charts.TrendPoint(
            h.start, None if h.healthy_share is None else 100 * h.healthy_share, h.summary
        )
        for h in history
    ]


def _health_chart(resolved: trends.ResolvedScope, window: trends.Window) -> Any:
    """One server: the share of healthy checks per point, beside the period before."""
    histories = health_trends.server_histories(resolved, window)
    if histories is None:
        return None
    history, previous = histories
    return charts.trend_chart(
        "Health checks that found the server healthy (%)",
        _health_points(history),
        _health_points(previous),
        time_format=_time_format(window),
    )


def _cell_label(cell: dt.timedelta) -> str:
    if cell >= dt.timedelta(days=1):
        return "day"
    hours = int(cell.total_seconds() // 3600)
    return "hour" if hours == 1 else f"{hours} hours"


def _share(total: health_trends.HealthPoint) -> str:
    return "—" if total.healthy_share is None else f"{total.healthy_share:.1%}"


def _health_grid(overview: health_trends.HealthOverview | None, window: trends.Window) -> Any:
    """Every server of the scope: a row of cells, one per point, least healthy servers first."""
    if overview is None:
        return None
    several_tenants = len({row.server.tenant_id for row in overview.shown}) > 1
    rows = [
        (
            f"{row.server.name} ({row.server.tenant.name})" if several_tenants else row.server.name,
            [
                charts.GridCell(p.start, p.worst, p.summary if p.checks else "no check")
                for p in row.points
            ],
            f"{_share(row.total)} ({_share(row.previous_total)} before)",
        )
        for row in overview.shown
    ]
    return charts.status_grid(
        "Server health over time: the worst check per cell; healthy checks (the period before)",
        rows,
        "%Y-%m-%d" if overview.cell >= dt.timedelta(days=1) else "%Y-%m-%d %H:%M",
    )


def _resolve(request: HttpRequest) -> tuple[TrendForm, trends.ResolvedScope | None, str]:
    """The form and the scope it names, or the message that says why there is none."""
    form = TrendForm(request.GET)
    if not form.is_valid():
        return form, None, ""
    data = form.cleaned_data
    try:
        resolved = trends.resolve_scope(
            actor_of(request), data["tenant"], data["server"], data["tool"] or None
        )
    except trends.ScopeRefused as refused:
        return form, None, str(refused)
    return form, resolved, ""


def _refused_page(request: HttpRequest, form: TrendForm, refused: str) -> HttpResponse:
    """The form again with its message: 400 for a query that named something bad, 200 for a
    first visit that has nothing to show (a tenant admin without a tenant)."""
    actor = actor_of(request)
    context = page_context(request, "Trends", form=form, refused=refused, trend=None)
    context.update(
        tenants=trends.tenants_for(actor) if actor.is_platform_wide(trends.CAPABILITY) else [],
        servers=trends.servers_for(actor, None),
        period_labels=PERIOD_LABELS,
    )
    return TemplateResponse(request, TEMPLATE, context, status=400 if request.GET else 200)


@staff_view(Capability.VIEW_TRENDS)
@require_safe
def trends_page(request: HttpRequest) -> HttpResponse:
    """Series for the chosen scope and period, with the period before beside them."""
    actor = actor_of(request)
    form, resolved, refused = _resolve(request)
    if resolved is None:
        return _refused_page(request, form, refused)
    window = form.cleaned_data["window"]
    trend = trends.trend(resolved, window)
    tools, tools_cut = trends.tools_for(actor, resolved)
    servers = trends.servers_for(actor, resolved.tenant)
    # The picker holds every server of the scope unless cut: the overview needs no other read.
    overview = health_trends.overview(
        actor,
        resolved,
        window,
        [server for server, _ in servers] if len(servers) < trends.MAX_CHOICES else None,
    )
    query = request.GET.urlencode()
    context = page_context(
        request,
        f"Trends: {resolved.label}",
        form=form,
        refused="",
        notes=[note for note in (form.note, resolved.note) if note],
        trend=trend,
        scope=resolved,
        tenants=trends.tenants_for(actor) if actor.is_platform_wide(trends.CAPABILITY) else [],
        servers=servers,
        tools=tools,
        tools_cut=tools_cut,
        picked_tool=f"{resolved.server.pk}:{resolved.scope.tool_name}"
        if resolved.server is not None and resolved.scope.tool_name is not None
        else "",
        period_labels=PERIOD_LABELS,
        charts=_charts(trend),
        totals=[("current", trend.total), ("previous", trend.previous_total)],
        health_chart=_health_chart(resolved, window),
        health_grid=_health_grid(overview, window),
        health_overview=overview,
        health_cell=_cell_label(overview.cell) if overview else "",
        health_legend=HEALTH_LEGEND,
        csv_url=reverse("monitoring:trends_csv") + "?" + query,
        health_csv_url=reverse("monitoring:trends_health_csv") + "?" + query,
    )
    return TemplateResponse(request, TEMPLATE, context)


def _export_parameters(resolved: trends.ResolvedScope, window: trends.Window) -> dict[str, str]:
    scope = resolved.scope
    return {
        "tenant": str(scope.tenant_id or ""),
        "server": str(scope.server_id or ""),
        "tool": scope.tool_name or "",
        "since": window.since.isoformat(),
        "until": window.until.isoformat(),
        "step": window.step,
    }


@staff_view(Capability.VIEW_TRENDS)
@step_up(AuditAction.ANALYTICS_EXPORT, methods=("GET",))
@require_safe
def trends_csv(request: HttpRequest) -> HttpResponse:
    """The page's points, this period and the one before, as CSV (audited)."""
    actor = actor_of(request)
    form, resolved, refused = _resolve(request)
    if resolved is None:
        return _refused_page(request, form, refused)
    window = form.cleaned_data["window"]
    trend = trends.trend(resolved, window)
    record_analytics_export(
        actor=actor,
        report="trends",
        row_count=len(trend.points) + len(trend.previous),
        parameters=_export_parameters(resolved, window),
        tenant_id=resolved.scope.tenant_id,
    )
    header = [
        "period",
        "start_utc",
        "tenant",
        "server",
        "tool",
        "requests",
        "errors",
        "error_rate",
        "avg_duration_ms",
        "p50_duration_ms_estimate",
        "p95_duration_ms_estimate",
    ]
    names = [
        resolved.tenant.name if resolved.tenant else "",
        resolved.server.name if resolved.server else "",
        resolved.scope.tool_name or "",
    ]
    rows = [
        [
            label,
            h.start.isoformat(),
            *names,
            h.requests,
            h.errors,
            h.error_rate,
            h.avg_duration_ms,
            h.p50_duration_ms,
            h.p95_duration_ms,
        ]
        for label, hours in (("current", trend.points), ("previous", trend.previous))
        for h in hours
    ]
    return csv_response(f"trends-{window.step}-{stamp()}.csv", header, rows)


@staff_view(Capability.VIEW_TRENDS)
def trends_health_csv(request: HttpRequest) -> HttpResponse:
    """The health charts' numbers as CSV (audited): the chosen server's checks per point, this
    period and the one before, or every server of the tenant or platform over the period."""
    actor = actor_of(request)
    form, resolved, refused = _resolve(request)
    if resolved is None:
        return _refused_page(request, form, refused)
    window = form.cleaned_data["window"]
    histories = health_trends.server_histories(resolved, window)
    if resolved.server is not None and histories is not None:
        periods = [
            ("current", resolved.server, histories[0]),
            ("previous", resolved.server, histories[1]),
        ]
    else:
        periods = health_trends.overview_points(actor, resolved, window)
    rows = [
        [
            label,
            point.start.isoformat(),
            server.tenant.name,
            server.name,
            *(point.counts[status] for status in health_trends.STATUSES),
            point.checks,
            point.worst,
        ]
        for label, server, points in periods
        for point in points
    ]
    record_analytics_export(
        actor=actor,
        report="trends_health",
        row_count=len(rows),
        parameters=_export_parameters(resolved, window),
        tenant_id=resolved.scope.tenant_id,
    )
    header = ["period", "start_utc", "tenant", "server", *health_trends.STATUSES, "checks", "worst"]
    return csv_response(f"server-health-{window.step}-{stamp()}.csv", header, rows)
