"""Reads behind the analytics and monitoring pages, already scoped to the person asking.

The numbers come from the contract's SQL functions and views, never recomputed in Python: the
gateway's own dashboards use the same functions, so both products agree. Pages read their last
results from ``monitoring.result_cache`` (refreshed in the background by ``refresh_analytics``),
each with the time it was computed and what that cost. A result computed on the spot (the first
time it is asked for) and the direct reads here run on the database named by ``using`` (the
replica, when ``backoffice.reads.heavy_reads`` says so); ``index_usage`` always reads the primary,
whose scan counters are the gateway's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections

from backoffice.roles import Actor, Capability
from backoffice.tenancy import access
from monitoring import result_cache
from monitoring.models import DatabaseSizeSummary, IndexUsageSummary
from monitoring.result_cache import Result
from tenants.models import Tenant

# The windows the request-performance and usage pages offer, in hours (7 days at most: the
# functions' percentile_cont sorts the whole window, about 1 s for 7 days of 10M rows).
WINDOW_HOURS = (1, 6, 24, 168)
DEFAULT_WINDOW_HOURS = 24
# A server is highlighted as slow or failing past these thresholds.
SLOW_P95_MS = 1000.0
FAILING_ERROR_RATE = 0.05
# The schema the gateway's tables live in, the only one the monitoring views read.
GATEWAY_SCHEMA = "public"


def _fetch(sql: str, params: list[Any], using: str = DEFAULT_DB_ALIAS) -> list[dict[str, Any]]:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


RowT = TypeVar("RowT")


# --- Server health summary ------------------------------------------------------------------


@dataclass(frozen=True)
class HealthStatusRow:
    """One row of ``get_server_health_summary()``: the active servers in one health status."""

    health_status: str
    server_count: int
    avg_response_time_ms: float | None
    avg_success_rate: float | None
    stale_check_count: int


def sees_platform_health(actor: Actor | None) -> bool:
    """The health summary spans every tenant, so only platform-wide analytics may read it."""
    return actor is not None and actor.can(Capability.VIEW_PLATFORM_ANALYTICS)


@dataclass(frozen=True)
class Report(Generic[RowT]):
    """A page's rows and the stored result they come from (when and at what cost computed)."""

    rows: list[RowT]
    source: Result | None


def server_health_summary(
    actor: Actor | None, *, using: str = DEFAULT_DB_ALIAS
) -> Report[HealthStatusRow]:
    """The platform's active servers per health status; empty for anyone scoped to one tenant."""
    if not sees_platform_health(actor):
        return Report([], None)
    result = result_cache.read("server_health", [], using=using)
    return Report([HealthStatusRow(**row) for row in result.typed_rows()], result)


# --- Request performance --------------------------------------------------------------------


@dataclass(frozen=True)
class ServerPerformanceRow:
    """One row of ``get_request_performance_summary(p_hours)``, with its tenant's name."""

    server_id: uuid.UUID
    server_name: str
    tenant_id: uuid.UUID
    tenant_name: str
    total_requests: int
    error_count: int
    error_rate: float
    avg_duration_ms: float | None
    p50_duration_ms: float | None
    p95_duration_ms: float | None

    @property
    def is_slow(self) -> bool:
        return (self.p95_duration_ms or 0) >= SLOW_P95_MS

    @property
    def is_failing(self) -> bool:
        return self.error_rate >= FAILING_ERROR_RATE


# Sort keys the page accepts; anything else is refused by the form before it gets here.
PERFORMANCE_SORT_KEYS = (
    "server_name",
    "tenant_name",
    "total_requests",
    "error_count",
    "error_rate",
    "avg_duration_ms",
    "p50_duration_ms",
    "p95_duration_ms",
)
DEFAULT_PERFORMANCE_SORT = "-total_requests"


def request_performance(
    actor: Actor | None,
    hours: int,
    sort: str = DEFAULT_PERFORMANCE_SORT,
    *,
    using: str = DEFAULT_DB_ALIAS,
) -> Report[ServerPerformanceRow]:
    """Per-server request performance over the last ``hours``, for the tenants ``actor`` may see.

    Rows are one per server with traffic, so sorting them here is cheap. The stored result spans
    every tenant (one function call serves everyone); a tenant admin's rows are picked from it
    here, by tenant id, before anything else sees them.
    """
    if hours not in WINDOW_HOURS:
        raise ValueError(f"Unsupported window: {hours} hours.")
    key = sort.removeprefix("-")
    if key not in PERFORMANCE_SORT_KEYS:
        raise ValueError(f"Unsupported sort key: {sort!r}.")
    if actor is None or not actor.can(Capability.VIEW_ANALYTICS):
        return Report([], None)
    if not actor.is_platform_wide(Capability.VIEW_ANALYTICS) and actor.tenant_id is None:
        return Report([], None)  # a tenant admin without a tenant sees nothing
    source = result_cache.read("request_performance", [hours], using=using)
    rows = source.typed_rows()
    if not actor.is_platform_wide(Capability.VIEW_ANALYTICS):
        rows = [row for row in rows if row["tenant_id"] == actor.tenant_id]
    names = tenant_names(actor, {row["tenant_id"] for row in rows})
    result = [
        ServerPerformanceRow(**row, tenant_name=names.get(row["tenant_id"], "")) for row in rows
    ]

    def sort_value(row: ServerPerformanceRow) -> tuple[bool, Any]:
        value = getattr(row, key)
        if isinstance(value, str):
            value = value.lower()
        return (value is None, value if value is not None else 0)

    result.sort(key=sort_value, reverse=sort.startswith("-"))
    return Report(result, source)


def tenant_names(actor: Actor | None, tenant_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Names of the given tenants that ``actor`` may see in analytics."""
    if not tenant_ids:
        return {}
    visible = Tenant.objects.visible_to(actor, Capability.VIEW_ANALYTICS)
    return dict(visible.filter(id__in=tenant_ids).values_list("id", "name"))


# --- Tenant usage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantUsage:
    """The row of ``get_tenant_usage_summary(p_tenant_id, p_hours)`` for one window."""

    hours: int
    tenant_id: uuid.UUID
    total_requests: int
    error_count: int
    distinct_users: int
    servers_used: int
    tools_used: int
    avg_duration_ms: float | None
    p95_duration_ms: float | None
    active_api_keys: int
    active_servers: int

    @property
    def error_rate(self) -> float | None:
        return self.error_count / self.total_requests if self.total_requests else None


def analytics_tenants(actor: Actor | None) -> Any:
    """The tenants ``actor`` may pick on the usage page (only their own for a tenant admin)."""
    return Tenant.objects.visible_to(actor, Capability.VIEW_ANALYTICS).order_by("name")


def access_tenant_for_analytics(actor: Actor | None, tenant_id: object) -> Tenant:
    """One tenant whose usage ``actor`` may read; 404 for another tenant's id."""
    return access(Tenant.objects, actor, Capability.VIEW_ANALYTICS, tenant_id)


def tenant_usage(
    tenant: Tenant, hours: int, *, using: str = DEFAULT_DB_ALIAS
) -> Report[TenantUsage]:
    """The tenant's usage over the last ``hours`` (one function call, stored); call only with a
    tenant from ``access_tenant_for_analytics``."""
    if hours not in WINDOW_HOURS:
        raise ValueError(f"Unsupported window: {hours} hours.")
    source = result_cache.read("tenant_usage", [tenant.pk, hours], using=using)
    return Report([TenantUsage(hours=hours, **row) for row in source.typed_rows()], source)


def refreshable(name: str, arguments: list[Any]) -> bool:
    """Whether a stored query's arguments are still ones a page may ask for (the refresh's check:
    a deleted tenant or a window no longer offered is not recomputed)."""
    if name == "request_performance":
        return arguments in ([h] for h in WINDOW_HOURS)
    if name == "tenant_usage":
        if len(arguments) != 2 or arguments[1] not in WINDOW_HOURS:
            return False
        try:
            tenant_id = uuid.UUID(str(arguments[0]))
        except ValueError:
            return False
        return Tenant.unscoped.filter(pk=tenant_id).exists()
    return arguments == []


# --- Monitoring views -----------------------------------------------------------------------


# ``database_size_summary`` writes greatest(reltuples, 0): a table never analysed (reltuples -1
# since PostgreSQL 14) reads as 0 rows there. The catalog still tells the two apart.
ROW_ESTIMATES_SQL = """
SELECT c.relname::text AS table_name, c.reltuples
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
"""


@dataclass(frozen=True)
class TableSize:
    """A row of ``database_size_summary``; ``estimated_rows`` is None before the first ANALYZE."""

    table_name: str
    estimated_rows: int | None
    total_bytes: int
    table_bytes: int
    index_bytes: int
    toast_bytes: int
    total_size: str


def database_sizes(*, using: str = DEFAULT_DB_ALIAS) -> list[TableSize]:
    """Tables of the gateway's schema, largest first (``database_size_summary``); a streaming
    replica's files are the primary's, so either may answer."""
    unknown = {
        row["table_name"]
        for row in _fetch(ROW_ESTIMATES_SQL, [GATEWAY_SCHEMA], using)
        if row["reltuples"] < 0
    }
    return [
        TableSize(
            table_name=t.table_name,
            estimated_rows=None if t.table_name in unknown else t.estimated_rows,
            total_bytes=t.total_bytes,
            table_bytes=t.table_bytes,
            index_bytes=t.index_bytes,
            toast_bytes=t.toast_bytes,
            total_size=t.total_size,
        )
        for t in DatabaseSizeSummary.objects.using(using).order_by("-total_bytes", "table_name")
    ]


# The indexes that enforce a rule (primary key, unique, exclusion): never scanned or not, they
# cannot be dropped. ``index_usage_summary`` does not say which they are, so ask the catalog by
# name (index names are unique within a schema, and the view reads only ``public``). A foreign
# key's ``conindid`` names the referenced table's index, hence the ``contype`` filter.
CONSTRAINT_INDEXES_SQL = """
SELECT c.relname::text AS index_name,
       CASE WHEN i.indisprimary THEN 'primary key'
            WHEN con.contype = 'x' THEN 'exclusion'
            ELSE 'unique' END AS enforces
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')
WHERE n.nspname = %s AND (i.indisprimary OR i.indisunique OR con.oid IS NOT NULL)
"""


@dataclass(frozen=True)
class IndexUsage:
    """A row of ``index_usage_summary``, with the constraint the index enforces, if any."""

    index_name: str
    table_name: str
    index_scans: int
    tuples_read: int
    tuples_fetched: int
    index_bytes: int
    index_size: str
    never_used: bool
    enforces: str | None  # "primary key", "unique" or "exclusion"

    @property
    def unused_and_droppable(self) -> bool:
        """Never scanned and enforcing nothing: an index that costs writes for no reads."""
        return self.never_used and self.enforces is None


INDEX_SORTS = {
    "table": lambda i: (i.table_name, i.index_name),
    "name": lambda i: i.index_name,
    "scans": lambda i: (i.index_scans, i.index_name),
    "size": lambda i: (i.index_bytes, i.index_name),
}
DEFAULT_INDEX_SORT = "table"


def index_usage(never_used_only: bool = False, sort: str = DEFAULT_INDEX_SORT) -> list[IndexUsage]:
    """Indexes of the gateway's schema with their scans (``index_usage_summary``).

    ``never_used_only`` keeps the indexes that could be dropped: never scanned and enforcing no
    constraint. ``sort`` is a key of ``INDEX_SORTS``, ``-`` first for descending.
    """
    key = INDEX_SORTS.get(sort.removeprefix("-"))
    if key is None:
        raise ValueError(f"Unsupported sort key: {sort!r}.")
    enforced = {
        row["index_name"]: row["enforces"]
        for row in _fetch(CONSTRAINT_INDEXES_SQL, [GATEWAY_SCHEMA])
    }
    indexes = [
        IndexUsage(
            index_name=i.index_name,
            table_name=i.table_name,
            index_scans=i.index_scans,
            tuples_read=i.tuples_read,
            tuples_fetched=i.tuples_fetched,
            index_bytes=i.index_bytes,
            index_size=i.index_size,
            never_used=i.never_used,
            enforces=enforced.get(i.index_name),
        )
        for i in IndexUsageSummary.objects.all()
    ]
    if never_used_only:
        indexes = [i for i in indexes if i.unused_and_droppable]
    indexes.sort(key=key, reverse=sort.startswith("-"))
    return indexes


@dataclass(frozen=True)
class Metric:
    """A row of the ``performance_monitoring`` view."""

    metric_name: str
    metric_value: float | None
    unit: str
    captured_at: Any


def performance_metrics(*, using: str = DEFAULT_DB_ALIAS) -> Report[Metric]:
    """The ``performance_monitoring`` view's metrics, in the view's own order (stored: the view
    aggregates the last hour of ``request_logs`` with no index to help, 0.7 s at 10M rows)."""
    source = result_cache.read("performance_monitoring", [], using=using)
    return Report([Metric(**row) for row in source.typed_rows()], source)
