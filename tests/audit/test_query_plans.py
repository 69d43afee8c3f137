"""Every filter combination the explorers accept reads a bounded number of rows (EXPLAIN ANALYZE).

The queries are the ones the pages really send (captured), run under ``EXPLAIN (ANALYZE, FORMAT
JSON)`` on 60,000 rows over 30 days (2,000 a day, ids rising with time). For each accepted class
of combination the test asserts the intended index, no Seq Scan, that a pk walk with a time range
has an Index Cond on the id, and that the page's queries read at most ``ROW_BUDGET`` heap rows
(returned, removed by a filter, or removed by a lossy bitmap's recheck): a combination whose cost
grew with the table (a pk walk past every newer row, a filter matching nothing walked to the first
row) reads tens of thousands. Most cases filter on a value absent from the data, the worst case
for a filtered walk.

Deterministic by construction: the statistics are computed from every row (a sample larger than
the tables), so the planner's choices do not follow a random sample, and only heap rows are
counted: a bitmap index scan's "Actual Rows" (a BRIN one reports whole block ranges) is not rows
read. The data commit for real, so the explorers' id-block summary (``audit.time_blocks``) is
built as the scheduled command builds it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.time_blocks import SUMMARISED_TABLES, summarise_settled_blocks
from registry.factories import McpServerFactory
from tenants.factories import TenantFactory

AUDIT_ROWS_SQL = """
INSERT INTO audit_logs (tenant_id, actor_id, actor_type, action, resource_type, resource_id,
                        outcome, created_at)
SELECT (%(tenants)s::uuid[])[1 + g %% 40], 'actor-' || (g %% 400), 'user',
       CASE WHEN g %% 200 = 0 THEN 'impersonation.start'
            ELSE (ARRAY['user.ban', 'user.unban', 'api_key.revoke', 'tool.call'])[1 + g %% 4] END,
       'user', 'target-' || g, 'success', now() - make_interval(secs => (60000 - g) * 43)
FROM generate_series(1, 60000) AS g
"""
REQUEST_ROWS_SQL = """
INSERT INTO request_logs (tenant_id, server_id, api_key_id, method, tool_name, status_code,
                          duration_ms, created_at)
SELECT (%(tenants)s::uuid[])[1 + (g / 7) %% 40], (%(servers)s::uuid[])[1 + g %% 200],
       md5('key' || (g %% 500))::uuid, 'tools/call', 'tool-' || (g %% 30),
       CASE WHEN g %% 100 = 0 THEN 502 WHEN g %% 50 = 0 THEN 429 ELSE 200 END,
       g %% 1000, now() - make_interval(secs => (60000 - g) * 43)
FROM generate_series(1, 60000) AS g
"""


# ANALYZE samples 300 x the statistics target rows: 3,000,000, more than the tables hold, so the
# statistics are those of every row, the same on every run.
WHOLE_TABLE_STATISTICS = "SET default_statistics_target = 10000"


@pytest.fixture
def big_logs(transactional_db) -> dict[str, Any]:
    tenants = [TenantFactory.create() for _ in range(40)]
    servers = [McpServerFactory.create(tenant=tenants[i % 40]) for i in range(200)]
    tenant_ids = [str(t.id) for t in tenants]
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_ROWS_SQL, {"tenants": tenant_ids})
        cursor.execute(
            REQUEST_ROWS_SQL, {"tenants": tenant_ids, "servers": [str(s.id) for s in servers]}
        )
        cursor.execute(WHOLE_TABLE_STATISTICS)
        cursor.execute("ANALYZE audit_logs")
        cursor.execute("ANALYZE request_logs")
        cursor.execute("RESET default_statistics_target")
        cursor.execute("SELECT md5('key7')::uuid")
        api_key = str(cursor.fetchone()[0])
    for table in SUMMARISED_TABLES:
        summarise_settled_blocks(table)
    now = dt.datetime.now(dt.UTC)
    return {
        "TENANT": tenant_ids[3],
        "SERVER": str(servers[3].id),
        "SERVER_TENANT": str(servers[3].tenant_id),
        "API_KEY": api_key,
        "ACTOR": "actor-7",
        # A one-day window 15 days back, and the recent past (as typed, in UTC).
        "DAY_15_AGO": f"{now - dt.timedelta(days=15):%Y-%m-%dT%H:%M}",
        "DAY_14_AGO": f"{now - dt.timedelta(days=14):%Y-%m-%dT%H:%M}",
        "HOURS_AGO": f"{now - dt.timedelta(hours=6):%Y-%m-%dT%H:%M}",
    }


# 2,000 rows a day: a day's window, the id blocks it starts and ends in (1,000 ids each), and a
# page, with room to spare; the unbounded walks this guards against read 30,000 to 60,000.
ROW_BUDGET = 5_000
# The id ranges the page looked up before sending its queries.
ID_BOUND = re.compile(r"\bid (>=|<) \d+")
TIME_RANGE = {"period", "since", "until"}


def main_nodes(node: dict) -> Iterator[dict]:
    """The plan's nodes, leaving out InitPlans (the bisection's own probes of the pk)."""
    yield node
    for child in node.get("Plans", []):
        if child.get("Parent Relationship") not in ("InitPlan", "SubPlan"):
            yield from main_nodes(child)


def all_nodes(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("Plans", []):
        yield from all_nodes(child)


def rows_read(root: dict) -> int:
    """Heap rows the scans read over every loop: returned, filtered out, or rechecked away."""
    total = 0
    for node in all_nodes(root):
        if "Relation Name" in node:  # a Bitmap Index Scan reads the index only: not counted
            read = (
                node["Actual Rows"]
                + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Index Recheck", 0)
            )
            total += read * node["Actual Loops"]
    return total


def page_plans(client, url: str, query: dict[str, str], table: str) -> list[dict]:
    """The executed plans of the queries that read the page's rows (one per id range read)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200, response.content.decode()[-3000:]
    page_queries = [
        q["sql"]
        for q in captured
        if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert page_queries
    plans = []
    with connection.cursor() as cursor:
        for sql in page_queries:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            plans.append(plan[0]["Plan"])
    return plans


def page_plan(client, url: str, query: dict[str, str], table: str) -> dict:
    """The plan of a page that reads its rows in one query."""
    (plan,) = page_plans(client, url, query, table)
    return plan


def plan_problems(query: dict[str, str], indexes: set[str], roots: list[dict]) -> list[str]:
    problems = []
    for root in roots:
        nodes = list(main_nodes(root))
        used = {node["Index Name"] for node in nodes if "Index Name" in node}
        if not used & indexes:
            problems.append(f"expected one of {sorted(indexes)}, used {sorted(used)}")
        # The logs must never be scanned whole. The page's per-row name lookups (the actor's
        # email, the key's name: a subquery by primary key) may seq-scan a table of a few test
        # rows where the planner prefers that to the pkey; the row budget below still counts
        # what they read.
        scanned: set[str] = {
            str(node.get("Relation Name"))
            for node in all_nodes(root)
            if node["Node Type"] == "Seq Scan"
        }
        if logs_scanned := scanned & {"audit_logs", "request_logs"}:
            problems.append(f"a Seq Scan of {sorted(logs_scanned)}")
        if TIME_RANGE & set(query):
            for node in nodes:
                if node.get("Index Name", "").endswith("_pkey"):
                    if not ID_BOUND.search(node.get("Index Cond", "")):
                        problems.append(f"a pk walk without an id bound: {node.get('Index Cond')}")
                elif "Index Name" in node and "created_at" not in node.get("Index Cond", ""):
                    problems.append(f"{node['Index Name']} without the time range: {node}")
    if (read := sum(rows_read(root) for root in roots)) > ROW_BUDGET:
        problems.append(f"read {read:,} rows")
    return problems


def check_cases(client, url: str, table: str, cases: list, values: dict[str, str]) -> None:
    failures = []
    for query, indexes in cases:
        query = {k: values.get(v, v) for k, v in query.items()}
        roots = page_plans(client, url, query, table)
        if problems := plan_problems(query, set(indexes), roots):
            failures.append(f"{query}: {'; '.join(problems)}\n{json.dumps(roots)[:3000]}")
    assert not failures, "\n".join(failures)


PKEY = "audit_logs_pkey"
AUDIT_CASES = [
    # Leading filters: their index gives the order, PostgreSQL stops after a page.
    ({}, [PKEY]),
    ({"tenant": "TENANT"}, ["idx_audit_logs_tenant_time"]),
    ({"tenant": "TENANT", "period": "24h"}, ["idx_audit_logs_tenant_time"]),
    ({"tenant": "TENANT", "period": "30d"}, ["idx_audit_logs_tenant_time"]),
    ({"actor": "ACTOR"}, ["idx_audit_logs_actor_time"]),
    (
        {"tenant": "TENANT", "actor": "actor-3", "action": "user.ban"},
        ["idx_security_access_composite"],
    ),
    ({"action": "impersonation."}, ["idx_audit_logs_action_resource"]),
    ({"action": "impersonation.start"}, ["idx_audit_logs_action_resource"]),
    (
        {"action": "impersonation.start", "resource_type": "user", "resource_id": "target-200"},
        ["idx_audit_logs_action_resource"],
    ),
    (
        {"action": "impersonation.start", "resource_type": "none"},
        ["idx_audit_logs_action_resource"],
    ),
    # A resource type and id without an exact action: one probe per action code present.
    ({"resource_type": "user", "resource_id": "target-200"}, ["idx_audit_logs_action_resource"]),
    ({"resource_type": "user", "resource_id": "none"}, ["idx_audit_logs_action_resource"]),
    (
        {"action": "user.", "resource_type": "user", "resource_id": "target-201"},
        ["idx_audit_logs_action_resource"],
    ),
    # A time range alone: an id range on the pk, wherever the range lies.
    ({"since": "DAY_15_AGO", "until": "DAY_14_AGO"}, [PKEY]),
    ({"until": "DAY_14_AGO"}, [PKEY]),
    ({"since": "HOURS_AGO"}, [PKEY]),
    ({"period": "30d"}, [PKEY]),
    # Unindexed filters (matching nothing) within 24 hours: at most that day's rows.
    ({"ip": "192.0.2.1", "period": "24h"}, [PKEY]),
    ({"outcome": "denied", "since": "DAY_15_AGO", "until": "DAY_14_AGO"}, [PKEY]),
    ({"actor_type": "staff", "period": "24h"}, [PKEY]),
    ({"request_id": "00000000-0000-0000-0000-000000000007", "period": "1h"}, [PKEY]),
    ({"resource_type": "none", "since": "HOURS_AGO"}, [PKEY]),
    ({"resource_id": "none", "period": "24h"}, [PKEY]),
    (
        {"ip": "192.0.2.1", "tenant": "TENANT", "period": "24h"},
        ["idx_audit_logs_tenant_time", PKEY],
    ),
    # ... or with an actor: that actor's rows.
    ({"outcome": "denied", "actor": "ACTOR"}, ["idx_audit_logs_actor_time"]),
]


@pytest.mark.django_db(transaction=True)
def test_every_accepted_audit_log_filter_reads_a_bounded_number_of_rows(auditor, big_logs):
    # One data set for every case: loading it is most of the test's time.
    client = auditor.client()
    check_cases(client, "/audit/logs/", "audit_logs", AUDIT_CASES, big_logs)
    # An action prefix is an index range (LIKE uses a btree only in the "C" collation).
    root = page_plan(client, "/audit/logs/", {"action": "impersonation."}, "audit_logs")
    assert "action >= 'impersonation.'::text" in json.dumps(root)
    assert "action < 'impersonation/'::text" in json.dumps(root)


@pytest.mark.django_db(transaction=True)
def test_the_plan_check_catches_an_unbounded_walk(auditor, big_logs):
    """Without the id range, the same filter walks the pk past every newer row: it fails."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM audit_logs WHERE created_at >= "
            "now() - interval '15 days' AND created_at < now() - interval '14 days' "
            "ORDER BY id DESC LIMIT 101"
        )
        plan = cursor.fetchone()[0]
    root = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    problems = plan_problems({"since": "x"}, {PKEY}, [root])
    assert any("without an id bound" in p for p in problems)
    assert any(p.startswith("read ") for p in problems)


REQUEST_PKEY = "request_logs_pkey"
REQUEST_CASES = [
    ({}, [REQUEST_PKEY]),
    ({"tenant": "TENANT"}, ["idx_request_logs_tenant_time"]),
    ({"tenant": "TENANT", "period": "24h"}, ["idx_request_logs_tenant_time"]),
    ({"server": "SERVER"}, ["idx_request_logs_server_time"]),
    ({"tenant": "SERVER_TENANT", "server": "SERVER"}, ["idx_tenant_utilization_composite"]),
    ({"status": "5xx"}, ["idx_request_logs_errors"]),
    ({"status": "4xx"}, ["idx_request_logs_errors"]),
    ({"api_key": "API_KEY"}, ["idx_request_logs_api_key"]),
    ({"api_key": "API_KEY", "method": "tools/list"}, ["idx_request_logs_api_key"]),
    (
        {"server": "SERVER", "tool": "tool-3"},
        ["idx_request_routing_composite", "idx_request_logs_server_time"],
    ),
    # A time range alone (request_logs has no index on created_at at all).
    ({"since": "DAY_15_AGO", "until": "DAY_14_AGO"}, [REQUEST_PKEY]),
    ({"until": "DAY_14_AGO"}, [REQUEST_PKEY]),
    ({"period": "7d"}, [REQUEST_PKEY]),
    # Unindexed filters (matching nothing) within 24 hours.
    ({"method": "tools/list", "period": "24h"}, [REQUEST_PKEY]),
    ({"tool": "none", "since": "DAY_15_AGO", "until": "DAY_14_AGO"}, [REQUEST_PKEY]),
    ({"min_duration": "5000", "period": "24h"}, [REQUEST_PKEY]),
    ({"user": "nobody", "period": "24h"}, [REQUEST_PKEY]),
    ({"status": "3xx", "period": "24h"}, [REQUEST_PKEY]),
    ({"status": "4xx", "method": "tools/list", "period": "24h"}, ["idx_request_logs_errors"]),
]


@pytest.mark.django_db(transaction=True)
def test_every_accepted_request_log_filter_reads_a_bounded_number_of_rows(auditor, big_logs):
    check_cases(auditor.client(), "/audit/requests/", "request_logs", REQUEST_CASES, big_logs)
