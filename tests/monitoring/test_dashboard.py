"""The home dashboard shows each role what matters to them, and only their tenant's rows."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.factories import AuditLogFactory, RequestLogFactory
from audit.models import RequestLog
from backoffice import presentation
from monitoring import dashboard
from registry.factories import McpServerFactory
from security.factories import ApiKeyFactory, GatewayUserFactory, ImpersonationSessionFactory
from security.models import GatewayUser
from tests.monitoring.conftest import as_number, function_rows, read_cells
from tests.pages import assert_page_says, heading_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a, tenant_b):
    return {
        "banned": GatewayUserFactory.create(
            tenant=tenant_a, banned_permanent=True, email="bad@a.test"
        ),
        "ban_lapsed": GatewayUserFactory.create(
            tenant=tenant_a, banned_expired=True, email="lapsed@a.test"
        ),
        "impersonated": ImpersonationSessionFactory.create(
            user__tenant=tenant_a, user__email="imp@a.test"
        ),
        "key_a": ApiKeyFactory.create(tenant=tenant_a, expiring=True, name="key-of-a-expiring"),
        "key_a_later": ApiKeyFactory.create(tenant=tenant_a, name="key-of-a-later"),
        "key_b": ApiKeyFactory.create(tenant=tenant_b, expiring=True, name="key-of-b-expiring"),
        "denied": AuditLogFactory.create(
            denied=True, action="server.deactivate", tenant_id=tenant_b.pk
        ),
        "old_denied": AuditLogFactory.create(
            denied=True,
            action="user.old_denial",
            created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=30),
        ),
        "sick_a": McpServerFactory.create(tenant=tenant_a, unhealthy=True, name="sick-a"),
        "sick_b": McpServerFactory.create(tenant=tenant_b, unhealthy=True, name="sick-b"),
        "sick_off": McpServerFactory.create(
            tenant=tenant_b, unhealthy=True, inactive=True, name="off"
        ),
    }


def _home(persona) -> str:
    response = persona.client().get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_support_sees_banned_users_and_active_impersonations(support, world):
    html = _home(support)
    assert 'id="banned-users"' in html and "bad@a.test" in html
    assert 'id="active-impersonations"' in html and "imp@a.test" in html
    assert 'id="denied-actions"' not in html
    assert 'id="keys-expiring"' not in html


def test_an_expired_ban_is_not_counted_or_listed_as_banned(support, world):
    html = _home(support)
    assert "lapsed@a.test" not in html
    card = re.search(r'id="card-banned-users".*?card-value">(\d+)<', html, re.S)
    assert card is not None and card.group(1) == "1"


def test_tenant_admin_sees_their_keys_expiring_soon_and_usage(tenant_admin_a, world):
    html = _home(tenant_admin_a)
    assert "key-of-a-expiring" in html
    assert "key-of-a-later" not in html  # 90 days away
    assert "key-of-b-expiring" not in html  # another tenant's
    assert 'id="usage"' in html and "Usage of Tenant A" in html
    assert "sick-a" in html and "sick-b" not in html
    assert "Tenant B" not in html
    assert 'id="banned-users"' not in html and 'id="denied-actions"' not in html
    assert "bad@a.test" not in html


def test_auditor_sees_recent_denied_actions(auditor, world):
    html = _home(auditor)
    assert 'id="denied-actions"' in html and "server.deactivate" in html
    assert "user.old_denial" not in html  # older than the panel's 24 hours
    assert 'id="banned-users"' not in html
    assert 'id="unhealthy-servers"' not in html


def test_admin_sees_unhealthy_servers_and_everything_else(admin, world):
    html = _home(admin)
    for section in ("unhealthy-servers", "banned-users", "active-impersonations", "keys-expiring"):
        assert f'id="{section}"' in html
    assert 'id="denied-actions"' in html and 'id="server-health"' in html
    assert "sick-a" in html and "sick-b" in html
    assert ">off<" not in html  # inactive servers are not alerts
    card = html.split('id="card-unhealthy-servers"')[1]
    assert '<span class="card-value">2</span>' in card.split("</a>")[0]


def test_links_onward_to_the_admin_pages(admin, world):
    html = _home(admin)
    assert f'href="/admin/registry/mcpserver/{world["sick_a"].pk}/change/"' in html
    assert "/analytics/performance/" in html and "/monitoring/metrics/" in html


def test_every_onward_link_opens(admin, world):
    client = admin.client()
    html = client.get("/").content.decode()
    links = set(re.findall(r'<a(?: class="[^"]*")?(?: id="[^"]*")? href="(/[^"#]+)"', html))
    assert any("ban=active" in link for link in links)
    assert any("outcome=denied&amp;period=24h" in link for link in links)
    for link in sorted(links):
        response = client.get(link.replace("&amp;", "&"))
        assert "e=1" not in response.get("Location", ""), link
        # Opens: the page itself (not an error page) under the heading its title names.
        title = (response.context or {}).get("title")
        assert title, link
        assert_page_says(response, 200, "</h1>")
        assert heading_of(response) == title.strip(), link


def test_anonymous_and_plain_users_are_sent_to_sign_in(client, plain_user):
    for c in (client, plain_user.client()):
        response = c.get("/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_admin_index_links_to_the_pages_a_role_may_open(tenant_admin_a, auditor):
    tenant_html = tenant_admin_a.client().get("/admin/").content.decode()
    assert 'href="/analytics/usage/"' in tenant_html
    assert 'href="/analytics/health/"' not in tenant_html
    assert 'href="/monitoring/metrics/"' not in tenant_html
    auditor_html = auditor.client().get("/admin/").content.decode()
    assert 'href="/analytics/health/"' in auditor_html
    assert 'href="/monitoring/metrics/"' in auditor_html


def _card(html: str, card_id: str) -> str:
    return html.split(f'id="{card_id}"')[1].split('card-value">')[1].split("<")[0]


def test_counts_stop_at_the_cap_and_say_so(admin, world, tenant_a, monkeypatch):
    monkeypatch.setattr(dashboard, "COUNT_CAP", 2)
    for n in range(3):
        GatewayUserFactory.create(tenant=tenant_a, banned_permanent=True, email=f"b{n}@a.test")
        AuditLogFactory.create(denied=True, action=f"user.denial_{n}")
    html = _home(admin)
    assert _card(html, "card-banned-users") == "2+"  # 4 banned
    assert _card(html, "card-denied") == "2+"  # 4 denied in the last 24 hours
    assert _card(html, "card-unhealthy-servers") == "2"  # exactly at the cap: no "+"
    assert _card(html, "card-active-impersonations") == "1"


def test_every_dashboard_count_reads_a_limited_subquery(admin, world):
    with CaptureQueriesContext(connection) as queries:
        _home(admin)
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 5
    for sql in counts:
        assert f"LIMIT {dashboard.COUNT_CAP + 1}" in sql, sql


def test_a_capped_count_is_written_with_a_thousands_separator_and_a_plus():
    assert str(dashboard.CappedCount(1000, more=True)) == "1,000+"
    assert str(dashboard.CappedCount(999)) == "999"
    assert not dashboard.CappedCount(0)


def _usage_cells(html: str) -> dict[str, float | None]:
    section = html.split('id="usage"')[1].split("</section>")[0]
    return {column: as_number(value) for (_, column), value in read_cells(section).values.items()}


def test_tenant_admins_usage_panel_shows_the_functions_numbers(tenant_admin_a, tenant_a, traffic):
    ApiKeyFactory.create(tenant=tenant_a)
    (expected,) = function_rows("SELECT * FROM get_tenant_usage_summary(%s, 24)", [tenant_a.pk])
    assert expected["total_requests"] == 10  # the fixture's tenant A traffic of the last day
    shown = _usage_cells(_home(tenant_admin_a))
    assert set(shown) == {
        "total_requests",
        "error_count",
        "p95_duration_ms",
        "active_api_keys",
        "active_servers",
    }
    for column, value in shown.items():
        wanted = expected[column]
        assert value is not None and math.isclose(value, wanted), column
    assert expected["error_count"] == 3 and expected["active_api_keys"] == 1


def test_big_numbers_have_thousands_separators(tenant_admin_a, admin, tenant_a, traffic):
    now = dt.datetime.now(dt.UTC)
    RequestLog.unscoped.bulk_create(
        RequestLogFactory.build_batch(1234, server=traffic.a_quiet, created_at=now)
    )
    (usage,) = function_rows("SELECT * FROM get_tenant_usage_summary(%s, 24)", [tenant_a.pk])
    total = f"{usage['total_requests']:,}"
    assert total == "1,244"
    home = _home(tenant_admin_a)
    assert f'card-value">{total}</span>' in home
    assert f'data-value="{usage["total_requests"]}">{total}</td>' in home
    usage_page = tenant_admin_a.client().get(f"/analytics/usage/{tenant_a.pk}/").content.decode()
    assert f'card-value">{total}</span>' in usage_page
    performance = admin.client().get("/analytics/performance/", {"hours": 1}).content.decode()
    assert 'class="num">1,237</td>' in performance  # a_quiet: 3 + 1,234 requests
    assert ">1237<" not in performance


def test_impersonations_name_the_impersonator_by_email_and_link_both_people(support, world):
    session = world["impersonated"]
    impersonator = GatewayUser.unscoped.get(pk=session.impersonated_by)
    client = support.client()
    html = client.get("/").content.decode()
    row = html.split(f'data-session="{session.pk}"')[1].split("</tr>")[0]
    by_cell = row.split("<td>")[2].split("</td>")[0]
    assert re.sub(r"<[^>]+>", "", by_cell) == impersonator.email  # not the raw Better-Auth id
    for user_id in (session.user_id, session.impersonated_by):
        link = f"/admin/security/gatewayuser/{user_id}/change/"
        assert f'href="{link}"' in row
        user = GatewayUser.unscoped.get(pk=user_id)
        assert_page_says(client.get(link), 200, "<h1>View gateway user</h1>", user.email)


def test_banned_users_link_to_their_moderation_page(support, world):
    html = _home(support)
    row = html.split(f'data-user="{world["banned"].pk}"')[1].split("</tr>")[0]
    assert (
        f'<a href="/admin/security/gatewayuser/{world["banned"].pk}/change/">'
        f"{presentation.breakable('bad@a.test')}</a>" in row
    )


def test_impersonators_cost_no_query_each(support, world, tenant_a):
    with CaptureQueriesContext(connection) as one:
        _home(support)
    for n in range(3):
        ImpersonationSessionFactory.create(user__tenant=tenant_a, user__email=f"imp{n}@a.test")
    with CaptureQueriesContext(connection) as four:
        html = _home(support)
    assert html.count("data-session=") == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def _card_label(html: str, card_id: str) -> str:
    match = re.search(rf'id="{card_id}".*?card-label">([^<]*)<', html, re.S)
    assert match is not None, card_id
    return match.group(1)


def test_card_labels_agree_with_their_counts(admin, world, tenant_a):
    html = _home(admin)
    # One of each in the world: no "1 active impersonations".
    assert _card(html, "card-active-impersonations") == "1"
    assert _card_label(html, "card-active-impersonations") == "active impersonation"
    assert _card(html, "card-banned-users") == "1"
    assert _card_label(html, "card-banned-users") == "banned user"
    GatewayUserFactory.create(tenant=tenant_a, banned_permanent=True, email="worse@a.test")
    html = _home(admin)
    assert _card(html, "card-banned-users") == "2"
    assert _card_label(html, "card-banned-users") == "banned users"
    assert _card(html, "card-unhealthy-servers") == "2"
    assert _card_label(html, "card-unhealthy-servers") == "unhealthy servers"
