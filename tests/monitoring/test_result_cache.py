"""Analytics results are stored per (function, arguments), read by pages without running the
function again, and refreshed by ``refresh_analytics`` once across machines. Both stores: the
table (the default, what a fresh machine runs) and Redis (the real service where it runs)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.factories import RequestLogFactory
from audit.models import RequestLog
from monitoring import result_cache
from monitoring.models import AnalyticsResult
from tests.monitoring.conftest import function_rows

pytestmark = pytest.mark.django_db

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_is_required() -> bool:
    """In CI (and wherever Redis is configured) a missing Redis fails these tests."""
    return any(os.environ.get(name) for name in ("CI", "REDIS_URL", "REQUIRE_REDIS"))


@pytest.fixture
def redis_store() -> Iterator[result_cache.RedisStore]:
    import redis

    store = result_cache.RedisStore(TEST_REDIS_URL, prefix=f"test-{uuid.uuid4()}:")
    try:
        store.client.ping()
    except redis.exceptions.ConnectionError as error:
        if redis_is_required():
            pytest.fail(f"Redis at {TEST_REDIS_URL} is required here (CI) but unreachable: {error}")
        pytest.skip(
            f"no Redis at {TEST_REDIS_URL} (set TEST_REDIS_URL to run the Redis store tests)"
        )
    yield store
    for key in store.client.scan_iter(match=store.prefix + "*"):
        store.client.delete(key)


@pytest.fixture(params=["table", "redis"])
def store(request) -> result_cache.ResultStore:
    if request.param == "table":
        return result_cache.TableStore()
    return request.getfixturevalue("redis_store")


def _function_calls(queries: CaptureQueriesContext, name: str) -> int:
    return sum(1 for q in queries.captured_queries if name in q["sql"])


def test_first_read_computes_then_reads_the_stored_result(store, traffic):
    first = result_cache.read("request_performance", [24], store)
    assert first.computed_now
    assert first.rows and first.cost_ms >= 0
    with CaptureQueriesContext(connection) as queries:
        second = result_cache.read("request_performance", [24], store)
    assert _function_calls(queries, "get_request_performance_summary") == 0
    assert not second.computed_now
    assert second.rows == first.rows
    assert second.computed_at == first.computed_at


def test_rows_are_the_functions_own_with_their_types(store, traffic, tenant_a):
    result = result_cache.read("tenant_usage", [tenant_a.pk, 24], store)
    (expected,) = function_rows("SELECT * FROM get_tenant_usage_summary(%s, 24)", [tenant_a.pk])
    assert result.typed_rows() == [expected]


def test_new_rows_appear_after_a_refresh_not_before(store, traffic):
    result_cache.read("request_performance", [24], store)
    RequestLog.unscoped.bulk_create(
        RequestLogFactory.build_batch(7, server=traffic.b_server, created_at=timezone.now())
    )
    before = result_cache.read("request_performance", [24], store)
    b_row = next(r for r in before.typed_rows() if r["server_id"] == traffic.b_server.pk)
    assert b_row["total_requests"] == 2
    key = result_cache.result_key("request_performance", [24])
    _age(store, key, dt.timedelta(minutes=1))
    report = result_cache.refresh(store)
    assert key in [k for k, _ in report.refreshed]
    after = result_cache.read("request_performance", [24], store)
    expected = function_rows("SELECT * FROM get_request_performance_summary(24)")
    assert after.typed_rows() == expected
    b_row = next(r for r in after.typed_rows() if r["server_id"] == traffic.b_server.pk)
    assert b_row["total_requests"] == 9


def _age(store, key: str, by: dt.timedelta) -> None:
    """Make a stored result look ``by`` older, as time passing would."""
    found = store.get(key)
    store.put(key, result_cache.Result(**{**found.__dict__, "computed_at": found.computed_at - by}))


def test_refresh_leaves_a_result_refreshed_moments_ago(store, traffic):
    result_cache.read("request_performance", [24], store)
    report = result_cache.refresh(store)
    assert result_cache.result_key("request_performance", [24]) in report.skipped


def test_refresh_skips_a_result_another_machine_is_refreshing(store, traffic):
    key = result_cache.result_key("request_performance", [24])
    result_cache.read("request_performance", [24], store)
    _age(store, key, dt.timedelta(minutes=5))
    lock = "hashtext('monitoring.result_cache:' || %s)"
    other = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    try:
        other.execute(f"SELECT pg_advisory_lock({lock})", [key])
        with CaptureQueriesContext(connection) as queries:
            report = result_cache.refresh(store)
        assert key in report.skipped
        assert _function_calls(queries, "get_request_performance_summary(%s)") == 0
        # Released by the other machine before the next refresh, for certain: closing the
        # connection alone releases it only when its backend has exited, which the server does
        # after close() returns (a refresh right after it once still found the lock held).
        other.execute(f"SELECT pg_advisory_unlock({lock})", [key])
    finally:
        other.close()
    report = result_cache.refresh(store)
    assert key in [k for k, _ in report.refreshed]


def test_results_nobody_asks_for_are_not_refreshed(store, traffic, tenant_a):
    result_cache.read("tenant_usage", [tenant_a.pk, 6], store)
    key = result_cache.result_key("tenant_usage", [str(tenant_a.pk), 6])
    _age(store, key, dt.timedelta(minutes=5))
    assert key in [k for k, _ in result_cache.refresh(store).refreshed]
    _age(store, key, dt.timedelta(minutes=5))
    store.forget_unrequested(timezone.now() + dt.timedelta(seconds=1))
    assert key not in [k for k, _ in result_cache.refresh(store).refreshed]


def test_the_page_says_computed_now_the_first_time_then_data_as_of(admin, traffic):
    client = admin.client()
    first = client.get("/analytics/performance/", {"hours": 24}).content.decode()
    assert "computed just now, while you waited" in first
    second = client.get("/analytics/performance/", {"hours": 24}).content.decode()
    stored = AnalyticsResult.objects.get(key=result_cache.result_key("request_performance", [24]))
    assert "Data as of " + timezone.localtime(stored.computed_at).strftime("%Y-%m-%d %H:%M:%S") in (
        second
    )
    assert f"computing it took {stored.cost_ms:,.0f} ms" in second
    assert "refresh is behind" not in second


def test_a_result_older_than_the_promise_says_the_refresh_is_behind(admin, traffic):
    client = admin.client()
    client.get("/analytics/performance/", {"hours": 24})
    AnalyticsResult.objects.update(computed_at=timezone.now() - dt.timedelta(minutes=10))
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/analytics/performance/", {"hours": 24}).content.decode()
    assert "The background refresh is behind" in page
    assert _function_calls(queries, "get_request_performance_summary") == 0


def test_the_command_refreshes_and_ignores_arguments_no_page_offers(traffic, tenant_a, capsys):
    store = result_cache.TableStore()
    store.note_requested("request_performance:[5]", "request_performance", [5])
    store.note_requested('tenant_usage:["x", 24]', "tenant_usage", ["x", 24])
    result_cache.read("tenant_usage", [tenant_a.pk, 24], store)
    AnalyticsResult.objects.update(computed_at=timezone.now() - dt.timedelta(minutes=5))
    call_command("refresh_analytics")
    out = capsys.readouterr().out
    assert f'refreshed tenant_usage:["{tenant_a.pk}", 24]' in out
    assert "refreshed server_health:[]" in out
    assert "refreshed performance_monitoring:[]" in out
    assert "request_performance:[5]" not in out
    assert 'tenant_usage:["x", 24]' not in out


def test_redis_is_used_when_configured_and_the_table_otherwise(settings, redis_store):
    settings.ANALYTICS_CACHE_URL = TEST_REDIS_URL
    assert isinstance(result_cache.configured_store(), result_cache.RedisStore)
    settings.ANALYTICS_CACHE_URL = ""
    assert isinstance(result_cache.configured_store(), result_cache.TableStore)


def test_with_redis_configured_the_table_stays_empty(settings, redis_store, admin, traffic):
    settings.ANALYTICS_CACHE_URL = TEST_REDIS_URL
    settings.ANALYTICS_CACHE_PREFIX = redis_store.prefix  # removed after the test
    key = result_cache.result_key("request_performance", [24])
    page = admin.client().get("/analytics/performance/", {"hours": 24}).content.decode()
    assert "computed just now" in page
    assert redis_store.get(key) is not None
    assert not AnalyticsResult.objects.exists()
