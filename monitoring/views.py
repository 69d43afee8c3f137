"""The home dashboard and the monitoring pages (database size, index usage, metrics).

Views parse the query string, call a selector, and render inside the admin's chrome; scoping and
numbers live in ``monitoring.selectors``. The analytics pages are in ``analytics_views``.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from backoffice.access import staff_view
from backoffice.reads import heavy_reads
from backoffice.roles import Actor, Capability
from monitoring import charts, selectors
from monitoring.dashboard import dashboard_for
from monitoring.forms import WINDOW_LABELS
from monitoring.pages import pages_for
from monitoring.rendering import admin_link, freshness, page_context
from monitoring.tables import IndexUsageTable

CHART_BARS = 15
HEALTH_TONES = {"healthy": "good", "degraded": "warn", "unhealthy": "bad", "unknown": "muted"}


# --- Home -----------------------------------------------------------------------------------


def _dashboard(request: HttpRequest) -> HttpResponse:
    """Home: what needs this person's attention, by role, with links onward."""
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        raise PermissionDenied("Your role does not allow the back office.")
    board = dashboard_for(actor)
    links = {
        "banned_users": admin_link("admin:security_gatewayuser_changelist", "ban=active"),
        "users": admin_link("admin:security_gatewayuser_changelist"),
        "impersonations": admin_link(
            "admin:security_impersonationrecord_changelist", "status=active"
        ),
        "api_keys": admin_link("admin:security_apikey_changelist"),
        "denied_actions": admin_link(
            "admin:audit_auditlog_changelist", "outcome=denied&period=24h"
        ),
        "audit_log": admin_link("admin:audit_auditlog_changelist"),
        "unhealthy_servers": admin_link(
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
            for row in board.health_summary.rows
        ],
    )
    context = page_context(
        request,
        "Dashboard",
        board=board,
        links=links,
        pages=pages_for(actor),
        health_chart=health_chart if board.health_summary.rows else None,
        window_label=WINDOW_LABELS[selectors.DEFAULT_WINDOW_HOURS],
    )
    return TemplateResponse(request, "monitoring/dashboard.html", context)


# Every back-office role opens the dashboard; what it shows depends on the role.
dashboard = admin.site.admin_view(require_safe(_dashboard))


# --- Monitoring -----------------------------------------------------------------------------


@staff_view(Capability.VIEW_MONITORING)
@require_safe
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
    context = page_context(
        request,
        "Database size",
        read_note=reads.note,
        tables=tables,
        chart=chart,
        total_bytes=sum(t.total_bytes for t in tables),
    )
    return TemplateResponse(request, "monitoring/database_size.html", context)


@staff_view(Capability.VIEW_MONITORING)
@require_safe
def index_usage(request: HttpRequest) -> HttpResponse:
    """Scans per index; one never scanned that enforces no constraint costs writes for nothing."""
    never_used_only = request.GET.get("never_used") == "1"
    sort = request.GET.get("sort", selectors.DEFAULT_INDEX_SORT)
    if sort.removeprefix("-") not in selectors.INDEX_SORTS:
        sort = selectors.DEFAULT_INDEX_SORT
    all_indexes = selectors.index_usage(sort=sort)
    never_used = [i for i in all_indexes if i.unused_and_droppable]
    context = page_context(
        request,
        "Index usage",
        indexes=never_used if never_used_only else all_indexes,
        never_used_only=never_used_only,
        sort=sort,
        headers=IndexUsageTable.sort_headers(
            sort, {"sort": sort, "never_used": "1"} if never_used_only else None
        ),
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
@require_safe
def performance_metrics(request: HttpRequest) -> HttpResponse:
    """The ``performance_monitoring`` view as cards, the worrying ones highlighted."""
    reads = heavy_reads(request)
    report = selectors.performance_metrics(using=reads.alias)
    metrics = report.rows
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
    context = page_context(
        request,
        "Performance metrics",
        cards=cards,
        captured_at=captured_at,
        freshness=freshness(report.source),
        read_note=reads.note,
        on_replica=reads.on_replica,
    )
    return TemplateResponse(request, "monitoring/performance_metrics.html", context)
