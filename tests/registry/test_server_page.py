"""A server's page: health-check history as a chart, tools and resources with their usage."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.factories import (
    McpResourceFactory,
    McpServerFactory,
    McpToolFactory,
    ServerHealthCheckFactory,
)
from registry.models import McpServer
from tests.monitoring.conftest import assert_labels_inside
from tests.pages import assert_not_found, assert_refused

pytestmark = pytest.mark.django_db


def _url(server) -> str:
    return f"/admin/registry/mcpserver/{server.pk}/change/"


@pytest.fixture
def server(tenant_a):
    server = McpServerFactory.create(tenant=tenant_a, name="docs-server")
    now = dt.datetime.now(dt.UTC)
    for minutes, trait in ((30, {}), (20, {"degraded": True}), (10, {"unhealthy": True})):
        ServerHealthCheckFactory.create(
            server=server, checked_at=now - dt.timedelta(minutes=minutes), **trait
        )
    McpToolFactory.create(
        server=server,
        name="search_docs",
        call_count=1200,
        error_count=12,
        avg_execution_time_ms=84.5,
    )
    McpToolFactory.create(server=server, name="rarely_used", call_count=3)
    McpResourceFactory.create(server=server, uri="docs://handbook", access_count=77)
    return server


def test_the_servers_counts_read_with_thousands_separators(tenant_admin_a, server):
    McpServer.unscoped.filter(pk=server.pk).update(request_count=1234567, error_count=8980)
    html = tenant_admin_a.client().get(_url(server)).content.decode()
    assert "1,234,567" in html and "8,980" in html


def test_page_shows_the_health_chart_tools_and_resources(tenant_admin_a, server):
    response = tenant_admin_a.client().get(_url(server))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg class="chart"' in html and "Last 3 health checks of docs-server" in html
    assert html.count('<circle class="status-') == 3
    assert 'class="status-unhealthy"' in html and "Connection refused" in html
    tool = html[html.index('data-tool="search_docs"') :].split("</tr>")[0]
    assert ">1,200<" in tool and ">12<" in tool and "84.5 ms" in tool
    assert html.index('data-tool="search_docs"') < html.index('data-tool="rarely_used"')
    assert 'data-resource="docs://handbook"' in html and ">77<" in html


def test_a_tenant_admin_has_no_deactivate_button(tenant_admin_a, server):
    html = tenant_admin_a.client().get(_url(server)).content.decode()
    assert "deactivate-server" not in html


def test_an_admin_has_the_deactivate_button(admin, server):
    html = admin.client().get(_url(server)).content.decode()
    assert f'href="/registry/servers/{server.pk}/deactivate/"' in html


def test_another_tenants_server_is_a_404(tenant_admin_b, server):
    assert_not_found(tenant_admin_b.client().get(_url(server)))


@pytest.mark.parametrize("object_id", ["not-a-uuid", "%00", "00000000-0000-0000-0000-000000000000"])
def test_a_malformed_or_unknown_id_is_a_404(admin, object_id):
    assert_not_found(admin.client().get(f"/admin/registry/mcpserver/{object_id}/change/"))


def test_a_server_never_checked_says_so(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a, unknown=True)
    html = admin.client().get(_url(server)).content.decode()
    assert "never been health-checked" in html
    assert "No health check recorded yet." in html


def test_nothing_on_the_page_is_editable(admin, server):
    html = admin.client().get(_url(server)).content.decode()
    assert 'name="_save"' not in html
    assert_refused(admin.client().post(_url(server), {"name": "renamed"}))


def test_a_slow_check_tops_the_chart_with_a_label_that_is_not_cut(admin, server):
    ServerHealthCheckFactory.create(server=server, response_time_ms=15454)
    html = admin.client().get(_url(server)).content.decode()
    start = html.index('<svg class="chart"')
    chart = html[start : html.index("</svg>", start)]
    assert 'text-anchor="end">15.5 s</text>' in chart
    assert ">5454 ms<" not in chart and ">15454 ms<" not in chart
    assert_labels_inside(html)
