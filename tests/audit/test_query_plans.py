"""The explorers' page queries use the contract index meant for their filter (EXPLAIN).

The queries are the ones the pages really send (captured), explained on tables with enough rows
and fresh statistics that PostgreSQL chooses as it would on a big gateway database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.factories import McpServerFactory
from tenants.factories import TenantFactory

AUDIT_ROWS_SQL = """
INSERT INTO audit_logs (tenant_id, actor_id, actor_type, action, resource_type, resource_id,
                        outcome, created_at)
SELECT (%(tenants)s::uuid[])[1 + g %% 40], 'actor-' || (g %% 400), 'user',
       CASE WHEN g %% 200 = 0 THEN 'impersonation.start'
            ELSE (ARRAY['user.ban', 'user.unban', 'api_key.revoke', 'tool.call'])[1 + g %% 4] END,
       'user', 'target-' || g, 'success', now() - make_interval(secs => 60000 - g)
FROM generate_series(1, 60000) AS g
"""
REQUEST_ROWS_SQL = """
INSERT INTO request_logs (tenant_id, server_id, api_key_id, method, tool_name, status_code,
                          duration_ms, created_at)
SELECT (%(tenants)s::uuid[])[1 + (g / 7) %% 40], (%(servers)s::uuid[])[1 + g %% 200],
       md5('key' || (g %% 500))::uuid, 'tools/call', 'tool-' || (g %% 30),
       CASE WHEN g %% 100 = 0 THEN 502 WHEN g %% 50 = 0 THEN 429 ELSE 200 END,
       g %% 1000, now() - make_interval(secs => 60000 - g)
FROM generate_series(1, 60000) AS g
"""


@pytest.fixture
def big_logs(db) -> dict[str, Any]:
    tenants = [TenantFactory.create() for _ in range(40)]
    servers = [McpServerFactory.create(tenant=tenants[i % 40]) for i in range(200)]
    tenant_ids = [str(t.id) for t in tenants]
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_ROWS_SQL, {"tenants": tenant_ids})
        cursor.execute(
            REQUEST_ROWS_SQL, {"tenants": tenant_ids, "servers": [str(s.id) for s in servers]}
        )
        cursor.execute("ANALYZE audit_logs")
        cursor.execute("ANALYZE request_logs")
        cursor.execute("SELECT md5('key7')::uuid")
        api_key = str(cursor.fetchone()[0])
    return {"tenant": tenant_ids[3], "server": servers[3], "api_key": api_key}


def index_names(plan: Any) -> Iterator[str]:
    if isinstance(plan, dict):
        if "Index Name" in plan:
            yield plan["Index Name"]
        for value in plan.values():
            yield from index_names(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from index_names(value)


def scans(plan: Any) -> Iterator[str]:
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            yield plan["Node Type"]
        for value in plan.values():
            yield from scans(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from scans(value)


def page_plan(client, url: str, query: dict[str, str], table: str) -> Any:
    """The plan of the query that read the page's rows, as the page sent it."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200, response.content[:2000]
    (sql,) = [
        q["sql"]
        for q in captured
        if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    return json.loads(plan) if isinstance(plan, str) else plan


AUDIT_CASES = [
    ({}, "audit_logs_pkey"),
    ({"tenant": "TENANT"}, "idx_audit_logs_tenant_time"),
    ({"tenant": "TENANT", "period": "24h"}, "idx_audit_logs_tenant_time"),
    ({"actor": "actor-7"}, "idx_audit_logs_actor_time"),
    (
        {"tenant": "TENANT", "actor": "actor-3", "action": "user.ban"},
        "idx_security_access_composite",
    ),
    ({"action": "impersonation."}, "idx_audit_logs_action_resource"),
    ({"action": "impersonation.start"}, "idx_audit_logs_action_resource"),
    (
        {"action": "impersonation.start", "resource_type": "user", "resource_id": "target-200"},
        "idx_audit_logs_action_resource",
    ),
]


@pytest.mark.django_db
def test_audit_log_pages_use_their_index(auditor, big_logs):
    # One data set for every case: loading it is most of the test's time.
    client = auditor.client()
    failures = []
    for query, index in AUDIT_CASES:
        query = {k: big_logs["tenant"] if v == "TENANT" else v for k, v in query.items()}
        plan = page_plan(client, "/audit/logs/", query, "audit_logs")
        if index not in set(index_names(plan)) or "Seq Scan" in set(scans(plan)):
            failures.append(f"{query}: expected {index}, got {json.dumps(plan)}")
    assert not failures, "\n".join(failures)
    # An action prefix is an index range (LIKE uses a btree only in the "C" collation).
    plan = json.dumps(page_plan(client, "/audit/logs/", {"action": "impersonation."}, "audit_logs"))
    assert "action >= 'impersonation.'::text" in plan
    assert "action < 'impersonation/'::text" in plan


REQUEST_CASES = [
    ({}, "request_logs_pkey"),
    ({"tenant": "TENANT"}, "idx_request_logs_tenant_time"),
    ({"tenant": "TENANT", "period": "24h"}, "idx_request_logs_tenant_time"),
    ({"server": "SERVER"}, "idx_request_logs_server_time"),
    ({"tenant": "SERVER_TENANT", "server": "SERVER"}, "idx_tenant_utilization_composite"),
    ({"status": "5xx"}, "idx_request_logs_errors"),
    ({"api_key": "API_KEY"}, "idx_request_logs_api_key"),
]


@pytest.mark.django_db
def test_request_log_pages_use_their_index(auditor, big_logs):
    server = big_logs["server"]
    values = {
        "TENANT": big_logs["tenant"],
        "SERVER": str(server.id),
        "SERVER_TENANT": str(server.tenant_id),
        "API_KEY": big_logs["api_key"],
    }
    client = auditor.client()
    failures = []
    for query, index in REQUEST_CASES:
        query = {k: values.get(v, v) for k, v in query.items()}
        plan = page_plan(client, "/audit/requests/", query, "request_logs")
        if index not in set(index_names(plan)) or "Seq Scan" in set(scans(plan)):
            failures.append(f"{query}: expected {index}, got {json.dumps(plan)}")
    assert not failures, "\n".join(failures)
