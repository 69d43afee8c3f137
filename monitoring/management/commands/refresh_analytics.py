"""Recompute the stored analytics results (``monitoring.result_cache``): run it every minute."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backoffice.reads import heavy_reads
from monitoring import health_trends, result_cache, rollups, selectors


class Command(BaseCommand):
    help = (
        "Add new request logs and health checks to the rollups behind the trends pages, "
        "then recompute "
        "every analytics result a page asked for in the last day (and the standing ones), so "
        "pages read numbers at most a minute old without waiting. Safe to run from several "
        "machines at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        update = rollups.update_rollups()
        self.stdout.write(
            f"rollups: {update.rows_read:,} new request log row(s) added "
            f"({update.rollups_written:,} hourly and daily rollup row(s) written) "
            f"in {update.seconds:.2f} s"
        )
        started = time.perf_counter()
        health = health_trends.update_health_rollups()
        self.stdout.write(
            f"health rollups: {health:,} hourly and daily row(s) written "
            f"in {time.perf_counter() - started:.2f} s"
        )
        # Issue 14: the analytics refresh reads the replica when one is configured and fresh.
        reads = heavy_reads()
        self.stdout.write(f"analytics read from the {'replica' if reads.on_replica else 'primary'}")
        if reads.note:
            self.stdout.write(reads.note)
        report = result_cache.refresh(valid=selectors.refreshable, using=reads.alias)
        for key, cost_ms in report.refreshed:
            self.stdout.write(f"refreshed {key} in {cost_ms:,.0f} ms")
        for key in report.skipped:
            self.stdout.write(f"skipped {key}: fresh, or another run is refreshing it")
        for key, error in report.failed:
            self.stderr.write(f"failed {key}: {error}")
        if report.failed:
            raise CommandError(f"{len(report.failed)} result(s) could not be refreshed.")
