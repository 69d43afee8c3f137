"""One run of the demo seed: the object graph, then the logs, in one transaction."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

import factory.random
from django.db import connection, transaction
from faker import Faker

from audit.time_blocks import SUMMARISED_TABLES, summarise_settled_blocks
from backoffice.demo.api_keys import ApiKeyBuilder
from backoffice.demo.audit_logs import INSERT_AUDIT_LOGS, audit_log_params
from backoffice.demo.graph import DemoGraph
from backoffice.demo.logs import LogLoader
from backoffice.demo.people import PeopleBuilder
from backoffice.demo.request_logs import (
    INSERT_REQUEST_LOGS,
    request_log_params,
    sync_usage_counters,
)
from backoffice.demo.servers import ServerBuilder

SET_RANDOM_SEED = "SELECT setseed(%s)"
# Bulk loading may outlast the per-statement timeout that protects pages.
DISABLE_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = 0"
ANALYZE_LOGS = ("ANALYZE audit_logs", "ANALYZE request_logs")


def build_demo_graph(rng: random.Random, fake: Faker, now: dt.datetime) -> DemoGraph:
    """Create the object graph through the factories; the builders draw in this order, always."""
    graph = DemoGraph()
    people = PeopleBuilder(rng, fake, now, graph)
    people.create_tenants_and_users()
    people.create_sessions()
    ServerBuilder(rng, fake, now, graph).create()
    ApiKeyBuilder(rng, fake, now, graph).create()
    people.create_verifications()
    return graph


def seed_demo(*, log_rows: int, seed: int | None, write: Callable[[str], None]) -> None:
    """Seed the demo with ``log_rows`` rows in each log, the same demo for the same ``seed``.

    ``write`` gets the progress, a summary of what was created and the time it all took.
    """
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    fake = Faker("en_US")
    if seed is not None:
        factory.random.reseed_random(seed)  # type: ignore[no-untyped-call]  # factory-boy's
        fake.seed_instance(seed)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()

    # One transaction for everything: a failed run leaves nothing that --once would mistake
    # for a finished demo.
    with transaction.atomic():
        graph = build_demo_graph(rng, fake, now)
        write(f"Object graph created in {time.perf_counter() - started:.1f} s.")
        loader = LogLoader(now)
        logs = (
            ("audit", INSERT_AUDIT_LOGS, audit_log_params(graph, rng)),
            ("request", INSERT_REQUEST_LOGS, request_log_params(graph, now)),
        )
        with connection.cursor() as cursor:
            cursor.execute(DISABLE_STATEMENT_TIMEOUT)
            if seed is not None:
                cursor.execute(SET_RANDOM_SEED, [(seed % 2**31) / 2**31])
            for table, sql, params in logs:
                step = time.perf_counter()
                loader.load(cursor, sql, params, log_rows)
                write(f"{log_rows} {table} log rows loaded in {time.perf_counter() - step:.1f} s.")
            sync_usage_counters(cursor)
    with connection.cursor() as cursor:
        for statement in ANALYZE_LOGS:
            cursor.execute(statement)
    for table in SUMMARISED_TABLES:
        summarise_settled_blocks(table)

    write("Created " + ", ".join(f"{n} {what}" for what, n in sorted(graph.counts.items())) + ".")
    write(f"Seeded in {time.perf_counter() - started:.1f} s.")
