"""The header's search box: one posted query, results by kind, never across a tenant, and a
pasted API key searched by its prefix without reaching a URL, the access log or the page."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid

import pytest
from django.utils import timezone

from audit.factories import AuditLogFactory
from registry.factories import McpServerFactory
from security.api_key_secrets import generate_api_key
from security.factories import ApiKeyFactory, GatewayUserFactory
from tests.pages import assert_page_says


@pytest.mark.django_db
def test_a_user_is_found_by_email_name_or_id(admin, tenant_a):
    user = GatewayUserFactory.create(tenant=tenant_a, email="zelda@acme.example", name="Zelda Q")
    client = admin.client()
    for query in ("zelda@", "Zelda", user.pk):
        html = assert_page_says(client.post("/search/", {"q": query}), 200, "zelda@acme.example")
        assert 'id="search-users"' in html


@pytest.mark.django_db
def test_results_stay_inside_the_actors_tenant(tenant_admin_a, tenant_a, tenant_b):
    ApiKeyFactory.create(tenant=tenant_a, name="Ours")
    theirs = ApiKeyFactory.create(tenant=tenant_b, name="Theirs")
    McpServerFactory.create(tenant=tenant_a, name="search-target-a")
    McpServerFactory.create(tenant=tenant_b, name="search-target-b")
    client = tenant_admin_a.client()
    html = assert_page_says(client.post("/search/", {"q": "search-target"}), 200)
    assert "search-target-a" in html and "search-target-b" not in html
    html = assert_page_says(client.post("/search/", {"q": theirs.key_prefix}), 200)
    assert "Theirs" not in html
    # A tenant admin may not moderate users: that kind is not searched at all.
    assert 'id="search-users"' not in html


@pytest.mark.django_db
def test_a_pasted_key_is_searched_by_prefix_and_never_shown_or_logged(
    tenant_admin_a, tenant_a, caplog
):
    material = generate_api_key()
    ApiKeyFactory.create(tenant=tenant_a, name="Pasted one", material=material)
    client = tenant_admin_a.client()
    with caplog.at_level(logging.DEBUG):
        response = client.post("/search/", {"q": material.plaintext})
    html = assert_page_says(response, 200, "Pasted one", material.prefix, 'id="pasted-key-note"')
    assert material.plaintext not in html
    assert material.plaintext not in caplog.text
    assert material.plaintext not in response.request["PATH_INFO"]
    assert "QUERY_STRING" not in response.request or not response.request["QUERY_STRING"]
    # The access log line of the request names the path only.
    lines = [r.getMessage() for r in caplog.records if r.name == "backoffice.request"]
    assert lines and all(material.plaintext not in line for line in lines)


@pytest.mark.django_db
def test_a_query_in_a_url_is_never_read(tenant_admin_a):
    response = tenant_admin_a.client().get("/search/", {"q": "mcpgw_abc"})
    assert response.status_code == 302
    assert response["Location"] == "/search/"


@pytest.mark.django_db
def test_a_request_id_finds_its_audit_rows_for_an_auditor_only(auditor, support):
    request_id = uuid.uuid4()
    entry = AuditLogFactory.create(request_id=request_id, action="user.ban")
    html = assert_page_says(auditor.client().post("/search/", {"q": str(request_id)}), 200)
    assert f"/audit/logs/{entry.pk}/" in html
    html = assert_page_says(support.client().post("/search/", {"q": str(request_id)}), 200)
    assert f"/audit/logs/{entry.pk}/" not in html


@pytest.mark.django_db
def test_a_request_id_is_looked_for_one_day_at_a_time_and_the_page_says_which(auditor):
    request_id = uuid.uuid4()
    older = AuditLogFactory.create(
        request_id=request_id,
        action="user.ban",
        created_at=timezone.now() - dt.timedelta(hours=36),
    )
    client = auditor.client()
    html = assert_page_says(
        client.post("/search/", {"q": str(request_id)}),
        200,
        'id="request-window"',
        "only the audit rows from",
        'name="days_back" value="1"',
        "Search the day before",
    )
    assert f"/audit/logs/{older.pk}/" not in html
    html = assert_page_says(client.post("/search/", {"q": str(request_id), "days_back": "1"}), 200)
    assert f"/audit/logs/{older.pk}/" in html
    assert 'name="days_back" value="2"' in html
    # The explorer's link names that day, in UTC, so it shows the same rows.
    link = re.search(r'href="(/audit/logs/\?[^"]*since=[^"]*)"', html)
    assert link is not None
    listed = client.get(link.group(1).replace("&amp;", "&"))
    assert_page_says(listed, 200, f"/audit/logs/{older.pk}/")
    # Never further back than 30 days, whatever is posted.
    html = assert_page_says(
        client.post("/search/", {"q": str(request_id), "days_back": "999"}), 200
    )
    assert 'name="days_back"' not in html


@pytest.mark.django_db
def test_every_page_header_posts_its_search(auditor):
    html = assert_page_says(auditor.client().get("/"), 200, 'id="header-search"')
    start = html.index('id="header-search"')
    assert 'method="post"' in html[start : html.index(">", start)]
