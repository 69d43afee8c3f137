"""Benchmark a user's story page, the History pages and the admin index on millions of audit rows.

Loads audit rows as ``bench_audit`` does (only with ``--yes-load-rows``: scratch databases only),
adds a few API keys with requests for the bench users, then prints the median and p95 of each
page through Django's whole stack (test client, signed-in admin), its number of queries and the
database time of those queries. Timings are printed, never asserted.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.management.commands.bench_audit import (
    BENCH_TENANT_IDS_SQL,
    Timing,
    query_log,
    signed_in_bench_persona,
)
from audit.management.commands.bench_audit import Command as BenchAudit
from security.models import ApiKey, GatewayUser

# The loader's actors are bench-user-0..4999 (about 2,000 rows each at 10M) and its resources
# bench-target-0..99999 (about 100 rows each, a sixth of them bans and unbans).
STORY_USERS = ("bench-user-7", "bench-target-7")
BENCH_KEY_REQUESTS_SQL = """
INSERT INTO request_logs (tenant_id, api_key_id, method, tool_name, status_code, duration_ms,
                          created_at)
SELECT %(tenant)s, %(key)s, 'tools/call', 'tool-' || (g %% 8), 200, g %% 900,
       now() - make_interval(secs => g * 60)
FROM generate_series(1, %(rows)s) AS g
"""


class Command(BaseCommand):
    help = "Benchmark a user's story page and the History pages (scratch databases only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument("--iterations", type=int, default=20)
        parser.add_argument("--requests-per-key", type=int, default=50_000)
        parser.add_argument(
            "--yes-load-rows",
            action="store_true",
            help="Confirm that the current database is a scratch one rows may be added to.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("bench_story never runs with production settings.")
        if not options["yes_load_rows"]:
            raise CommandError(
                "bench_story adds millions of rows to the current database "
                f"({connection.settings_dict['NAME']}). Run it on a scratch database only, "
                "with --yes-load-rows."
            )
        loader = BenchAudit()
        loader.stdout = self.stdout
        loader.load(options["rows"], 20, 30, 500_000)
        tenant_id = self.story_users(options["requests_per_key"])
        client = signed_in_bench_persona("admin", email="bench-admin@example.invalid")
        pages = [
            *(
                (f"story of {pk}", reverse("admin:security_gatewayuser_change", args=[pk]))
                for pk in STORY_USERS
            ),
            (
                "history of bench-target-7",
                reverse("admin:security_gatewayuser_history", args=["bench-target-7"]),
            ),
            ("history of a tenant", reverse("admin:tenants_tenant_history", args=[tenant_id])),
            (
                "explorer: about bench-target-7",
                reverse("audit:audit_log_list") + "?resource_type=user&resource_id=bench-target-7",
            ),
            ("admin index (recent actions)", reverse("admin:index")),
        ]
        self.stdout.write(f"{'page':<34} {'median':>9} {'p95':>9} {'all SQL':>9} {'queries':>8}")
        for name, url in pages:
            self.bench(client, name, url, options["iterations"])

    def story_users(self, requests_per_key: int) -> str:
        """The bench users, each with two API keys that made requests; the first bench tenant."""
        with connection.cursor() as cursor:
            cursor.execute(BENCH_TENANT_IDS_SQL)
            tenant_id = str(cursor.fetchone()[0])
        now = timezone.now()
        for pk in STORY_USERS:
            user, created = GatewayUser.unscoped.get_or_create(
                id=pk,
                defaults={
                    "name": pk,
                    "email": f"{pk}@example.invalid",
                    "role": "user",
                    "tenant_id": tenant_id,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if not created:
                continue
            for n in range(2):
                key = ApiKey.unscoped.create(
                    id=uuid.uuid4(),
                    tenant_id=tenant_id,
                    created_by=user,
                    name=f"{pk} key {n}",
                    key_prefix=f"mcpgw_{uuid.uuid4().hex[:8]}",
                    key_hash=uuid.uuid4().hex,
                    created_at=now,
                    updated_at=now,
                )
                with connection.cursor() as cursor:
                    cursor.execute(
                        BENCH_KEY_REQUESTS_SQL,
                        {"tenant": tenant_id, "key": str(key.pk), "rows": requests_per_key},
                    )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE request_logs")
        return tenant_id

    def bench(self, client: Any, name: str, url: str, iterations: int) -> None:
        for _ in range(3):
            response = client.get(url)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
        whole, sql = Timing(), Timing()
        queries = 0
        for _ in range(iterations):
            with query_log() as log:
                start = time.perf_counter()
                client.get(url)
                whole.samples.append(time.perf_counter() - start)
            sql.samples.append(sum(entry[2] for entry in log.entries))
            queries = len(log.entries)
        self.stdout.write(
            f"{name:<34} {whole.median_ms:>7.1f}ms {whole.p95_ms:>7.1f}ms "
            f"{sql.median_ms:>7.2f}ms {queries:>8}"
        )
