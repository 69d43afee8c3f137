"""An explorer page costs four queries, one of each kind below, and no other.

Issue #11: at 10M rows a page's own query is well under a millisecond, so each extra round trip
(the Django user, the staff link, the gateway user, tenant and server choices, the emails of
the page's people) was a large share of the page's database time: those went from 8 queries
to 4 (session, staff member, page, estimate). Issue #13 then added two checks that every
request must make, a query each, bringing a page to 6: the second factor's device (django-otp;
a reset must take effect at the next click) and the back-office session's licence (a session
ended from elsewhere must end at its next request). Both are now subqueries of the staff
member's query (security/session_reads.py), keyed by what the session holds, so a page is back
at 4 and both checks still bite at the next request (tests/security/test_session_reads.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.factories import RequestLogFactory
from registry.factories import McpServerFactory
from tests.audit.conftest import bulk_audit_logs

# What each query of a page reads, by the table it starts from.
EXPECTED_KINDS = (
    'FROM "django_session"',  # the session
    # The staff member with their staff link, gateway user, the second-factor device this
    # session was verified with and the session's licence (security/session_reads.py).
    'FROM "auth_user"',
    "_logs",  # the page
    "EXPLAIN",  # the estimate
)
MAX_QUERIES = len(EXPECTED_KINDS)


def assert_only_expected_kinds(queries: list[str]) -> None:
    for sql in queries:
        assert any(kind in sql for kind in EXPECTED_KINDS), sql


def captured(client, url: str) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db
def test_audit_log_explorer_runs_at_most_four_queries(auditor, tenant_a):
    bulk_audit_logs(150, tenant_id=tenant_a.id, actor_id=auditor.gateway_user.id)
    client = auditor.client()
    client.get("/audit/logs/")  # choices cached by the first view, as in a running server
    response, queries = captured(client, "/audit/logs/")
    assert response.status_code == 200
    # The page names its people by email, found in the page's own query.
    assert auditor.gateway_user.email.encode() in response.content
    assert len(queries) <= MAX_QUERIES, "\n".join(queries)
    assert_only_expected_kinds(queries)


@pytest.mark.django_db
def test_request_log_explorer_with_a_filter_runs_at_most_four_queries(auditor, tenant_a, support):
    server = McpServerFactory.create(tenant=tenant_a, name="Docs search")
    for _ in range(3):
        RequestLogFactory.create(server=server, user_id=support.gateway_user.id)
    client = auditor.client()
    url = f"/audit/requests/?server={server.id}"
    client.get(url)
    response, queries = captured(client, url)
    assert response.status_code == 200
    assert b"Docs search" in response.content
    assert support.gateway_user.email.encode() in response.content
    assert len(queries) <= MAX_QUERIES, "\n".join(queries)
    assert_only_expected_kinds(queries)
