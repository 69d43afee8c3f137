"""Database size, index usage and performance metrics: the views' rows, for staff only."""

from __future__ import annotations

import math
import re

import pytest
from django.db import connection
from django.template.defaultfilters import filesizeformat

from tests.monitoring.conftest import function_rows
from tests.pages import assert_page_says, assert_refused

pytestmark = pytest.mark.django_db

PAGES = ("/monitoring/database-size/", "/monitoring/indexes/", "/monitoring/metrics/")


def test_database_size_lists_every_table_of_the_view(support):
    expected = function_rows("SELECT table_name, total_bytes FROM database_size_summary")
    html = support.client().get(PAGES[0]).content.decode()
    for row in expected:
        assert f'<tr data-table="{row["table_name"]}">' in html
    assert "mcp_servers" in html and "request_logs" in html
    assert '<svg class="chart"' in html


def _row_estimate(html: str, table: str) -> str:
    row = html.split(f'<tr data-table="{table}">')[1].split("</tr>")[0]
    cell = row.split('data-column="estimated_rows">')[1].split("</td>")[0]
    return re.sub(r"<[^>]+>", "", cell)


def test_a_table_never_analysed_has_no_row_estimate_rather_than_zero(support):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE public.zz_never_analysed (id int)")
        cursor.execute("CREATE TABLE public.zz_analysed (id int)")
        cursor.execute("INSERT INTO public.zz_analysed SELECT generate_series(1, 1500)")
        cursor.execute("ANALYZE public.zz_analysed")
    (view_row,) = function_rows(
        "SELECT estimated_rows FROM database_size_summary WHERE table_name = 'zz_never_analysed'"
    )
    assert view_row["estimated_rows"] == 0  # what the view says, and why the page asks pg_class
    html = support.client().get(PAGES[0]).content.decode()
    assert _row_estimate(html, "zz_never_analysed") == "not yet analysed"
    assert _row_estimate(html, "zz_analysed") == "1,500"


@pytest.fixture
def never_scanned_table():
    """A table no query has read yet: its primary key, unique and plain index have 0 scans."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE public.zz_never_scanned (id int PRIMARY KEY, code text UNIQUE, note text)"
        )
        cursor.execute("CREATE INDEX zz_never_scanned_note ON public.zz_never_scanned (note)")
    return {
        "zz_never_scanned_pkey": "primary key",
        "zz_never_scanned_code_key": "unique",
        "zz_never_scanned_note": None,
    }


def _index_row(html: str, name: str) -> str:
    row = html[html.index(f'<tr data-index="{name}"') :]
    return row[: row.index("</tr>")]


def _card_value(html: str, card_id: str) -> str:
    return html.split(f'id="{card_id}"')[1].split('card-value">')[1].split("<")[0]


def test_index_usage_flags_never_used_indexes_but_not_those_enforcing_a_constraint(
    admin, never_scanned_table
):
    rows = {
        r["index_name"]: r
        for r in function_rows(
            "SELECT index_name, never_used, index_bytes FROM index_usage_summary"
        )
    }
    constraints = {
        r["index_name"]
        for r in function_rows(
            "SELECT c.relname AS index_name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND (i.indisprimary OR i.indisunique)"
        )
    }
    assert len(rows) >= 38
    for name in never_scanned_table:
        assert rows[name]["never_used"], name  # the view calls all three "never used"
    html = admin.client().get(PAGES[1]).content.decode()
    for name, row in rows.items():
        row_html = _index_row(html, name)
        if name in constraints:
            assert "enforces a constraint" in row_html and "never used" not in row_html, name
        else:
            assert ("never used" in row_html) == row["never_used"], name
    assert "enforces a constraint (primary key)" in _index_row(html, "zz_never_scanned_pkey")
    assert "enforces a constraint (unique)" in _index_row(html, "zz_never_scanned_code_key")
    assert "never used" in _index_row(html, "zz_never_scanned_note")

    droppable = [r for n, r in rows.items() if r["never_used"] and n not in constraints]
    assert _card_value(html, "card-never-used") == f"{len(droppable):,}"
    assert _card_value(html, "card-constraints") == f"{len(constraints):,}"
    size = filesizeformat(sum(r["index_bytes"] for r in droppable))
    assert f"never used ({size})" in html

    only = admin.client().get(PAGES[1], {"never_used": "1"}).content.decode()
    assert only.count("<tr data-index=") == len(droppable)
    assert 'data-index="zz_never_scanned_note"' in only
    assert 'data-index="zz_never_scanned_pkey"' not in only


def _index_names(html: str) -> list[str]:
    return [row.split('"')[0] for row in html.split('<tr data-index="')[1:]]


def _column(html: str, position: int) -> list[float]:
    """The data-value of one numeric cell per row: position 0 is scans, 1 is size."""
    values = []
    for row in html.split('<tr data-index="')[1:]:
        cells = row.split("</tr>")[0].split('data-value="')[1:]
        values.append(float(cells[position].split('"')[0]))
    return values


def test_the_index_table_sorts_by_scans_size_and_name(admin, never_scanned_table):
    client = admin.client()
    by_size = client.get(PAGES[1], {"sort": "-size"}).content.decode()
    sizes = _column(by_size, 1)
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    assert 'aria-sort="descending"' in by_size.split('data-column="size"')[1].split(">")[0]
    scans = _column(client.get(PAGES[1], {"sort": "scans"}).content.decode(), 0)
    assert scans == sorted(scans)
    by_name = client.get(PAGES[1], {"sort": "-name"}).content.decode()
    names = [row.split('"')[0] for row in by_name.split('<tr data-index="')[1:]]
    assert names == sorted(names, reverse=True)
    never_used_by_size = client.get(PAGES[1], {"sort": "-size", "never_used": "1"})
    assert 'href="?sort=size&amp;never_used=1"' in never_used_by_size.content.decode()
    # A sort key the page does not offer falls back to the default order: by table.
    bogus = client.get(PAGES[1], {"sort": "bogus"})
    assert_page_says(bogus, 200, "<h1>Index usage</h1>")
    by_table = client.get(PAGES[1], {"sort": "table"}).content.decode()
    assert _index_names(bogus.content.decode()) == _index_names(by_table) != []
    assert 'aria-sort="ascending"' in bogus.content.decode().split('data-column="table"')[1][:200]


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
    assert_refused(tenant_admin_a.client().get(page))


@pytest.mark.parametrize("page", PAGES)
def test_staff_roles_are_let_in_and_anonymous_sent_to_sign_in(
    admin, support, auditor, client, page
):
    heading = dict(zip(PAGES, ("Database size", "Index usage", "Performance metrics"), strict=True))
    for person in (admin, support, auditor):
        assert_page_says(person.client().get(page), 200, f"<h1>{heading[page]}</h1>")
    response = client.get(page)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
