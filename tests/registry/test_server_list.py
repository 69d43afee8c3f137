"""The MCP server list: scoped to the tenant, with filters that never leak or crash."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.factories import McpServerFactory

pytestmark = pytest.mark.django_db

URL = "/admin/registry/mcpserver/"


@pytest.fixture
def servers(tenant_a, tenant_b):
    now = dt.datetime.now(dt.UTC)
    return {
        "fresh": McpServerFactory.create(tenant=tenant_a, name="alpha-fresh", transport_type="sse"),
        "stale": McpServerFactory.create(
            tenant=tenant_a, name="alpha-stale", last_health_check_at=now - dt.timedelta(minutes=7)
        ),
        "missing": McpServerFactory.create(tenant=tenant_a, name="alpha-never", unknown=True),
        "off": McpServerFactory.create(tenant=tenant_a, name="alpha-off", inactive=True),
        "sick": McpServerFactory.create(tenant=tenant_a, name="alpha-sick", unhealthy=True),
        "other": McpServerFactory.create(
            tenant=tenant_b, name="bravo-hidden", transport_type="sse"
        ),
    }


def _names(response) -> set[str]:
    html = response.content.decode()
    return {
        name
        for name in (
            "alpha-fresh",
            "alpha-stale",
            "alpha-never",
            "alpha-off",
            "alpha-sick",
            "bravo-hidden",
        )
        if f">{name}</a>" in html
    }


def test_staff_see_every_tenants_servers(support, servers):
    response = support.client().get(URL)
    assert response.status_code == 200
    assert _names(response) == {
        "alpha-fresh",
        "alpha-stale",
        "alpha-never",
        "alpha-off",
        "alpha-sick",
        "bravo-hidden",
    }


def test_tenant_admin_sees_their_tenants_servers_and_only_their_tenant_in_filters(
    tenant_admin_a, servers
):
    response = tenant_admin_a.client().get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "bravo-hidden" not in html
    assert "Tenant B" not in html  # not in the list, not in the tenant filter sidebar
    assert "Tenant A" in html
    assert 'name="action"' not in html  # read-only: no deactivate/reactivate actions


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("health_check=stale", {"alpha-stale"}),
        ("health_check=missing", {"alpha-never"}),
        ("health_check=stale_or_missing", {"alpha-stale", "alpha-never"}),
        ("health_check=fresh", {"alpha-fresh", "alpha-off", "alpha-sick"}),
        ("health_status__exact=unhealthy", {"alpha-sick"}),
        ("transport_type__exact=sse", {"alpha-fresh"}),
        ("is_active__exact=0", {"alpha-off"}),
    ],
)
def test_filters(tenant_admin_a, servers, query, expected):
    response = tenant_admin_a.client().get(f"{URL}?{query}")
    assert response.status_code == 200
    assert _names(response) == expected


def test_tenant_filter_for_staff(admin, servers, tenant_b):
    response = admin.client().get(f"{URL}?tenant={tenant_b.pk}")
    assert _names(response) == {"bravo-hidden"}


def test_tenant_admin_cannot_filter_into_another_tenant(tenant_admin_a, servers, tenant_b):
    response = tenant_admin_a.client().get(f"{URL}?tenant={tenant_b.pk}")
    assert response.status_code == 200
    assert _names(response) == set()


@pytest.mark.parametrize(
    "query",
    [
        "tenant=not-a-uuid",
        "tenant=%00",
        "health_check=bogus",
        "q=%00",
        "health_status__exact=%00",
        "health_status__exact=bogus",
        "health_status__in=healthy,bogus",
        "health_status__contains=heal",
        "transport_type=carrier-pigeon",
        "last_health_check_at__gte=yesterday",
        "request_count__gt=99999999999999999999999",
        "tenant__name__startswith=Ten",
        "p=99999999999999999999",
        "o=999",
        "is_active__exact=maybe",
        "transport_type__exact=carrier",
    ],
)
def test_malformed_filters_never_give_a_server_error(admin, servers, query):
    # Followed to the end: a redirect that comes back to itself would raise here.
    response = admin.client().get(f"{URL}?{query}", follow=True)
    assert response.status_code in (200, 400, 404)
    assert len(response.redirect_chain) <= 2


def test_auditor_cannot_open_the_registry(auditor, servers):
    assert auditor.client().get(URL).status_code == 403


def _cells(html: str, column: str) -> list[str]:
    marker = f'<td class="field-{column}">'
    return [cell.split("</td>")[0] for cell in html.split(marker)[1:]]


def test_transports_are_written_as_the_mcp_specification_writes_them(admin, tenant_a):
    for transport in ("stdio", "sse", "streamable_http", "websocket"):
        McpServerFactory.create(tenant=tenant_a, name=f"via-{transport}", transport_type=transport)
    html = admin.client().get(URL).content.decode()
    assert sorted(_cells(html, "transport")) == ["SSE", "Streamable HTTP", "WebSocket", "stdio"]
    sidebar = html.split('id="changelist-filter"')[1]
    for label in ("SSE", "Streamable HTTP", "WebSocket", "stdio"):
        assert f">{label}</a>" in sidebar
    assert "Sse" not in html and "Websocket" not in html


def test_the_list_keeps_its_numbers_in_few_compact_columns(admin, tenant_a):
    McpServerFactory.create(
        tenant=tenant_a,
        name="busy",
        success_rate=0.954,
        avg_response_time_ms=1800,
        request_count=15660,
        inactive=True,
        last_health_check_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3, minutes=5),
    )
    html = admin.client().get(URL).content.decode()
    headers = html.split("<thead>")[1].split("</thead>")[0]
    assert headers.count("<th") == 8  # the selection box and seven columns
    assert _cells(html, "success_and_time") == ["95.4%\u00a0· 1,800\u00a0ms"]
    assert _cells(html, "requests") == ["15,660"]
    (health,) = _cells(html, "health")
    assert "health-healthy" in health and ">inactive<" in health
    (check,) = _cells(html, "last_check")
    assert ">stale\u00a0· 3\u00a0h\u00a0ago<" in check
