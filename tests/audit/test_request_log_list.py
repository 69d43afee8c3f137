"""The request log explorer: access, its own filters (server, tool, method, status, duration)."""

from __future__ import annotations

import re
import uuid

import pytest

from audit.factories import RequestLogFactory
from registry.factories import McpServerFactory
from tests.pages import assert_refused

URL = "/audit/requests/"


def shown_ids(response) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'href="/audit/requests/(\d+)/"', response.content.decode())
    ]


@pytest.mark.django_db
def test_auditor_sees_request_logs_newest_first_with_server_names(auditor, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a, name="Docs search")
    first = RequestLogFactory.create(server=server)
    second = RequestLogFactory.create(server=server)
    response = auditor.client().get(URL)
    assert response.status_code == 200
    assert shown_ids(response) == [second.id, first.id]
    assert b"Docs search" in response.content
    assert b"Tenant A" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["support", "tenant_admin_a", "tenant_admin_b"])
def test_other_roles_get_403(persona, request):
    RequestLogFactory.create()
    assert_refused(request.getfixturevalue(persona).client().get(URL))


@pytest.mark.django_db
def test_filters(auditor, tenant_a, tenant_b, support):
    server_a = McpServerFactory.create(tenant=tenant_a)
    server_b = McpServerFactory.create(tenant=tenant_b)
    key = uuid.uuid4()
    ok = RequestLogFactory.create(server=server_a, tool_name="search", duration_ms=40)
    slow = RequestLogFactory.create(server=server_a, tool_name="fetch", duration_ms=9000)
    failed = RequestLogFactory.create(server=server_b, server_error=True, api_key_id=key)
    limited = RequestLogFactory.create(
        server=server_b, client_error=True, user_id=support.gateway_user.id
    )
    listed = RequestLogFactory.create(server=server_b, method="tools/list", tool_name=None)
    client = auditor.client()

    def ids(**query):
        response = client.get(URL, query)
        assert response.status_code == 200, response.content
        return shown_ids(response)

    assert ids(tenant=str(tenant_a.id)) == [slow.id, ok.id]
    assert ids(server=str(server_b.id)) == [listed.id, limited.id, failed.id]
    assert ids(tenant=str(tenant_b.id), server=str(server_b.id), status="5xx") == [failed.id]
    assert ids(status="4xx") == [limited.id]
    assert ids(status="2xx", period="24h") == [listed.id, slow.id, ok.id]
    assert ids(tool="fetch", server=str(server_a.id)) == [slow.id]
    assert ids(tool="fetch", period="1h") == [slow.id]
    assert ids(method="tools/list", period="24h") == [listed.id]
    assert ids(min_duration="1000", period="24h") == [failed.id, slow.id]
    assert ids(min_duration="1000", api_key=str(key)) == [failed.id]
    assert ids(api_key=str(key)) == [failed.id]
    assert ids(user=support.gateway_user.email, period="24h") == [limited.id]


REFUSED_REQUEST_FILTERS = [
    {"user": "u-1", "period": "30d"},
    {"tool": "search"},
    {"tool": "search", "tenant": "TENANT"},
    {"method": "tools/list", "status": "4xx"},
    {"method": "tools/list", "since": "1990-01-01T00:00"},
    {"min_duration": "1000"},
    {"status": "2xx"},
    {"status": "3xx", "server": "SERVER", "period": "7d"},
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", REFUSED_REQUEST_FILTERS)
def test_unindexed_filters_without_a_bound_are_refused(auditor, tenant_a, query):
    server = McpServerFactory.create(tenant=tenant_a)
    RequestLogFactory.create(server=server)
    values = {"TENANT": str(tenant_a.id), "SERVER": str(server.id)}
    response = auditor.client().get(URL, {k: values.get(v, v) for k, v in query.items()})
    assert response.status_code == 400
    page = response.content.decode()
    assert "no index covers this filter, so it would read the whole log" in page
    assert "Add api key id, or a time range of at most 24 hours" in page
    assert shown_ids(response) == []


@pytest.mark.django_db
def test_server_choices_name_the_servers(auditor, tenant_a):
    McpServerFactory.create(tenant=tenant_a, name="Billing tools")
    assert b"Billing tools" in auditor.client().get(URL).content
