"""The contract's functions and views, checked against numbers computed here from known rows."""

import datetime as dt
import math
import uuid
from collections.abc import Sequence

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import RequestLog
from registry.models import McpServer
from security.models import ApiKey
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def percentile_cont(values: Sequence[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _rows(sql: str, params: list | None = None) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def tenant():
    return Tenant.unscoped.create(name="Acme", slug="acme")


def _server(tenant, name, **kwargs):
    return McpServer.unscoped.create(
        tenant=tenant, name=name, endpoint_url=f"https://{name}.example", **kwargs
    )


def _log(server, created_at, status, duration, tenant_id=None, **kwargs):
    log = RequestLog.unscoped.create(
        tenant_id=tenant_id or server.tenant_id,
        server=server,
        method="tools/call",
        status_code=status,
        duration_ms=duration,
        **kwargs,
    )
    RequestLog.unscoped.filter(pk=log.pk).update(created_at=created_at)
    return log


def test_server_health_summary(tenant):
    now = timezone.now()
    _server(
        tenant,
        "a",
        health_status="healthy",
        avg_response_time_ms=10,
        success_rate=1.0,
        last_health_check_at=now,
    )
    _server(
        tenant,
        "b",
        health_status="healthy",
        avg_response_time_ms=30,
        success_rate=0.5,
        last_health_check_at=now - dt.timedelta(minutes=6),
    )
    _server(tenant, "c", health_status="unhealthy", avg_response_time_ms=500, success_rate=0.1)
    _server(tenant, "d", health_status="healthy", is_active=False, avg_response_time_ms=999)

    rows = {r["health_status"]: r for r in _rows("SELECT * FROM get_server_health_summary()")}
    assert set(rows) == {"healthy", "unhealthy"}
    assert rows["healthy"]["server_count"] == 2
    assert rows["healthy"]["avg_response_time_ms"] == pytest.approx(20)
    assert rows["healthy"]["avg_success_rate"] == pytest.approx(0.75)
    assert rows["healthy"]["stale_check_count"] == 1
    assert rows["unhealthy"]["server_count"] == 1
    assert rows["unhealthy"]["stale_check_count"] == 1  # never checked


def test_request_performance_summary(tenant):
    now = timezone.now()
    server = _server(tenant, "perf")
    quiet = _server(tenant, "quiet")
    durations = [5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 997]
    statuses = [200] * 16 + [404, 500, 503, 200]
    for i, (duration, status) in enumerate(zip(durations, statuses, strict=True)):
        _log(server, now - dt.timedelta(minutes=i), status, duration)
    _log(server, now - dt.timedelta(hours=30), 500, 10_000)  # outside 24 hours
    _log(quiet, now - dt.timedelta(hours=30), 200, 1)

    rows = _rows("SELECT * FROM get_request_performance_summary(24)")
    assert len(rows) == 1
    row = rows[0]
    assert row["server_id"] == server.id and row["server_name"] == "perf"
    assert row["tenant_id"] == tenant.id
    assert row["total_requests"] == 20
    assert row["error_count"] == 3
    assert row["error_rate"] == pytest.approx(3 / 20)
    assert row["avg_duration_ms"] == pytest.approx(sum(durations) / 20)
    assert row["p50_duration_ms"] == pytest.approx(percentile_cont(durations, 0.5))
    assert row["p95_duration_ms"] == pytest.approx(percentile_cont(durations, 0.95))
    assert row["p95_duration_ms"] == pytest.approx(73 + (997 - 73) * 0.05)

    week = _rows("SELECT * FROM get_request_performance_summary(168)")
    assert {r["server_name"]: r["total_requests"] for r in week} == {"perf": 21, "quiet": 1}


def test_tenant_usage_summary(tenant):
    now = timezone.now()
    other = Tenant.unscoped.create(name="Other", slug="other")
    s1, s2 = _server(tenant, "s1"), _server(tenant, "s2")
    _server(tenant, "off", is_active=False)
    other_server = _server(other, "x")
    logs = [
        (s1, 200, 10, "alice", "search"),
        (s1, 200, 20, "bob", "search"),
        (s2, 500, 30, "alice", "fetch"),
        (s2, 200, 40, None, None),
        (s1, 429, 100, "carol", "search"),
    ]
    for i, (server, status, duration, user_id, tool) in enumerate(logs):
        _log(
            server, now - dt.timedelta(minutes=i), status, duration, user_id=user_id, tool_name=tool
        )
    _log(s1, now - dt.timedelta(hours=25), 200, 5000, user_id="dave")  # outside 24 hours
    _log(other_server, now, 200, 1, user_id="eve")  # another tenant
    ApiKey.unscoped.create(tenant=tenant, name="live", key_prefix="p1", key_hash="h1")
    ApiKey.unscoped.create(
        tenant=tenant,
        name="revoked",
        key_prefix="p2",
        key_hash="h2",
        is_active=False,
        revoked_at=now,
    )
    ApiKey.unscoped.create(
        tenant=tenant,
        name="expired",
        key_prefix="p3",
        key_hash="h3",
        expires_at=now - dt.timedelta(days=1),
    )
    ApiKey.unscoped.create(tenant=other, name="theirs", key_prefix="p4", key_hash="h4")

    (row,) = _rows("SELECT * FROM get_tenant_usage_summary(%s, 24)", [tenant.id])
    durations = [d for _, _, d, _, _ in logs]
    assert row["tenant_id"] == tenant.id
    assert row["total_requests"] == 5
    assert row["error_count"] == 2
    assert row["distinct_users"] == 3
    assert row["servers_used"] == 2
    assert row["tools_used"] == 2
    assert row["avg_duration_ms"] == pytest.approx(sum(durations) / 5)
    assert row["p95_duration_ms"] == pytest.approx(percentile_cont(durations, 0.95))
    assert row["active_api_keys"] == 1
    assert row["active_servers"] == 2


def test_tenant_usage_summary_of_an_idle_tenant_is_one_row_of_zeros():
    (row,) = _rows("SELECT * FROM get_tenant_usage_summary(%s)", [uuid.uuid4()])
    assert row["total_requests"] == 0 and row["active_api_keys"] == 0
    assert row["p95_duration_ms"] is None


VIEW_COLUMNS = {
    "database_size_summary": [
        "table_name",
        "estimated_rows",
        "total_bytes",
        "table_bytes",
        "index_bytes",
        "toast_bytes",
        "total_size",
    ],
    "index_usage_summary": [
        "table_name",
        "index_name",
        "index_scans",
        "tuples_read",
        "tuples_fetched",
        "index_bytes",
        "index_size",
        "never_used",
    ],
    "performance_monitoring": ["metric_name", "metric_value", "unit", "captured_at"],
}


@pytest.mark.parametrize("view", VIEW_COLUMNS)
def test_views_return_the_expected_columns(view):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {view} LIMIT 0")
        assert [c.name for c in cursor.description] == VIEW_COLUMNS[view]


def test_database_size_summary_covers_the_contract_tables():
    tables = {r["table_name"] for r in _rows("SELECT * FROM database_size_summary")}
    assert {"user", "audit_logs", "request_logs", "api_keys", "tenants"} <= tables
    assert not any(t.startswith(("auth_", "django_")) for t in tables)


def test_index_usage_summary_flags_unused_indexes():
    rows = {r["index_name"]: r for r in _rows("SELECT * FROM index_usage_summary")}
    assert rows["idx_request_logs_errors"]["table_name"] == "request_logs"
    assert all(r["never_used"] == (r["index_scans"] == 0) for r in rows.values())


def test_performance_monitoring_metrics(tenant):
    now = timezone.now()
    server = _server(tenant, "m", health_status="unhealthy")
    for status, duration in [(200, 10), (500, 20), (200, 30), (200, 40)]:
        _log(server, now - dt.timedelta(minutes=5), status, duration)
    _log(server, now - dt.timedelta(hours=2), 500, 999)
    ApiKey.unscoped.create(
        tenant=tenant,
        name="soon",
        key_prefix="p1",
        key_hash="h1",
        expires_at=now + dt.timedelta(days=3),
    )
    ApiKey.unscoped.create(
        tenant=tenant,
        name="later",
        key_prefix="p2",
        key_hash="h2",
        expires_at=now + dt.timedelta(days=30),
    )
    metrics = {r["metric_name"]: r for r in _rows("SELECT * FROM performance_monitoring")}
    assert metrics["requests_last_hour"]["metric_value"] == 4
    assert metrics["error_rate_last_hour"]["metric_value"] == pytest.approx(0.25)
    assert metrics["p95_duration_last_hour"]["metric_value"] == pytest.approx(
        percentile_cont([10, 20, 30, 40], 0.95)
    )
    assert metrics["unhealthy_servers"]["metric_value"] == 1
    assert metrics["api_keys_expiring_7d"]["metric_value"] == 1
    assert 0 <= metrics["cache_hit_ratio"]["metric_value"] <= 1
    assert metrics["connections"]["metric_value"] >= 1


def test_all_38_contract_indexes_exist():
    from backoffice.contract.report import contract_index_names

    names = {
        r["indexname"]
        for r in _rows("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
    }
    expected = contract_index_names()
    assert len(expected) == 38
    assert expected <= names


# The contract's 38 indexes as schema-contract.md defines them (table, method and columns, and
# the partial index's condition), written out here rather than read back from the migrations, so a
# changed column, order, method or condition fails this test.
CONTRACT_INDEXES: dict[str, tuple[str, str, str]] = {
    "idx_accounts_provider": ("account", "btree (provider_id, account_id)", ""),
    "idx_accounts_user": ("account", "btree (user_id)", ""),
    "idx_api_keys_expiration": ("api_keys", "btree (expires_at)", "is_active = true"),
    "idx_api_keys_tenant_active": ("api_keys", "btree (tenant_id, is_active)", ""),
    "idx_api_keys_usage": (
        "api_keys",
        "btree (last_used_at DESC, usage_count)",
        "is_active = true",
    ),
    "idx_api_keys_user": ("api_keys", "btree (user_id)", ""),
    "idx_audit_logs_action_resource": (
        "audit_logs",
        "btree (action, resource_type, resource_id)",
        "",
    ),
    "idx_audit_logs_actor_time": ("audit_logs", "btree (actor_id, created_at DESC)", ""),
    "idx_audit_logs_created_brin": ("audit_logs", "brin (created_at)", ""),
    "idx_audit_logs_tenant_time": ("audit_logs", "btree (tenant_id, created_at DESC)", ""),
    "idx_health_checks_server_time": (
        "server_health_checks",
        "btree (server_id, checked_at DESC)",
        "",
    ),
    "idx_mcp_servers_created_by": ("mcp_servers", "btree (created_by)", ""),
    "idx_mcp_servers_endpoint_transport": (
        "mcp_servers",
        "btree (endpoint_url, transport_type)",
        "",
    ),
    "idx_mcp_servers_health_check_time": (
        "mcp_servers",
        "btree (last_health_check_at)",
        "is_active = true",
    ),
    "idx_mcp_servers_performance": (
        "mcp_servers",
        "btree (avg_response_time_ms, success_rate)",
        "health_status = 'healthy'::server_health",
    ),
    "idx_mcp_servers_tags": ("mcp_servers", "gin (tags)", ""),
    "idx_mcp_servers_tenant_status": ("mcp_servers", "btree (tenant_id, health_status)", ""),
    "idx_request_logs_api_key": ("request_logs", "btree (api_key_id, created_at DESC)", ""),
    "idx_request_logs_errors": ("request_logs", "btree (created_at DESC)", "status_code >= 400"),
    "idx_request_logs_server_time": ("request_logs", "btree (server_id, created_at DESC)", ""),
    "idx_request_logs_tenant_time": ("request_logs", "btree (tenant_id, created_at DESC)", ""),
    "idx_request_routing_composite": (
        "request_logs",
        "btree (server_id, tool_name, status_code, created_at DESC)",
        "",
    ),
    "idx_resources_server": ("mcp_resources", "btree (server_id)", ""),
    "idx_security_access_composite": (
        "audit_logs",
        "btree (tenant_id, actor_id, action, created_at DESC)",
        "",
    ),
    "idx_servers_discovery_composite": (
        "mcp_servers",
        "btree (tenant_id, is_active, health_status, transport_type)",
        "",
    ),
    "idx_sessions_activity_time": ("session", "btree (last_activity_at DESC)", "is_active = true"),
    "idx_sessions_expires_at": ("session", "btree (expires_at)", ""),
    "idx_sessions_impersonated_by": (
        "session",
        "btree (impersonated_by, created_at DESC)",
        "impersonated_by IS NOT NULL",
    ),
    "idx_sessions_user_active": ("session", "btree (user_id, is_active, expires_at)", ""),
    "idx_tenant_utilization_composite": (
        "request_logs",
        "btree (tenant_id, server_id, created_at DESC)",
        "",
    ),
    "idx_tools_discovery_performance": (
        "mcp_tools",
        "btree (server_id, is_enabled, avg_execution_time_ms)",
        "",
    ),
    "idx_tools_name": ("mcp_tools", "btree (name)", ""),
    "idx_tools_server": ("mcp_tools", "btree (server_id)", ""),
    "idx_users_auth_provider": ('"user"', "btree (auth_provider)", "auth_provider IS NOT NULL"),
    "idx_users_banned": ('"user"', "btree (ban_expires)", "banned = true"),
    "idx_users_created_at": ('"user"', "btree (created_at DESC)", ""),
    "idx_users_tenant_role": ('"user"', "btree (tenant_id, role, is_active)", ""),
    "idx_verification_identifier": ("verification", "btree (identifier)", ""),
}


def test_the_38_indexes_are_defined_as_the_contract_says():
    live = {
        r["indexname"]: r["definition"]
        for r in _rows(
            "SELECT indexname, regexp_replace(indexdef, '^CREATE INDEX \\S+ ON public\\.', '')"
            " AS definition FROM pg_indexes WHERE schemaname = 'public'"
        )
    }
    assert len(CONTRACT_INDEXES) == 38
    expected = {
        name: f"{table} USING {using}" + (f" WHERE ({where})" if where else "")
        for name, (table, using, where) in CONTRACT_INDEXES.items()
    }
    wrong = {
        name: live.get(name, "missing")
        for name, definition in expected.items()
        if live.get(name) != definition
    }
    assert not wrong, wrong
