"""The trends page: hourly or daily requests, errors, error rate, median and p95 of a tenant, a
server or a tool, beside the period before; a server's health over time; the numbers as CSV."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from backoffice.access import staff_view
from backoffice.presentation import csv_response
from backoffice.roles import Capability
from monitoring import charts, trends
from monitoring.forms import PERIOD_LABELS, TrendForm
from monitoring.rendering import actor_of, page_context, stamp
from monitoring.rollups import Hour
from monitoring.services import record_analytics_export

TEMPLATE = "monitoring/trends.html"


def _points(
    hours: Sequence[Hour], value: Callable[[Hour], float | None], display: Callable[[float], str]
) -> list[charts.TrendPoint]:
    return [
        charts.TrendPoint(h.start, v, "—" if v is None else display(v))
        for h in hours
        for v in [value(h)]
    ]


def _charts(trend: trends.Trend) -> list[Any]:
    time_format = "%Y-%m-%d" if trend.window.step == "day" else "%Y-%m-%d %H:%M"
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
            _points(trend.points, value, display),
            _points(trend.previous, value, display),
            unit=unit,
            time_format=time_format,
        )
        for title, value, display, unit in series
    ]


def _health_chart(history: list[trends.HealthHour] | None) -> Any:
    if history is None:
        return None
    return charts.trend_chart(
        "Health checks that found the server healthy (%)",
        [
            charts.TrendPoint(
                h.start,
                None if not h.checks else 100 * h.healthy / h.checks,
                f"{h.healthy} of {h.checks} healthy, {h.degraded} degraded, "
                f"{h.unhealthy} unhealthy",
            )
            for h in history
        ],
        [],
    )


def _resolve(request: HttpRequest) -> tuple[TrendForm, trends.ResolvedScope | None, str]:
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


@staff_view(Capability.VIEW_TRENDS)
def trends_page(request: HttpRequest) -> HttpResponse:
    """Series for the chosen scope and period, with the period before beside them."""
    actor = actor_of(request)
    form, resolved, refused = _resolve(request)
    context = page_context(request, "Trends", form=form, refused=refused, trend=None)
    context["tenants"] = (
        trends.tenants_for(actor) if actor.is_platform_wide(Capability.VIEW_TRENDS) else []
    )
    context["period_labels"] = PERIOD_LABELS
    if resolved is None:
        context["servers"] = trends.servers_for(actor, None)
        return TemplateResponse(request, TEMPLATE, context, status=400 if request.GET else 200)
    window = form.cleaned_data["window"]
    trend = trends.trend(resolved, window)
    context.update(
        title=f"Trends: {resolved.label}",
        trend=trend,
        scope=resolved,
        servers=trends.servers_for(actor, resolved.tenant),
        charts=_charts(trend),
        totals=[("current", trend.total), ("previous", trend.previous_total)],
        health_chart=_health_chart(trends.health_history(resolved, window)),
        csv_url=reverse("monitoring:trends_csv") + "?" + request.GET.urlencode(),
    )
    return TemplateResponse(request, TEMPLATE, context)


@staff_view(Capability.VIEW_TRENDS)
def trends_csv(request: HttpRequest) -> HttpResponse:
    """The page's points, this period and the one before, as CSV (audited)."""
    actor = actor_of(request)
    form, resolved, refused = _resolve(request)
    if resolved is None:
        context = page_context(request, "Trends", form=form, refused=refused, trend=None)
        return TemplateResponse(request, TEMPLATE, context, status=400)
    window = form.cleaned_data["window"]
    trend = trends.trend(resolved, window)
    scope = resolved.scope
    record_analytics_export(
        actor=actor,
        report="trends",
        row_count=len(trend.points) + len(trend.previous),
        parameters={
            "tenant": str(scope.tenant_id or ""),
            "server": str(scope.server_id or ""),
            "tool": scope.tool_name or "",
            "since": window.since.isoformat(),
            "until": window.until.isoformat(),
            "step": window.step,
        },
        tenant_id=scope.tenant_id,
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
        scope.tool_name or "",
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
