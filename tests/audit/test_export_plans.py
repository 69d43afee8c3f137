"""Exports read their rows in index order, so the first bytes leave before the last row is read.

A COPY whose query the planner sorts sends nothing until the sort ends (27 s cold at 10M rows).
The queries are the ones the export URLs really send, captured on their way to COPY, then
planned on the same table after the export's own preparation of its transaction.

The tables here hold 10,000 rows, so ``SORT_ROWS_LIMIT`` is lowered to 100 to stand for the
million rows above which an export stops sorting; ``effective_cache_size`` is lowered so that the
planner prices reading them as for a log far larger than memory (10M rows are 2.4 GB).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction

import audit.exports

SORTS = {"Sort", "Incremental Sort"}


def nodes(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def captured_export_query(client, url: str, query: dict[str, str], monkeypatch) -> tuple[str, Any]:
    """The SELECT an export URL hands to COPY, and its parameters."""
    captured: list[tuple[str, str, Any]] = []

    def capture(sql: str, select_sql: str, params: Any, using: str) -> Iterator[bytes]:
        assert using == "default"  # no replica configured: the COPY reads the primary
        captured.append((sql, select_sql, params))
        return iter([b""])

    monkeypatch.setattr(audit.exports, "stream_copy", capture)
    response = client.get(url, query)
    assert response.status_code == 200, response.content[:500]
    ((sql, select_sql, params),) = captured
    assert sql.startswith(f"COPY ({select_sql}) TO STDOUT")
    return select_sql, params


def plan(
    select: str, params: Any, *, as_exported: bool, seq_scans: bool = True
) -> tuple[dict, bool]:
    """The plan of ``select`` (after the export's preparation), and whether it chose index order.

    ``seq_scans=False`` prices sequential scans out, as on tables too large to scan.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL effective_cache_size = '8kB'")
        if not seq_scans:
            cursor.execute("SET LOCAL enable_seqscan = off")
        index_order = as_exported and audit.exports.prepare_export(cursor, select, params)
        cursor.execute("EXPLAIN (FORMAT JSON) " + select, params)
        explained = cursor.fetchone()[0]
        # Roll the savepoint back: SET LOCAL would otherwise last until the test's transaction ends.
        transaction.set_rollback(True)
    explained = json.loads(explained) if isinstance(explained, str) else explained
    return explained[0]["Plan"], index_order


@pytest.fixture
def large_sorts(monkeypatch) -> None:
    monkeypatch.setattr(audit.exports, "SORT_ROWS_LIMIT", 100)


# Rows written in shuffled id order (a backfill or an import), so the heap's order says nothing
# about the primary key's and the planner, left alone, sorts rather than walk the whole index.
SHUFFLED_AUDIT_LOGS_SQL = """
INSERT INTO audit_logs (id, tenant_id, actor_id, actor_type, action, outcome, created_at)
OVERRIDING SYSTEM VALUE
SELECT base + g, CASE WHEN g %% 2 = 0 THEN %(tenant)s::uuid END, 'bulk-actor', 'user',
       'tool.call', 'success', now() - make_interval(secs => g)
FROM generate_series(1, 10000) AS g, (SELECT coalesce(max(id), 0) AS base FROM audit_logs) AS b
ORDER BY random()
"""
SHUFFLED_REQUEST_LOGS_SQL = """
INSERT INTO request_logs (id, tenant_id, method, status_code, duration_ms, created_at)
OVERRIDING SYSTEM VALUE
SELECT base + g, %(tenant)s, 'tools/call', CASE WHEN g %% 10 = 0 THEN 500 ELSE 200 END, 5,
       now() - make_interval(secs => g)
FROM generate_series(1, 10000) AS g, (SELECT coalesce(max(id), 0) AS base FROM request_logs) AS b
ORDER BY random()
"""


@pytest.fixture
def many_logs(db, tenant_a):
    with connection.cursor() as cursor:
        for table, sql in [
            ("audit_logs", SHUFFLED_AUDIT_LOGS_SQL),
            ("request_logs", SHUFFLED_REQUEST_LOGS_SQL),
        ]:
            cursor.execute(sql, {"tenant": tenant_a.id})
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
            cursor.execute(f"ANALYZE {table}")


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_a_whole_table_export_reads_the_primary_key_backwards_without_sorting(
    auditor, many_logs, large_sorts, monkeypatch, file_format
):
    select, params = captured_export_query(
        auditor.client(), f"/audit/logs/export.{file_format}", {}, monkeypatch
    )
    # Left alone, the planner sorts the whole table: the check below is not passing by luck.
    alone, _ = plan(select, params, as_exported=False)
    assert {n["Node Type"] for n in nodes(alone)} & SORTS
    exported, index_order = plan(select, params, as_exported=True)
    assert index_order
    assert not [n["Node Type"] for n in nodes(exported) if n["Node Type"] in SORTS]
    scans = [n for n in nodes(exported) if n.get("Index Name") == "audit_logs_pkey"]
    assert scans and scans[0]["Scan Direction"] == "Backward"


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/audit/requests/export.csv", {}),
        ("/audit/requests/export.csv", {"status": "5xx"}),
        ("/audit/logs/export.jsonl", {"action": "tool."}),
    ],
)
def test_filtered_exports_have_no_sort_node(
    auditor, many_logs, large_sorts, monkeypatch, url, query
):
    select, params = captured_export_query(auditor.client(), url, query, monkeypatch)
    exported, _ = plan(select, params, as_exported=True)
    assert not [n["Node Type"] for n in nodes(exported) if n["Node Type"] == "Sort"]


def test_a_tenant_export_streams_from_the_tenant_time_index(
    auditor, tenant_a, many_logs, large_sorts, monkeypatch
):
    select, params = captured_export_query(
        auditor.client(), "/audit/logs/export.csv", {"tenant": str(tenant_a.id)}, monkeypatch
    )
    exported, _ = plan(select, params, as_exported=True)
    # Ties on created_at are put in id order group by group (an Incremental Sort passes each
    # group on as soon as it ends), never the whole result at once.
    assert not [n for n in nodes(exported) if n["Node Type"] == "Sort"]
    assert any(
        n.get("Index Name") in {"idx_audit_logs_tenant_time", "idx_security_access_composite"}
        for n in nodes(exported)
    )


def test_a_sort_below_the_limit_is_left_to_the_planner(auditor, many_logs, monkeypatch):
    """10,000 rows sort in milliseconds: the export keeps the plan the planner prefers."""
    select, params = captured_export_query(
        auditor.client(), "/audit/logs/export.csv", {}, monkeypatch
    )
    exported, index_order = plan(select, params, as_exported=True)
    assert not index_order
    assert any(n["Node Type"] == "Sort" for n in nodes(exported))


def test_the_export_file_is_the_same_in_index_order(auditor, many_logs, monkeypatch):
    client = auditor.client()
    whole = b"".join(client.get("/audit/logs/export.csv").streaming_content)  # type: ignore[attr-defined]
    monkeypatch.setattr(audit.exports, "SORT_ROWS_LIMIT", 100)
    indexed = b"".join(client.get("/audit/logs/export.csv").streaming_content)  # type: ignore[attr-defined]

    def logged(export: bytes) -> list[bytes]:  # without the rows the exports themselves wrote
        return [line for line in export.split(b"\n") if b"audit_log.export" not in line]

    assert len(logged(whole)) > 10_000
    assert logged(indexed) == logged(whole)


NAMED_TABLES = {"user", "api_keys", "mcp_servers", "tenants"}


@pytest.mark.parametrize(
    "url", ["/audit/logs/export.csv", "/audit/requests/export.csv", "/audit/requests/export.jsonl"]
)
def test_the_names_beside_the_ids_are_primary_key_probes(
    auditor, many_logs, large_sorts, monkeypatch, url
):
    select, params = captured_export_query(auditor.client(), url, {}, monkeypatch)
    # The test's tenants and users fit in one page, which the planner may rightly scan whole
    # (or not, depending on whether autovacuum has analysed them yet): price sequential scans out,
    # as a gateway's tables of thousands of users do, so the plan shows what the query's shape
    # allows. A join that needs every row of a table would then read its whole index instead.
    exported, _ = plan(select, params, as_exported=True, seq_scans=False)
    named = [n for n in nodes(exported) if n.get("Relation Name") in NAMED_TABLES]
    assert named, "the export names nothing"
    # Each name is an index probe on its table's primary key (an index condition on the id),
    # never a scan of the whole table or its whole index (nor a hash join that reads it all
    # first), and adds no sort.
    assert all(n["Node Type"] in {"Index Scan", "Index Only Scan"} for n in named), [
        (n["Node Type"], n.get("Relation Name")) for n in named
    ]
    assert all(n["Index Name"].endswith("_pkey") and "Index Cond" in n for n in named), named
    assert not [n for n in nodes(exported) if n["Node Type"] == "Sort"]
