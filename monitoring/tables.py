"""The monitoring reports' tables: their columns, headers and sort links (``BaseTable``)."""

from __future__ import annotations

import django_tables2 as tables

from backoffice.tables import BaseTable, NumberColumn
from monitoring import selectors


class RequestPerformanceTable(BaseTable):
    """Per server over a window; every column but the flags sorts (``PERFORMANCE_SORT_KEYS``)."""

    sortable = selectors.PERFORMANCE_SORT_KEYS

    server_name = tables.Column("Server")
    tenant_name = tables.Column("Tenant")
    total_requests = NumberColumn("Requests")
    error_count = NumberColumn("Errors")
    error_rate = NumberColumn("Error rate")
    avg_duration_ms = NumberColumn("Average")
    p50_duration_ms = NumberColumn("Median")
    p95_duration_ms = NumberColumn("p95")
    flags = tables.Column("Flags")


class IndexUsageTable(BaseTable):
    """Per index; name, table, scans and size sort (``selectors.INDEX_SORTS``)."""

    sortable = tuple(selectors.INDEX_SORTS)

    name = tables.Column("Index")
    table = tables.Column("Table")
    scans = NumberColumn("Scans")
    tuples_read = NumberColumn("Tuples read")
    tuples_fetched = NumberColumn("Tuples fetched")
    size = NumberColumn("Size")
    flag = tables.Column("Flag")
