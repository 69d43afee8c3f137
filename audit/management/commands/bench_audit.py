"""Benchmark the log explorers on millions of rows: pages, database time, stock admin, export.

Loads rows into the CURRENT database with set-based SQL (only with ``--yes-load-rows``: never
point this at a real gateway database), then prints for five audit log pages (first, tenant + 24
hours, page 1,000, action prefix ``user.``, one day 15 days back in absolute bounds) the median
and p95 of the whole page through Django's stack, the database time of the page's query beside
the same SQL sent with psycopg directly, the same pages from a stock ``ModelAdmin`` (default
paginator and counts), and the export's rows per second and peak memory (measured in a
subprocess). Timings are printed, never asserted.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client, RequestFactory

from audit.models import AuditLog
from audit.selectors import PAGE_SIZE, PageCursor
from audit.time_blocks import summarise_settled_blocks
from backoffice.roles import Actor, parse_roles
from backoffice.staff_request import as_staff_request
from security.models import Account, GatewayUser, StaffAccount
from security.second_factor.devices import enrol_without_code, verified_session_data

BENCH_AUDITOR_EMAIL = "bench-auditor@example.invalid"
BATCH_ROWS = 500_000

LOAD_TENANTS_SQL = """
INSERT INTO tenants (name, slug, plan)
SELECT 'Bench tenant ' || g, 'bench-tenant-' || g, 'enterprise'
FROM generate_series(1, %(tenants)s) AS g
ON CONFLICT (slug) DO NOTHING
"""
BENCH_TENANT_IDS_SQL = "SELECT id FROM tenants WHERE slug LIKE 'bench-tenant-%%' ORDER BY slug"
# Rows are spread evenly over --days ending when the load started, ids rising with time as the
# gateway writes them: row g of the --rows in all is at (g / rows) of the period, whichever
# batch inserts it.
# Actions: 4 of 12 start with "user." (a third of the rows), tenants roughly uniform, 5% platform.
LOAD_AUDIT_LOGS_SQL = """
INSERT INTO audit_logs (tenant_id, actor_id, actor_type, action, resource_type, resource_id,
                        outcome, ip_address, user_agent, request_id, details, created_at)
SELECT
    CASE WHEN random() < 0.05 THEN NULL
         ELSE (%(tenant_ids)s::uuid[])[1 + floor(random() * %(tenant_count)s)::int] END,
    'bench-user-' || floor(random() * 5000)::int,
    (ARRAY['user', 'user', 'api_key', 'system', 'staff'])[1 + floor(random() * 5)::int],
    (ARRAY['user.ban', 'user.unban', 'user.sign_in', 'user.role_change', 'api_key.create',
           'api_key.revoke', 'api_key.use', 'impersonation.start', 'impersonation.stop',
           'server.register', 'tool.call', 'session.revoke'])[1 + floor(random() * 12)::int],
    'user',
    'bench-target-' || floor(random() * 100000)::int,
    (CASE WHEN random() < 0.9 THEN 'success' WHEN random() < 0.5 THEN 'failure'
          ELSE 'denied' END)::audit_outcome,
    ('10.' || floor(random() * 255)::int || '.' || floor(random() * 255)::int || '.'
          || floor(random() * 255)::int)::inet,
    'bench/1.0',
    gen_random_uuid(),
    jsonb_build_object('reason', 'benchmark', 'n', g),
    %(now)s - make_interval(secs => %(seconds)s * (1 - g::float8 / %(rows)s))
FROM generate_series(%(start)s, %(end)s) AS g
"""
DEEP_CURSOR_SQL = "SELECT id, created_at FROM audit_logs ORDER BY id DESC OFFSET %s LIMIT 1"
# Uses index: audit_logs_pkey (the explorer's first page)


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


@dataclass
class QueryLog:
    """Every query a page sends, with its time measured around the database call."""

    entries: list[tuple[str, Any, float]] = field(default_factory=list)

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.entries.append((sql, params, time.perf_counter() - start))


def is_page_query(sql: str) -> bool:
    """The query that reads the page's rows (not the EXPLAIN behind the estimate)."""
    return sql.startswith("SELECT") and 'FROM "audit_logs"' in sql and "LIMIT" in sql


@contextmanager
def query_log() -> Iterator[QueryLog]:
    log = QueryLog()
    with connection.execute_wrapper(log):
        yield log


class Command(BaseCommand):
    help = "Load millions of log rows (scratch databases only) and benchmark the explorers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument("--tenants", type=int, default=20)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS, help=argparse_hidden())
        parser.add_argument("--iterations", type=int, default=30)
        parser.add_argument("--stock-iterations", type=int, default=3)
        parser.add_argument(
            "--yes-load-rows",
            action="store_true",
            help="Confirm that the current database is a scratch one rows may be added to.",
        )
        parser.add_argument("--skip-export", action="store_true")
        parser.add_argument("--export-child", choices=["csv", "jsonl"], help=argparse_hidden())

    def handle(self, *args: Any, **options: Any) -> None:
        if options["export_child"]:
            self.export_child(options["export_child"])
            return
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("bench_audit never runs with production settings.")
        if not options["yes_load_rows"]:
            raise CommandError(
                "bench_audit adds millions of rows to the current database "
                f"({connection.settings_dict['NAME']}). Run it on a scratch database only, "
                "with --yes-load-rows."
            )
        self.load(options["rows"], options["tenants"], options["days"], options["batch_rows"])
        client = self.signed_in_auditor()
        pages = self.pages()
        results = []
        for name, url, stock_query in pages:
            results.append(self.bench_page(client, name, url, stock_query, options))
        self.print_pages(results)
        if not options["skip_export"]:
            for fmt in ("csv", "jsonl"):
                self.bench_export(fmt)

    # --- loading ---------------------------------------------------------------------------

    def load(self, rows: int, tenants: int, days: int, batch_rows: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(LOAD_TENANTS_SQL, {"tenants": tenants})
            cursor.execute(BENCH_TENANT_IDS_SQL)
            tenant_ids = [str(row[0]) for row in cursor.fetchall()]
            cursor.execute("SELECT count(*) FROM audit_logs")
            present = cursor.fetchone()[0]
        missing = rows - present
        self.stdout.write(
            f"database {connection.settings_dict['NAME']}: {present:,} audit log rows, "
            f"loading {max(missing, 0):,}"
        )
        start = time.perf_counter()
        loaded = 0
        now = dt.datetime.now(dt.UTC)
        while loaded < missing:
            batch = min(batch_rows, missing - loaded)
            with connection.cursor() as cursor:
                # A batch takes longer than the pages' statement_timeout.
                cursor.execute("SET statement_timeout = 0")
                cursor.execute(
                    LOAD_AUDIT_LOGS_SQL,
                    {
                        "tenant_ids": tenant_ids,
                        "tenant_count": len(tenant_ids),
                        "seconds": days * 86400,
                        "now": now,
                        "rows": rows,
                        "start": present + loaded + 1,
                        "end": present + loaded + batch,
                    },
                )
            loaded += batch
            rate = loaded / (time.perf_counter() - start)
            self.stdout.write(f"  loaded {loaded:,} rows ({rate:,.0f} rows/s)")
        if missing > 0:
            with connection.cursor() as cursor:
                # VACUUM sets the visibility map (index-only scans); it cannot run in a transaction.
                vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
                cursor.execute(f"{vacuum} audit_logs")
                cursor.execute("RESET statement_timeout")
            self.stdout.write(f"loaded and analysed in {time.perf_counter() - start:,.0f} s")
        # What the scheduled summarise_log_blocks would have done as the rows arrived.
        step = time.perf_counter()
        blocks = summarise_settled_blocks(AuditLog._meta.db_table)
        self.stdout.write(
            f"id blocks summarised: {blocks:,} in {time.perf_counter() - step:,.1f} s"
        )

    def signed_in_auditor(self) -> Client:
        """A test client signed in as the bench's auditor, through the whole middleware stack."""
        return signed_in_bench_persona("auditor", email=BENCH_AUDITOR_EMAIL)

    def pages(self) -> list[tuple[str, str, dict[str, str]]]:
        with connection.cursor() as cursor:
            cursor.execute(BENCH_TENANT_IDS_SQL)
            tenant_id = str(cursor.fetchone()[0])
            cursor.execute("SELECT count(*) FROM audit_logs")
            rows = cursor.fetchone()[0]
            # The last row of page 999, so the next page is page 1,000 (or the deepest there is).
            deep_page = min(1000, (rows - 1) // PAGE_SIZE + 1)
            cursor.execute(DEEP_CURSOR_SQL, [(deep_page - 1) * PAGE_SIZE - 1])
            row_id, created_at = cursor.fetchone()
        cursor_token = PageCursor(created_at=created_at, id=row_id).token
        now = dt.datetime.now(dt.UTC)
        since = (now - dt.timedelta(hours=24)).isoformat()
        # One day in the middle of the log, in absolute bounds: the time range is all that
        # narrows it, so the pk walk must start and stop at that day's ids.
        day_start = (now - dt.timedelta(days=15)).replace(minute=0, second=0, microsecond=0)
        day_end = day_start + dt.timedelta(days=1)
        day_query = f"since={day_start:%Y-%m-%dT%H:%M}&until={day_end:%Y-%m-%dT%H:%M}&tz=UTC"
        return [
            ("first page", "/audit/logs/", {}),
            (
                "tenant + 24 hours",
                f"/audit/logs/?tenant={tenant_id}&period=24h",
                {"tenant_id": tenant_id, "created_at__gte": since},
            ),
            (
                f"page {deep_page:,}",
                f"/audit/logs/?cursor={cursor_token}&page={deep_page}",
                {"p": str(deep_page)},
            ),
            ("action user.*", "/audit/logs/?action=user.", {"action__startswith": "user."}),
            (
                "a day, 15 days ago",
                f"/audit/logs/?{day_query}",
                {"created_at__gte": day_start.isoformat(), "created_at__lt": day_end.isoformat()},
            ),
        ]

    # --- pages -----------------------------------------------------------------------------

    def bench_page(
        self,
        client: Client,
        name: str,
        url: str,
        stock_query: dict[str, str],
        options: dict[str, Any],
    ) -> dict[str, Any]:
        for _ in range(3):
            response = client.get(url)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
        whole = Timing()
        page_query = Timing()
        all_queries = Timing()
        estimate = Timing()
        raw = Timing()
        with self.raw_connection() as raw_cursor:
            for _ in range(options["iterations"]):
                with query_log() as log:
                    start = time.perf_counter()
                    client.get(url)
                    whole.samples.append(time.perf_counter() - start)
                # One query per id range the page reads (a time range: the run and the tail).
                reads = [e for e in log.entries if is_page_query(e[0])]
                page_query.samples.append(sum(e[2] for e in reads))
                estimate.samples.append(
                    sum(e[2] for e in log.entries if e[0].startswith("EXPLAIN"))
                )
                all_queries.samples.append(sum(e[2] for e in log.entries))
                # The same SQL and parameters, right after the page, through psycopg directly.
                start = time.perf_counter()
                for sql, params, _seconds in reads:
                    raw_cursor.execute(sql, params)
                    raw_cursor.fetchall()
                raw.samples.append(time.perf_counter() - start)
        stock = self.stock_timing(stock_query, options["stock_iterations"])
        return {
            "name": name,
            "whole": whole,
            "page_query": page_query,
            "all_queries": all_queries,
            "estimate": estimate,
            "queries": len(log.entries),
            "raw": raw,
            "stock": stock,
        }

    @contextmanager
    def raw_connection(self) -> Iterator[psycopg.ClientCursor]:
        """A psycopg connection of its own, with Django's connection parameters (search path)."""
        conninfo = connection.get_connection_params()
        conninfo.pop("context", None)
        conninfo.pop("cursor_factory", None)
        with psycopg.connect(**conninfo, autocommit=True) as raw:
            yield psycopg.ClientCursor(raw)

    def stock_timing(self, query: dict[str, str], iterations: int) -> Timing:
        """The same page from a stock ModelAdmin: default paginator, full counts, OFFSET."""

        class StockAuditLogAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
            list_display = [
                "created_at",
                "tenant_id",
                "actor_type",
                "actor_id",
                "action",
                "resource_type",
                "resource_id",
                "outcome",
                "ip_address",
            ]

            def get_queryset(self, request: Any) -> Any:
                # Unscoped: the stock admin knows nothing of tenants; this is what it would read.
                return AuditLog.unscoped.all()

        site = admin.AdminSite(name="bench_stock")
        model_admin = StockAuditLogAdmin(AuditLog, site)
        superuser = User(username="bench-stock", is_superuser=True, is_staff=True, is_active=True)
        factory = RequestFactory()
        timing = Timing()
        for i in range(iterations + 1):
            request = factory.get("/admin/audit/auditlog/", query)
            request.user = superuser
            start = time.perf_counter()
            response = model_admin.changelist_view(request)
            if response.status_code != 200:
                raise CommandError(f"stock admin answered {response.status_code} for {query}")
            response.render()  # type: ignore[attr-defined]
            if i:  # the first run warms caches
                timing.samples.append(time.perf_counter() - start)
        return timing

    def print_pages(self, results: list[dict[str, Any]]) -> None:
        self.stdout.write("")
        self.stdout.write(
            f"{'page':<18} {'median':>8} {'p95':>8} {'page SQL':>9} {'raw SQL':>8} "
            f"{'ratio':>6} {'estimate':>9} {'all SQL':>8} {'queries':>7} {'stock':>9} {'faster':>7}"
        )
        for r in results:
            db = r["page_query"].median_ms
            raw = r["raw"].median_ms
            whole = r["whole"].median_ms
            stock = r["stock"].median_ms
            self.stdout.write(
                f"{r['name']:<18} {whole:>6.1f}ms {r['whole'].p95_ms:>6.1f}ms "
                f"{db:>7.2f}ms {raw:>6.2f}ms {db / raw:>5.2f}x {r['estimate'].median_ms:>7.2f}ms "
                f"{r['all_queries'].median_ms:>6.2f}ms {r['queries']:>7} "
                f"{stock:>7.0f}ms {stock / whole:>6.0f}x"
            )
        self.stdout.write(
            "median/p95: whole page through Django's stack (signed-in auditor, test client); "
            "page SQL: the query reading the page's rows as Django sent it; raw SQL: the same SQL "
            "through psycopg right after; estimate: the EXPLAIN behind the total shown; "
            "all SQL: every query of the request (session, actor, choices, estimate, page); "
            "stock: a stock ModelAdmin's changelist (median); faster: stock / median."
        )

    # --- export ----------------------------------------------------------------------------

    def bench_export(self, fmt: str) -> None:
        """Run the export in a child process so its peak memory is its own."""
        completed = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", "bench_audit", "--export-child", fmt],
            capture_output=True,
            text=True,
            check=True,
            cwd=settings.BASE_DIR,
        )
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        self.stdout.write(
            f"export {fmt}: {result['rows']:,} rows, {result['bytes'] / 1e6:,.0f} MB in "
            f"{result['seconds']:.1f} s = {result['rows'] / result['seconds']:,.0f} rows/s; "
            f"peak RSS {result['peak_rss_mb']:.0f} MB "
            f"({result['peak_rss_mb'] - result['start_rss_mb']:+.0f} MB during the export)"
        )

    def export_child(self, fmt: str) -> None:
        from audit import views

        start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        gateway_user = GatewayUser.unscoped.get(email=BENCH_AUDITOR_EMAIL)
        request = as_staff_request(RequestFactory().get(f"/audit/logs/export.{fmt}"))
        request.actor = Actor(
            display_name=gateway_user.email,
            roles=parse_roles(gateway_user.role),
            gateway_user_id=gateway_user.id,
            user_agent="bench_audit",
        )
        start = time.perf_counter()
        response = views.export_response(request, views.AUDIT_LOG_EXPLORER, fmt)
        lines = size = 0
        for chunk in response.streaming_content:  # type: ignore[union-attr]
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = lines - 1 if fmt == "csv" else lines  # the CSV header
        self.stdout.write(
            json.dumps(
                {
                    "rows": rows,
                    "bytes": size,
                    "seconds": seconds,
                    "peak_rss_mb": peak,
                    "start_rss_mb": start_rss,
                }
            )
        )


def signed_in_bench_persona(role: str, *, email: str) -> Client:
    """A test client signed in as ``bench-<role>`` (created once), through the whole stack.

    Unscoped and no service: the benchmarks create their own personas on a scratch database.
    """
    from django.utils import timezone

    now = timezone.now()
    gateway_user, _ = GatewayUser.unscoped.get_or_create(
        id=f"bench-{role}",
        defaults={
            "name": f"Bench {role.replace('_', ' ').title()}",
            "email": email,
            "role": role,
            "created_at": now,
            "updated_at": now,
        },
    )
    Account.unscoped.get_or_create(
        id=f"bench-{role}-credential",
        defaults={
            "account_id": gateway_user.id,
            "provider_id": "credential",
            "user": gateway_user,
            "created_at": now,
            "updated_at": now,
        },
    )
    django_user, _ = User.objects.get_or_create(
        username=f"gw-bench-{role}", defaults={"is_staff": True}
    )
    StaffAccount.objects.get_or_create(
        django_user=django_user, defaults={"gateway_user_id": gateway_user.id}
    )
    device = enrol_without_code(django_user)
    client = Client(
        SERVER_NAME=settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "localhost"
    )
    client.force_login(django_user, backend="security.authentication.BetterAuthBackend")
    # Signed in with the second factor too, checked now (a benchmark persona has no phone).
    session = client.session
    session.update(verified_session_data(device))
    session.save()
    return client


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS
