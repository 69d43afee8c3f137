"""The contract's analytics results, kept for every server process and refreshed in the background.

The three analytics functions and the ``performance_monitoring`` view stay the source of the
exact numbers, but at 10M ``request_logs`` rows each call is a parallel sequential scan of 0.4-5 s
(the contract has no ``created_at`` index on that table). So a page reads the last result of its
(function, arguments) from a store every process shares, and ``refresh_analytics`` (cron, every
minute) recomputes every result asked for in the last day. A page computes a result itself only
the very first time it is asked for, and says so.

The store is Redis when ``REDIS_URL`` (or ``CACHE_URL``) names one, otherwise a table in the back
office's schema (``AnalyticsResult``), so the embedded default needs nothing more. Either way a
refresh of one result holds a PostgreSQL advisory lock named after it, and skips a result another
machine refreshed less than ``REFRESH_AFTER`` ago, so several machines may run the command at once.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from monitoring.models import AnalyticsResult

# The promise to the reader: a result at most a minute old once cron runs the refresh.
REFRESH_EVERY = dt.timedelta(minutes=1)
# A run leaves alone a result refreshed this recently (by another machine, or the previous run).
REFRESH_AFTER = dt.timedelta(seconds=30)
# Older than this, the page says the background refresh is behind (cron stopped?).
BEHIND_AFTER = dt.timedelta(minutes=3)
# Results nobody asked for in this long are no longer refreshed, and then forgotten.
KEEP_REFRESHING_FOR = dt.timedelta(days=1)
# A page notes that it asked for a result at most this often (one small write per key).
NOTE_REQUEST_EVERY = dt.timedelta(minutes=10)
# The home dashboard's counts stop here (monitoring/dashboard.py): past it the exact number tells
# nobody more.
DASHBOARD_COUNT_CAP = 1000
LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtext('monitoring.result_cache:' || %s))"


@dataclass(frozen=True)
class Query:
    """One cacheable read: its SQL (the function's own call) and its typed columns."""

    sql: str
    uuid_columns: tuple[str, ...] = ()
    datetime_columns: tuple[str, ...] = ()


QUERIES: dict[str, Query] = {
    "server_health": Query(
        "SELECT health_status::text AS health_status, server_count, avg_response_time_ms, "
        "avg_success_rate, stale_check_count FROM get_server_health_summary()"
    ),
    "request_performance": Query(
        "SELECT server_id, server_name, tenant_id, total_requests, error_count, error_rate, "
        "avg_duration_ms, p50_duration_ms, p95_duration_ms "
        "FROM get_request_performance_summary(%s)",
        uuid_columns=("server_id", "tenant_id"),
    ),
    # Uses index: idx_request_logs_tenant_time (inside the function)
    "tenant_usage": Query(
        "SELECT tenant_id, total_requests, error_count, distinct_users, servers_used, "
        "tools_used, avg_duration_ms, p95_duration_ms, active_api_keys, active_servers "
        "FROM get_tenant_usage_summary(%s::uuid, %s)",
        uuid_columns=("tenant_id",),
    ),
    # The home dashboard's "denied in 24 hours" card (monitoring/dashboard.py): a day of
    # audit_logs filtered on outcome, which no index covers (about 333k rows read at 10M rows),
    # counted once a minute here instead of on every home page. Stops at the card's cap + 1.
    # Uses index: idx_audit_logs_created_brin
    "denied_actions": Query(
        "SELECT count(*) AS denied FROM (SELECT 1 FROM audit_logs "
        "WHERE created_at >= now() - interval '24 hours' AND outcome = 'denied' "
        f"LIMIT {DASHBOARD_COUNT_CAP + 1}) AS capped"
    ),
    "performance_monitoring": Query(
        "SELECT metric_name, metric_value, unit, captured_at FROM performance_monitoring",
        datetime_columns=("captured_at",),
    ),
}


def result_key(name: str, arguments: Iterable[Any]) -> str:
    """The cache key of a query and its arguments, e.g. ``request_performance:[24]``."""
    return f"{name}:{json.dumps([str(a) if isinstance(a, uuid.UUID) else a for a in arguments])}"


@dataclass(frozen=True)
class Result:
    """A stored result: its rows as JSON values, when it was computed and what that cost."""

    name: str
    arguments: list[Any]
    rows: list[dict[str, Any]]
    computed_at: dt.datetime
    cost_ms: float
    requested_at: dt.datetime | None = None
    computed_now: bool = field(default=False, compare=False)

    @property
    def behind(self) -> bool:
        return timezone.now() - self.computed_at > BEHIND_AFTER

    def typed_rows(self) -> list[dict[str, Any]]:
        """The rows with the query's uuid and datetime columns rebuilt from their JSON text."""
        query = QUERIES[self.name]
        rows = []
        for row in self.rows:
            typed = dict(row)
            for column in query.uuid_columns:
                if typed[column] is not None:
                    typed[column] = uuid.UUID(typed[column])
            for column in query.datetime_columns:
                if typed[column] is not None:
                    typed[column] = dt.datetime.fromisoformat(typed[column])
            rows.append(typed)
        return rows


class ResultStore(Protocol):
    def get(self, key: str) -> Result | None: ...
    def put(self, key: str, result: Result) -> None: ...
    def note_requested(self, key: str, name: str, arguments: list[Any]) -> None: ...
    def requested_since(self, since: dt.datetime) -> list[tuple[str, list[Any]]]: ...
    def forget_unrequested(self, before: dt.datetime) -> int: ...


class TableStore:
    """Results in ``AnalyticsResult``, in the back office's schema (the default)."""

    def get(self, key: str) -> Result | None:
        found = AnalyticsResult.objects.filter(key=key, computed_at__isnull=False).first()
        if found is None or found.computed_at is None:
            return None
        return Result(
            name=found.name,
            arguments=found.arguments,
            rows=found.rows or [],
            computed_at=found.computed_at,
            cost_ms=found.cost_ms,
            requested_at=found.requested_at,
        )

    def put(self, key: str, result: Result) -> None:
        AnalyticsResult.objects.update_or_create(
            key=key,
            defaults={
                "name": result.name,
                "arguments": result.arguments,
                "rows": result.rows,
                "computed_at": result.computed_at,
                "cost_ms": result.cost_ms,
            },
            create_defaults={
                "name": result.name,
                "arguments": result.arguments,
                "rows": result.rows,
                "computed_at": result.computed_at,
                "cost_ms": result.cost_ms,
                "requested_at": result.requested_at or timezone.now(),
            },
        )

    def note_requested(self, key: str, name: str, arguments: list[Any]) -> None:
        AnalyticsResult.objects.update_or_create(
            key=key,
            defaults={"requested_at": timezone.now()},
            create_defaults={"name": name, "arguments": arguments, "requested_at": timezone.now()},
        )

    def requested_since(self, since: dt.datetime) -> list[tuple[str, list[Any]]]:
        found = AnalyticsResult.objects.filter(requested_at__gte=since).order_by("key")
        return [(r.name, r.arguments) for r in found]

    def forget_unrequested(self, before: dt.datetime) -> int:
        deleted, _ = AnalyticsResult.objects.filter(requested_at__lt=before).delete()
        return deleted


class RedisStore:
    """Results in Redis: one string per result, and a sorted set of when each was last asked for."""

    def __init__(self, url: str, prefix: str = "backoffice:analytics:") -> None:
        import redis  # Imported here: only a deployment that configures Redis needs the client.

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def get(self, key: str) -> Result | None:
        raw = self.client.get(self.prefix + "result:" + key)
        if raw is None:
            return None
        data = json.loads(raw)
        requested = self.client.zscore(self.prefix + "requested", key)
        return Result(
            name=data["name"],
            arguments=data["arguments"],
            rows=data["rows"],
            computed_at=dt.datetime.fromisoformat(data["computed_at"]),
            cost_ms=data["cost_ms"],
            requested_at=None
            if requested is None
            else dt.datetime.fromtimestamp(requested, dt.UTC),
        )

    def put(self, key: str, result: Result) -> None:
        data = {
            "name": result.name,
            "arguments": result.arguments,
            "rows": result.rows,
            "computed_at": result.computed_at.isoformat(),
            "cost_ms": result.cost_ms,
        }
        # Expires on its own once nobody asks for it: Redis needs no clean-up run.
        expiry = int((KEEP_REFRESHING_FOR * 2).total_seconds())
        self.client.set(self.prefix + "result:" + key, json.dumps(data), ex=expiry)
        # nx: a refresh never makes a result look asked for.
        self.client.zadd(self.prefix + "requested", {key: time.time()}, nx=True)

    def note_requested(self, key: str, name: str, arguments: list[Any]) -> None:
        self.client.zadd(self.prefix + "requested", {key: time.time()})

    def requested_since(self, since: dt.datetime) -> list[tuple[str, list[Any]]]:
        keys = self.client.zrangebyscore(self.prefix + "requested", since.timestamp(), "+inf")
        wanted = []
        for raw in sorted(keys):
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            name, _, arguments = text.partition(":")
            if name in QUERIES:
                wanted.append((name, json.loads(arguments)))
        return wanted

    def forget_unrequested(self, before: dt.datetime) -> int:
        removed: int = self.client.zremrangebyscore(
            self.prefix + "requested", "-inf", f"({before.timestamp()}"
        )
        return removed


def configured_store() -> ResultStore:
    """Redis when ``ANALYTICS_CACHE_URL`` (``REDIS_URL``/``CACHE_URL``) names it, else the table."""
    url = settings.ANALYTICS_CACHE_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url, getattr(settings, "ANALYTICS_CACHE_PREFIX", "backoffice:analytics:"))
    return TableStore()


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def compute(name: str, arguments: list[Any], using: str = DEFAULT_DB_ALIAS) -> Result:
    """Run the query now (the function itself) on the database ``using`` and time it."""
    started = time.perf_counter()
    with connections[using].cursor() as cursor:
        cursor.execute(QUERIES[name].sql, arguments)
        names = [column.name for column in cursor.description]
        rows = [
            {n: _json_value(v) for n, v in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]
    cost_ms = (time.perf_counter() - started) * 1000
    return Result(name, arguments, rows, timezone.now(), round(cost_ms, 1))


def read(
    name: str,
    arguments: list[Any],
    store: ResultStore | None = None,
    *,
    using: str = DEFAULT_DB_ALIAS,
) -> Result:
    """The stored result of ``name(arguments)``; computed now on ``using`` (and stored) only the
    first time."""
    if name not in QUERIES:
        raise ValueError(f"Unknown analytics query: {name!r}")
    store = store or configured_store()
    arguments = [_json_value(a) for a in arguments]
    key = result_key(name, arguments)
    found = store.get(key)
    if found is None:
        result = compute(name, arguments, using)
        store.put(key, result)
        store.note_requested(key, name, arguments)
        return Result(**{**result.__dict__, "computed_now": True})
    now = timezone.now()
    if found.requested_at is None or now - found.requested_at > NOTE_REQUEST_EVERY:
        store.note_requested(key, name, arguments)
    return found


# Refreshed whether or not anyone asked: the pages (and the home dashboard's count) every
# platform role opens first.
STANDING_QUERIES: tuple[tuple[str, list[Any]], ...] = (
    ("server_health", []),
    ("performance_monitoring", []),
    ("request_performance", [24]),
    ("denied_actions", []),
)


@dataclass
class RefreshReport:
    refreshed: list[tuple[str, float]] = field(default_factory=list)  # (key, cost in ms)
    skipped: list[str] = field(default_factory=list)  # fresh, or another run holds it
    failed: list[tuple[str, str]] = field(default_factory=list)


def refresh(
    store: ResultStore | None = None,
    *,
    valid: Callable[[str, list[Any]], bool] = lambda name, arguments: True,
    using: str = DEFAULT_DB_ALIAS,
) -> RefreshReport:
    """Recompute every result asked for recently (and the standing ones), once across machines.

    The queries run on ``using`` (the read replica, when the command found it fresh); the locks
    and the stored results stay on the primary.
    """
    store = store or configured_store()
    now = timezone.now()
    wanted = dict.fromkeys(
        (name, json.dumps(arguments))
        for name, arguments in (
            *STANDING_QUERIES,
            *store.requested_since(now - KEEP_REFRESHING_FOR),
        )
        if name in QUERIES and valid(name, arguments)
    )
    report = RefreshReport()
    for name, arguments_json in wanted:
        arguments = json.loads(arguments_json)
        key = result_key(name, arguments)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(LOCK_SQL, [key])
                if not cursor.fetchone()[0]:
                    report.skipped.append(key)
                    continue
                found = store.get(key)
                if found is not None and timezone.now() - found.computed_at < REFRESH_AFTER:
                    report.skipped.append(key)
                    continue
                result = compute(name, arguments, using)
                # In the lock's transaction: the next machine sees it as just refreshed.
                store.put(key, result)
        except Exception as error:  # one failing result must not stop the others
            report.failed.append((key, str(error)))
            continue
        report.refreshed.append((key, result.cost_ms))
    store.forget_unrequested(now - KEEP_REFRESHING_FOR * 2)
    return report
