"""A request-performance query cancelled by statement_timeout gives the friendly page, not a 500."""

from __future__ import annotations

import pytest
from django.db import connection

from monitoring import result_cache

pytestmark = pytest.mark.django_db


def test_a_cancelled_query_is_a_friendly_503(admin, monkeypatch):
    client = admin.client()
    # A week of 10M rows takes about a second; here the database is made to wait on purpose.
    # The first request for a result computes it while the person waits: that is the case here.
    # The wait is in the function's argument, so it runs before the function whatever the plan
    # (a join with pg_sleep was skipped whenever the planner read the empty function first).
    monkeypatch.setitem(
        result_cache.QUERIES,
        "request_performance",
        result_cache.Query(
            "SELECT * FROM get_request_performance_summary((SELECT %s::int FROM pg_sleep(1)))",
            uuid_columns=("server_id", "tenant_id"),
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '50ms'")  # undone when the test rolls back
    response = client.get("/analytics/performance/", {"hours": 168})
    assert response.status_code == 503
    assert "This query took too long" in response.content.decode()
