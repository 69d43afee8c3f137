"""The dashboard's "denied in 24 hours" card: exact on known rows, read from the shared store.

Counting a day of ``audit_logs`` on ``outcome`` (no index) on every home page was the tail under
load; the count is now computed once a minute by ``refresh_analytics`` and the card says as of
when (monitoring/dashboard.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.factories import AuditLogFactory
from audit.models import AuditLog
from audit.time_blocks import summarise_settled_blocks
from monitoring import dashboard, result_cache, selectors
from monitoring.models import AnalyticsResult

pytestmark = pytest.mark.django_db


def _card(html: str) -> str:
    return html.split('id="card-denied"')[1].split('card-value">')[1].split("<")[0]


def _card_label(html: str) -> str:
    return html.split('id="card-denied"')[1].split('card-label">')[1].split("</span>")[0]


@pytest.fixture
def known_rows(tenant_a, tenant_b):
    now = dt.datetime.now(dt.UTC)
    # Counted: denied within the last 24 hours, in tenants A and B and platform-wide (4).
    for minutes in (5, 23 * 60 + 50):
        AuditLogFactory.create(
            denied=True, tenant_id=tenant_a.pk, created_at=now - dt.timedelta(minutes=minutes)
        )
    AuditLogFactory.create(denied=True, tenant_id=tenant_b.pk)
    AuditLogFactory.create(denied=True, tenant_id=None)
    # Not counted: too old, or not denied.
    AuditLogFactory.create(
        denied=True, tenant_id=tenant_a.pk, created_at=now - dt.timedelta(hours=24, minutes=10)
    )
    AuditLogFactory.create(tenant_id=tenant_a.pk, outcome="success")
    AuditLogFactory.create(tenant_id=tenant_a.pk, outcome="failure")


def test_the_count_is_exact_on_known_rows(auditor, admin, known_rows):
    assert _card(auditor.client().get("/").content.decode()) == "4"
    assert _card(admin.client().get("/").content.decode()) == "4"  # the same stored count
    assert AnalyticsResult.objects.filter(name="denied_actions").count() == 1


def test_the_card_says_as_of_when_and_the_refresh_brings_it_up_to_date(auditor, known_rows):
    client = auditor.client()
    html = client.get("/").content.decode()
    stored = AnalyticsResult.objects.get(name="denied_actions")
    assert stored.computed_at is not None
    as_of = timezone.localtime(stored.computed_at).strftime("%Y-%m-%d %H:%M:%S")
    assert _card_label(html) == (
        f"denied actions in the 24 hours to {as_of} UTC (counted every minute)"
    )
    # A new denial is not counted on the spot (the list shows it: it is read live) ...
    fresh = AuditLogFactory.create(denied=True, action="server.fresh_denial")
    html = client.get("/").content.decode()
    assert _card(html) == "4" and "server.fresh_denial" in html
    # ... but by the next refresh (the cron's command, every minute).
    AnalyticsResult.objects.update(computed_at=timezone.now() - dt.timedelta(minutes=1))
    report = result_cache.refresh(valid=selectors.refreshable)
    assert "denied_actions:[]" in dict(report.refreshed)
    assert _card(client.get("/").content.decode()) == "5"
    fresh.delete()


def test_a_home_page_does_not_count_the_day_of_audit_logs_again(auditor, known_rows):
    client = auditor.client()
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    counted = [
        q["sql"]
        for q in queries.captured_queries
        if "audit_logs" in q["sql"] and "COUNT(" in q["sql"].upper()
    ]
    assert counted == []


def test_the_recent_list_walks_only_the_days_ids(auditor, tenant_a):
    old = AuditLogFactory.create(
        denied=True,
        action="user.old_denial",
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3),
    )
    for _ in range(3):
        AuditLogFactory.create(denied=False, created_at=dt.datetime.now(dt.UTC))
    recent = AuditLogFactory.create(denied=True, action="user.recent_denial")
    summarise_settled_blocks(AuditLog._meta.db_table)
    with CaptureQueriesContext(connection) as queries:
        html = auditor.client().get("/").content.decode()
    assert "user.recent_denial" in html and "user.old_denial" not in html
    listed = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "audit_logs"' in q["sql"] and "ORDER BY" in q["sql"]
    ]
    assert len(listed) == 1 and '"audit_logs"."id" >=' in listed[0], listed
    assert old.pk < recent.pk


def test_the_stored_count_stops_at_the_cards_cap():
    assert dashboard.COUNT_CAP == result_cache.DASHBOARD_COUNT_CAP
    sql = result_cache.QUERIES["denied_actions"].sql
    assert f"LIMIT {dashboard.COUNT_CAP + 1}" in sql
    assert selectors.refreshable("denied_actions", [])
