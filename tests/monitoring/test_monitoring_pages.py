"""Database size, index usage and performance metrics: the views' rows, for staff only."""

from __future__ import annotations

import math

import pytest

from tests.monitoring.conftest import function_rows

pytestmark = pytest.mark.django_db

PAGES = ("/monitoring/database-size/", "/monitoring/indexes/", "/monitoring/metrics/")


def test_database_size_lists_every_table_of_the_view(support):
    expected = function_rows("SELECT table_name, total_bytes FROM database_size_summary")
    html = support.client().get(PAGES[0]).content.decode()
    for row in expected:
        assert f'<tr data-table="{row["table_name"]}">' in html
    assert "mcp_servers" in html and "request_logs" in html
    assert '<svg class="chart"' in html


def test_index_usage_flags_indexes_never_used(admin):
    rows = {
        r["index_name"]: r
        for r in function_rows("SELECT index_name, never_used FROM index_usage_summary")
    }
    assert len(rows) >= 38
    response = admin.client().get(PAGES[1])
    html = response.content.decode()
    for name, row in rows.items():
        row_html = html[html.index(f'<tr data-index="{name}"') :]
        row_html = row_html[: row_html.index("</tr>")]
        assert ("never used" in row_html) == row["never_used"], name
    never_used = sum(1 for r in rows.values() if r["never_used"])
    card = f'<span class="card-value">{never_used}</span><span class="card-label">never used'
    assert card in html

    only = admin.client().get(PAGES[1], {"never_used": "1"}).content.decode()
    assert only.count("<tr data-index=") == never_used


def test_metrics_are_shown_as_cards_with_the_views_values(auditor):
    expected = function_rows("SELECT metric_name, metric_value FROM performance_monitoring")
    html = auditor.client().get(PAGES[2]).content.decode()
    for row in expected:
        marker = f'data-metric="{row["metric_name"]}" data-value="'
        assert marker in html, row["metric_name"]
        shown = html.split(marker)[1].split('"')[0]
        if row["metric_name"] in ("connections", "cache_hit_ratio"):
            continue  # they change between two reads of the view
        wanted = row["metric_value"]
        assert (shown == "None" and wanted is None) or math.isclose(float(shown), wanted)
    assert "Cache hit ratio" in html and "API keys expiring within 7 days" in html


@pytest.mark.parametrize("page", PAGES)
def test_tenant_admins_are_refused(tenant_admin_a, page):
    assert tenant_admin_a.client().get(page).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_staff_roles_are_let_in_and_anonymous_sent_to_sign_in(
    admin, support, auditor, client, page
):
    for person in (admin, support, auditor):
        assert person.client().get(page).status_code == 200
    response = client.get(page)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
