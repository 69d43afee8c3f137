"""Known traffic in two tenants, and helpers to read numbers back from pages and the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection

from audit.factories import RequestLogFactory
from monitoring import charts
from registry.factories import McpServerFactory
from registry.models import McpServer


def function_rows(sql: str, params: list | None = None) -> list[dict[str, Any]]:
    """What the database itself returns, to compare pages with."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class CellReader(HTMLParser):
    """Collects cells' ``data-value`` by (row key, column), e.g. (server id, "p95_duration_ms")."""

    def __init__(self, row_attr: str) -> None:
        super().__init__()
        self.row_attr = row_attr
        self.row: str | None = None
        self.values: dict[tuple[str, str], str] = {}
        self.row_order: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and self.row_attr in found:
            self.row = found[self.row_attr]
            self.row_order.append(self.row or "")
        elif tag in ("td", "div") and "data-value" in found:
            column = found.get("data-column") or found.get("data-metric") or ""
            self.values[(self.row or "", column)] = found["data-value"] or ""


def read_cells(html: str, row_attr: str = "data-server-id") -> CellReader:
    reader = CellReader(row_attr)
    reader.feed(html)
    return reader


def as_number(text: str) -> float | None:
    return None if text in ("", "None") else float(text)


def read_csv(response) -> list[dict[str, str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(content.decode())))


SVG = "{http://www.w3.org/2000/svg}"


def chart_labels(html: str) -> list[tuple[str, float, str, float]]:
    """(text, x, anchor, viewBox width) of every text of the chart in ``html``."""
    start = html.index('<svg class="chart"')
    end = html.index("</svg>", start) + len("</svg>")
    svg = ET.fromstring(html[start:end])  # noqa: S314 (our own chart, rendered by the test)
    width = float(svg.attrib["viewBox"].split()[2])
    return [
        (text.text or "", float(text.attrib["x"]), text.attrib.get("text-anchor", "start"), width)
        for text in svg.iter(f"{SVG}text")
    ]


def assert_labels_inside(html: str) -> None:
    """Every label of the chart in ``html`` lies inside its viewBox (by its estimated width)."""
    for text, x, anchor, width in chart_labels(html):
        extent = charts.text_width(text)
        left, right = (x - extent, x) if anchor == "end" else (x, x + extent)
        assert left >= 0 and right <= width, f"{text!r} runs out of the chart ({left}..{right})"


@dataclass
class Traffic:
    a_busy: McpServer  # tenant A: slow and failing
    a_quiet: McpServer  # tenant A: fast and healthy
    b_server: McpServer  # tenant B
    old_only: McpServer  # tenant A, traffic only 3 days ago


def add_logs(server: McpServer, ago: dt.timedelta, statuses_and_durations, **extra) -> None:
    at = dt.datetime.now(dt.UTC) - ago
    for status, duration in statuses_and_durations:
        RequestLogFactory.create(
            server=server, status_code=status, duration_ms=duration, created_at=at, **extra
        )


@pytest.fixture
def traffic(tenant_a, tenant_b) -> Traffic:
    """Request logs with hand-picked durations and statuses in both tenants and several windows."""
    a_busy = McpServerFactory.create(tenant=tenant_a, name="busy-search", unhealthy=True)
    a_quiet = McpServerFactory.create(tenant=tenant_a, name="quiet-files")
    b_server = McpServerFactory.create(tenant=tenant_b, name="beta-secret-server")
    old_only = McpServerFactory.create(tenant=tenant_a, name="old-reports")
    # Last 30 minutes: inside every window.
    add_logs(
        a_busy,
        dt.timedelta(minutes=30),
        [(200, 100), (200, 300), (500, 2500), (502, 4000), (200, 900)],
        user_id="u1",
        tool_name="search",
    )
    add_logs(a_quiet, dt.timedelta(minutes=20), [(200, 10), (200, 20), (200, 30)], user_id="u2")
    add_logs(b_server, dt.timedelta(minutes=10), [(200, 50), (404, 70)], user_id="u9")
    # Three hours ago: in the 6, 24 and 168 hour windows only.
    add_logs(a_quiet, dt.timedelta(hours=3), [(200, 40), (429, 60)], user_id="u3", tool_name="read")
    # Three days ago: only in the 7-day window.
    add_logs(old_only, dt.timedelta(days=3), [(200, 700), (200, 800)])
    return Traffic(a_busy, a_quiet, b_server, old_only)
