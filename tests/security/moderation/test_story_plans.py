"""Every query of a user's story reads a bounded number of rows (EXPLAIN ANALYZE), on the data
set of ``tests/audit/test_query_plans.py`` (60,000 rows of each log, statistics of every row)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from security.factories import ApiKeyFactory, GatewayUserFactory
from tests.audit.test_query_plans import all_nodes, rows_read
from tests.audit.test_query_plans import big_logs as big_logs  # the fixture, shared

# The actor's own rows (150 in the data set), a page of each section, and room to spare.
ROW_BUDGET = 2_000


@pytest.mark.django_db(transaction=True)
def test_every_story_query_uses_an_index_and_reads_a_bounded_number_of_rows(admin, big_logs):
    user = GatewayUserFactory.create(id=big_logs["ACTOR"])
    ApiKeyFactory.create(id=uuid.UUID(big_logs["API_KEY"]), created_by=user)
    client = admin.client()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("admin:security_gatewayuser_change", args=[user.pk]))
    assert response.status_code == 200
    log_queries = [
        q["sql"]
        for q in captured
        if ("audit_logs" in q["sql"] or "request_logs" in q["sql"]) and "LIMIT" in q["sql"]
    ]
    # by, about (counted and listed), the ledger, the requests and their counts.
    assert len(log_queries) >= 6
    failures = []
    with connection.cursor() as cursor:
        for sql in log_queries:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            root = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
            nodes = list(all_nodes(root))
            if any(node["Node Type"] == "Seq Scan" for node in nodes):
                failures.append(f"a Seq Scan: {sql[:200]}")
            if not any("Index Name" in node for node in nodes):
                failures.append(f"no index: {sql[:200]}")
            if (read := rows_read(root)) > ROW_BUDGET:
                failures.append(f"read {read:,} rows: {sql[:200]}")
    assert not failures, "\n".join(failures)
