"""The MCP server list: scoped to the tenant, with filters that never leak or crash."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.factories import McpServerFactory
from tests.pages import assert_page_says, assert_refused, messages_on, unoffered_filter

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
    response = tenant_admin_a.client().get(f"{URL}?tenant={tenant_b.pk}", follow=True)
    assert response.status_code == 200
    assert "bravo-hidden" not in _names(response)
    assert tenant_b.name not in response.content.decode()


NUL = "A filter held a NUL character, which no text has: removed."
NOT_VALID = (
    "A filter value is not valid for its column (an unknown status, a malformed address or "
    "number), so the filters were cleared."
)
EVERY_SERVER = {
    "alpha-fresh",
    "alpha-stale",
    "alpha-never",
    "alpha-off",
    "alpha-sick",
    "bravo-hidden",
}


def _ignored(lookup: str) -> str:
    return f"Ignored filters this page does not have: {lookup}."


@pytest.mark.parametrize(
    ("query", "message", "shown"),
    [
        # An unknown value of a filter the page offers is cleared, and the page says so.
        ("tenant=not-a-uuid", unoffered_filter("not-a-uuid", "tenant"), EVERY_SERVER),
        ("tenant=%00", NUL, EVERY_SERVER),
        ("health_check=bogus", unoffered_filter("bogus", "health check"), EVERY_SERVER),
        ("q=%00", NUL, EVERY_SERVER),
        ("health_status__exact=%00", NUL, EVERY_SERVER),
        ("health_status__exact=bogus", NOT_VALID, EVERY_SERVER),
        ("health_status__in=healthy,bogus", _ignored("health_status__in"), EVERY_SERVER),
        ("health_status__contains=heal", _ignored("health_status__contains"), EVERY_SERVER),
        ("transport_type=carrier-pigeon", _ignored("transport_type"), EVERY_SERVER),
        (
            "last_health_check_at__gte=yesterday",
            _ignored("last_health_check_at__gte"),
            EVERY_SERVER,
        ),
        ("request_count__gt=99999999999999999999999", _ignored("request_count__gt"), EVERY_SERVER),
        ("tenant__name__startswith=Ten", _ignored("tenant__name__startswith"), EVERY_SERVER),
        # One page of servers: an impossible page number or sort column shows that page.
        ("p=99999999999999999999", None, EVERY_SERVER),
        ("o=999", None, EVERY_SERVER),
        ("is_active__exact=maybe", NOT_VALID, EVERY_SERVER),
        ("transport_type__exact=carrier", NOT_VALID, EVERY_SERVER),
    ],
)
def test_malformed_filters_never_give_a_server_error(admin, servers, query, message, shown):
    # Followed to the end: a redirect that comes back to itself would raise here.
    response = admin.client().get(f"{URL}?{query}", follow=True)
    assert_page_says(response, 200, "<h1>Select MCP server to view</h1>")
    assert len(response.redirect_chain) <= 2
    assert messages_on(response) == ([message] if message else [])
    assert _names(response) == shown


def test_auditor_cannot_open_the_registry(auditor, servers):
    assert_refused(auditor.client().get(URL))


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


def test_the_active_filter_reads_as_a_word_not_a_column(admin, servers):
    page = admin.client().get(URL).content.decode()
    assert "By active" in page and "By is active" not in page
