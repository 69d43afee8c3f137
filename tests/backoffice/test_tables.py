"""The one base table: every table class derives from it, and its sort links follow one rule."""

from __future__ import annotations

import importlib
import pkgutil

import django_tables2 as tables
import pytest

from audit.factories import RequestLogFactory
from audit.tables import AuditLogTable, RequestLogTable
from backoffice.tables import BaseTable, SortHeader
from monitoring import selectors
from monitoring.tables import IndexUsageTable, RequestPerformanceTable
from registry.factories import McpServerFactory

APP_PACKAGES = ("backoffice", "tenants", "registry", "security", "audit", "monitoring", "approvals")


def _all_table_classes() -> set[type]:
    for package_name in APP_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if module.name.endswith(".tables"):
                importlib.import_module(module.name)
    found: set[type] = set()
    pending = [tables.Table]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass.__module__.split(".")[0] in APP_PACKAGES:
                found.add(subclass)
            pending.append(subclass)
    return found


def test_every_table_of_the_project_derives_from_the_base_table():
    found = _all_table_classes()
    assert {AuditLogTable, RequestLogTable, RequestPerformanceTable, IndexUsageTable} <= found
    assert [cls for cls in found if not issubclass(cls, BaseTable)] == []


def test_a_number_sorts_largest_first_and_a_name_a_to_z_on_the_first_click():
    headers = {h.key: h for h in RequestPerformanceTable.sort_headers("-total_requests")}
    assert headers["p95_duration_ms"] == SortHeader(
        "p95_duration_ms", "p95", True, "?sort=-p95_duration_ms", ""
    )
    assert headers["server_name"].url == "?sort=server_name"
    assert not headers["server_name"].numeric
    # The sorted column says so, and its link reverses it.
    assert headers["total_requests"].sorted == "descending"
    assert headers["total_requests"].url == "?sort=total_requests"
    assert headers["total_requests"].arrow == " ▼"
    again = {h.key: h for h in RequestPerformanceTable.sort_headers("total_requests")}
    assert again["total_requests"].sorted == "ascending"
    assert again["total_requests"].url == "?sort=-total_requests"


def test_columns_that_do_not_sort_have_no_link_and_the_page_keeps_its_other_parameters():
    headers = RequestPerformanceTable.sort_headers("server_name", {"hours": "168"})
    by_key = {h.key: h for h in headers}
    assert [h.key for h in headers][-1] == "flags"
    assert by_key["flags"] == SortHeader("flags", "Flags", False)
    assert by_key["error_rate"].url == "?hours=168&sort=-error_rate"
    # A "sort" key among the kept ones places the sort parameter where it stands.
    kept = {"sort": "", "never_used": "1"}
    index = {h.key: h for h in IndexUsageTable.sort_headers("-size", kept)}
    assert index["size"].url == "?sort=size&never_used=1"
    assert index["tuples_read"].url == ""


def test_the_sortable_columns_are_the_keys_the_selectors_sort_by():
    assert set(RequestPerformanceTable.sortable) == set(selectors.PERFORMANCE_SORT_KEYS)
    assert set(IndexUsageTable.sortable) == set(selectors.INDEX_SORTS)
    for table in (RequestPerformanceTable, IndexUsageTable):
        assert set(table.sortable) <= set(table.base_columns)


@pytest.mark.django_db
def test_the_performance_page_heads_its_table_from_the_base_table(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a, name="Docs search")
    RequestLogFactory.create(server=server)
    response = admin.client().get("/analytics/performance/", {"hours": "24"})
    html = response.content.decode()
    assert response.status_code == 200, html[:500]
    head = html.split('id="performance-table"')[1].split("</thead>")[0]
    assert (
        '<th scope="col" data-column="total_requests" class="num sorted descending" '
        'aria-sort="descending"><a href="?hours=24&amp;sort=total_requests">Requests ▼</a></th>'
    ) in head
    assert '<th scope="col" data-column="flags">Flags</th>' in head
