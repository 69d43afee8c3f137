"""Bring the explorers' time-to-id map (``audit.time_blocks``) up to date: run it every minute."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.time_blocks import SUMMARISED_TABLES, summarise_new_blocks


class Command(BaseCommand):
    help = (
        "Summarise the log ids settled since the last run, so time-ranged explorer pages read "
        "only the id blocks that hold their times. Safe to run from several machines at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for table in SUMMARISED_TABLES:
            blocks = summarise_new_blocks(table)
            self.stdout.write(f"{table}: {blocks} new block(s) of ids summarised.")
