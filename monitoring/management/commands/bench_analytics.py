"""Benchmark the analytics, trends, monitoring, impersonation and user pages on millions of rows.

Loads request log rows spread evenly over 30 days, ids rising with time (and, with
``--audit-rows``, audit log rows as ``bench_audit`` does) into the CURRENT database with
set-based SQL, only with ``--yes-load-rows``: never point it at a real gateway database. Then
builds the rollups, and prints for each page the median and p95 through Django's whole stack
beside the contract function's own time for the same window, and the cost of a rollup update
per 100,000 new rows (``--update-rows``) and of the health rollups' every-minute update.
Timings are printed, never asserted.

Run again on a database it already loaded, it loads nothing more (each table is filled up to
its row count only; health checks only for servers that have none), brings the rollups up to
date and times the pages; ``--update-rows 0`` adds no rows at all.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.management.commands.bench_audit import (
    LOAD_AUDIT_LOGS_SQL,
    LOAD_TENANTS_SQL,
    signed_in_bench_persona,
)
from audit.models import AuditLog, RequestLog
from audit.time_blocks import summarise_settled_blocks
from monitoring import health_trends, rollups
from security.models import GatewayUser

BATCH_ROWS = 500_000
SERVERS_PER_TENANT = 5
LOAD_SERVERS_SQL = """
INSERT INTO mcp_servers (tenant_id, name, endpoint_url, transport_type)
SELECT t.id, 'bench-server-' || s, 'https://bench.invalid/' || t.slug || '/' || s,
       'streamable_http'
FROM tenants t, generate_series(1, %(per_tenant)s) AS s
WHERE t.slug LIKE 'bench-tenant-%%'
ON CONFLICT DO NOTHING
"""
# The 8 tools the log names, registered on every bench server (the trends page's tool picker).
LOAD_TOOLS_SQL = """
INSERT INTO mcp_tools (server_id, name)
SELECT s.id, tool
FROM mcp_servers s JOIN tenants t ON t.id = s.tenant_id,
     unnest(ARRAY['search', 'read', 'write', 'list', 'fetch', 'query', 'index', 'sync']) AS tool
WHERE t.slug LIKE 'bench-tenant-%%'
ON CONFLICT DO NOTHING
"""
# A health check of every bench server every %(minutes)s minutes over the period, about 3% of
# them degraded and 1% unhealthy (the trends page's server health over time).
LOAD_HEALTH_CHECKS_SQL = """
INSERT INTO server_health_checks (server_id, checked_at, status, response_time_ms)
SELECT s.id, at,
       (CASE WHEN r < 0.01 THEN 'unhealthy' WHEN r < 0.04 THEN 'degraded' ELSE 'healthy'
        END)::server_health,
       CASE WHEN r < 0.01 THEN NULL ELSE 20 + floor(r * 200)::int END
FROM mcp_servers s JOIN tenants t ON t.id = s.tenant_id,
     generate_series(%(end_at)s - make_interval(days => %(days)s), %(end_at)s,
                     make_interval(mins => %(minutes)s)) AS at,
     LATERAL (SELECT random() + 0 * extract(epoch FROM at) AS r) AS roll
WHERE t.slug LIKE 'bench-tenant-%%'
  AND NOT EXISTS (SELECT FROM server_health_checks h WHERE h.server_id = s.id)
"""
BENCH_SERVERS_SQL = """
SELECT s.id, s.tenant_id FROM mcp_servers s JOIN tenants t ON t.id = s.tenant_id
WHERE t.slug LIKE 'bench-tenant-%%' ORDER BY t.slug, s.name
"""
# Row g of --rows is at (g / rows) of the period, whichever batch inserts it: ids rise with time.
# A server (and its tenant) per row, one of 8 tools, about 6% errors, durations 1 ms to 8 s.
LOAD_REQUEST_LOGS_SQL = """
INSERT INTO request_logs (tenant_id, server_id, user_id, method, tool_name, status_code,
                          duration_ms, request_bytes, response_bytes, created_at)
SELECT (%(tenant_ids)s::uuid[])[1 + g %% %(servers)s],
       (%(server_ids)s::uuid[])[1 + g %% %(servers)s],
       'bench-user-' || (g %% 5000),
       'tools/call',
       (ARRAY['search', 'read', 'write', 'list', 'fetch', 'query', 'index', 'sync'])
           [1 + floor(random() * 8)::int],
       CASE WHEN random() < 0.94 THEN 200 WHEN random() < 0.5 THEN 429 ELSE 502 END,
       floor(exp(random() * 9))::int,
       512, 2048,
       %(end_at)s - make_interval(secs => %(seconds)s * (1 - g::float8 / %(rows)s))
FROM generate_series(%(start)s, %(end)s) AS g
"""


def _timed(action: Callable[[], Any], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Load millions of request log rows (scratch databases only) and time the pages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument("--audit-rows", type=int, default=0)
        parser.add_argument("--tenants", type=int, default=20)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--iterations", type=int, default=20)
        parser.add_argument(
            "--only", default="", help="Time only the pages whose name holds this text."
        )
        parser.add_argument(
            "--health-check-minutes",
            type=int,
            default=5,
            help="Minutes between two health checks of a bench server (0: none).",
        )
        parser.add_argument(
            "--update-rows",
            type=int,
            default=100_000,
            help="Request log rows added at the end to time a rollup update (0: none).",
        )
        parser.add_argument(
            "--yes-load-rows",
            action="store_true",
            help="Confirm that the current database is a scratch one rows may be added to.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("bench_analytics never runs with production settings.")
        if not options["yes_load_rows"]:
            raise CommandError(
                "bench_analytics adds millions of rows to the current database "
                f"({connection.settings_dict['NAME']}). Run it on a scratch database only, "
                "with --yes-load-rows."
            )
        self.now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
            cursor.execute(LOAD_TENANTS_SQL, {"tenants": options["tenants"]})
            cursor.execute(LOAD_SERVERS_SQL, {"per_tenant": SERVERS_PER_TENANT})
            cursor.execute(LOAD_TOOLS_SQL)
            if options["health_check_minutes"]:
                cursor.execute(
                    LOAD_HEALTH_CHECKS_SQL,
                    {
                        "end_at": self.now,
                        "days": options["days"],
                        "minutes": options["health_check_minutes"],
                    },
                )
                cursor.execute("ANALYZE server_health_checks")
            cursor.execute(BENCH_SERVERS_SQL)
            self.servers = [(str(s), str(t)) for s, t in cursor.fetchall()]
        self.load_requests(options["rows"], options["days"])
        if options["audit_rows"]:
            self.load_audit(options["audit_rows"], options["days"])
        self.build_rollups()
        client = self.signed_in_admin()
        self.bench_pages(client, options["iterations"], options["only"])
        self.bench_rollup_update(options["update_rows"])

    # --- loading -----------------------------------------------------------------------------

    def _load(self, table: str, wanted: int, insert: Callable[[Any, int, int], None]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # our own table names
            present = cursor.fetchone()[0]
        missing = wanted - present
        self.stdout.write(f"{table}: {present:,} rows, loading {max(missing, 0):,}")
        start, loaded = time.perf_counter(), 0
        while loaded < missing:
            batch = min(BATCH_ROWS, missing - loaded)
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")
                insert(cursor, present + loaded + 1, present + loaded + batch)
            loaded += batch
            rate = loaded / (time.perf_counter() - start)
            self.stdout.write(f"  loaded {loaded:,} rows ({rate:,.0f} rows/s)")
        if missing > 0:
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {table}")
            self.stdout.write(f"  loaded and analysed in {time.perf_counter() - start:,.0f} s")

    def load_requests(self, rows: int, days: int) -> None:
        def insert(cursor: Any, first: int, last: int) -> None:
            cursor.execute(
                LOAD_REQUEST_LOGS_SQL,
                {
                    "tenant_ids": [t for _, t in self.servers],
                    "server_ids": [s for s, _ in self.servers],
                    "servers": len(self.servers),
                    "seconds": days * 86400,
                    "end_at": self.now,
                    "rows": rows,
                    "start": first,
                    "end": last,
                },
            )

        self._load("request_logs", rows, insert)

    def load_audit(self, rows: int, days: int) -> None:
        tenant_ids = sorted({t for _, t in self.servers})

        def insert(cursor: Any, first: int, last: int) -> None:
            cursor.execute(
                LOAD_AUDIT_LOGS_SQL,
                {
                    "tenant_ids": tenant_ids,
                    "tenant_count": len(tenant_ids),
                    "seconds": days * 86400,
                    "now": self.now,
                    "rows": rows,
                    "start": first,
                    "end": last,
                },
            )

        self._load("audit_logs", rows, insert)
        summarise_settled_blocks(AuditLog._meta.db_table)

    def build_rollups(self) -> None:
        """Bring every rollup up to date: the first time a build, after that an update."""
        started = time.perf_counter()
        written = health_trends.update_health_rollups()
        self.stdout.write(
            f"health rollups (hourly and daily): {written:,} rows "
            f"in {time.perf_counter() - started:,.1f} s"
        )
        # A custom range's partial first and last hours read the log by id ranges: the map
        # that the every-minute summarise_log_blocks keeps.
        summarise_settled_blocks(RequestLog._meta.db_table)
        update = rollups.update_settled_rollups()
        self.stdout.write(
            f"rollups: {update.rows_read:,} rows added ({update.rollups_written:,} rollup rows) "
            f"in {update.seconds:,.1f} s"
        )

    def signed_in_admin(self) -> Client:
        """A client signed in as the bench's admin, through the whole middleware stack."""
        # bench_audit writes entries about users "bench-target-N": give one a user page.
        now = timezone.now()
        GatewayUser.unscoped.get_or_create(
            id="bench-target-4242",
            defaults={
                "name": "Bench Target",
                "email": "bench-target-4242@example.invalid",
                "role": "user",
                "created_at": now,
                "updated_at": now,
            },
        )
        return signed_in_bench_persona("admin", email="bench-admin@example.invalid")

    # --- timing ------------------------------------------------------------------------------

    def function_ms(self, sql: str, params: list[Any]) -> float:
        with connection.cursor() as cursor:

            def run() -> None:
                cursor.execute(sql, params)
                cursor.fetchall()

            return statistics.median(_timed(run, 3))

    def bench_pages(self, client: Client, iterations: int, only: str = "") -> None:
        server_id, tenant_id = self.servers[0]
        # Custom ranges that start and end mid-hour: partial first and last hours.
        moment = "%Y-%m-%dT%H:%M:%S"
        custom_end = (self.now - dt.timedelta(minutes=23)).strftime(moment)
        custom_start = (self.now - dt.timedelta(days=3, minutes=-17)).strftime(moment)
        day_start = (self.now - dt.timedelta(hours=25, minutes=-7)).strftime(moment)
        perf = "SELECT * FROM get_request_performance_summary(%s)"
        usage = "SELECT * FROM get_tenant_usage_summary(%s, %s)"
        pages: list[tuple[str, str, str | None, list[Any]]] = [
            ("request performance 24 h", "/analytics/performance/?hours=24", perf, [24]),
            ("request performance 7 d", "/analytics/performance/?hours=168", perf, [168]),
            (
                "tenant usage 24 h",
                f"/analytics/usage/{tenant_id}/?hours=24",
                usage,
                [tenant_id, 24],
            ),
            (
                "tenant usage 7 d",
                f"/analytics/usage/{tenant_id}/?hours=168",
                usage,
                [tenant_id, 168],
            ),
            (
                "server health",
                "/analytics/health/",
                "SELECT * FROM get_server_health_summary()",
                [],
            ),
            (
                "performance metrics",
                "/monitoring/metrics/",
                "SELECT * FROM performance_monitoring",
                [],
            ),
            ("trends, platform 24 h", "/analytics/trends/?period=24h", perf, [24]),
            ("trends, platform 7 d", "/analytics/trends/?period=7d", perf, [168]),
            ("trends, platform 30 d", "/analytics/trends/?period=30d", perf, [720]),
            (
                "trends, tenant 30 d",
                f"/analytics/trends/?period=30d&tenant={tenant_id}",
                usage,
                [tenant_id, 720],
            ),
            ("trends, server 7 d", f"/analytics/trends/?period=7d&server={server_id}", None, []),
            (
                "trends, tool 24 h",
                f"/analytics/trends/?period=24h&tool={server_id}:search",
                None,
                [],
            ),
            (
                "trends, custom 3 d mid-hour",
                f"/analytics/trends/?period=custom&start={custom_start}&end={custom_end}",
                None,
                [],
            ),
            (
                "trends, custom 25 h, tenant",
                f"/analytics/trends/?period=custom&start={day_start}&end={custom_end}"
                f"&tenant={tenant_id}",
                None,
                [],
            ),
            (
                "trends health CSV, platform 7 d",
                "/analytics/trends/health/csv/?period=7d",
                None,
                [],
            ),
            ("impersonation list (30 days)", "/admin/security/impersonationrecord/", None, []),
            ("a user's page", "/admin/security/gatewayuser/bench-target-4242/change/", None, []),
        ]
        self.stdout.write(
            f"\n{'page':32} {'first view':>11} {'median':>9} {'p95':>9} {'function':>10}"
        )
        for name, url, sql, params in pages:
            if only not in name:
                continue

            def get(url: str = url) -> None:
                self._get(client, url)

            first = _timed(get, 1)[0]
            samples = _timed(get, iterations)
            function = f"{self.function_ms(sql, params):,.0f} ms" if sql else "—"
            self.stdout.write(
                f"{name:32} {first:>8,.0f} ms {statistics.median(samples):>6,.1f} ms "
                f"{_p95(samples):>6,.1f} ms {function:>10}"
            )

    def _get(self, client: Client, url: str) -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")

    def bench_rollup_update(self, rows: int) -> None:
        """``rows`` new rows over the last minutes, then the update that adds them; and the
        every-minute update of the health rollups (the last hours and days recounted)."""
        started = time.perf_counter()
        written = health_trends.update_health_rollups()
        self.stdout.write(
            f"\nhealth rollup update: {written:,} hourly and daily rows written "
            f"in {time.perf_counter() - started:,.2f} s"
        )
        if not rows:
            return
        self.now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM request_logs")
            present = cursor.fetchone()[0] or 0
            cursor.execute("SET statement_timeout = 0")
            cursor.execute(
                LOAD_REQUEST_LOGS_SQL,
                {
                    "tenant_ids": [t for _, t in self.servers],
                    "server_ids": [s for s, _ in self.servers],
                    "servers": len(self.servers),
                    "seconds": 300,
                    "end_at": self.now,
                    "rows": present + rows,
                    "start": present + 1,
                    "end": present + rows,
                },
            )
        update = rollups.update_settled_rollups()
        self.stdout.write(
            f"rollup update: {update.rows_read:,} new rows added in {update.seconds:,.2f} s "
            f"({update.seconds / max(update.rows_read, 1) * 100_000:,.2f} s per 100,000 rows, "
            f"{update.rollups_written:,} rollup rows written)"
        )
