"""The audit log explorer: who may open it, what each filter shows, and keyset paging."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.factories import AuditLogFactory
from audit.models import ActorType, AuditLog, AuditOutcome
from backoffice import presentation
from backoffice.audit_actions import AuditAction
from tests.audit.conftest import bulk_audit_logs
from tests.conftest import make_persona
from tests.pages import assert_refused

URL = "/audit/logs/"


def shown_ids(response) -> list[int]:
    """The row ids the page links to, in page order."""
    return [
        int(pk)
        for pk in re.findall(r'href="/audit/logs/(\d+)/(?:\?[^"]*)?"', response.content.decode())
    ]


# --- access --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_open_the_explorer(role):
    entry = AuditLogFactory.create(action="user.ban")
    response = make_persona(role).client().get(URL)
    assert response.status_code == 200
    assert shown_ids(response) == [entry.id]
    assert b"Audit log" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["support", "tenant_admin_a"])
def test_other_roles_are_refused_and_the_refusal_is_recorded(persona, request):
    person = request.getfixturevalue(persona)
    AuditLogFactory.create(action="user.ban")
    response = person.client().get(URL)
    assert_refused(response)
    denied = AuditLog.unscoped.get(actor_id=person.gateway_user.id, action=AuditAction.STAFF_ACCESS)
    assert denied.outcome == AuditOutcome.DENIED
    assert denied.details["path"] == URL


@pytest.mark.django_db
def test_signed_out_people_and_plain_users_go_to_the_sign_in_page(plain_user, client):
    for response in (client.get(URL), plain_user.client().get(URL)):
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_the_tenant_choices_are_the_tenants_the_viewer_may_see(auditor, tenant_a, tenant_b):
    page = auditor.client().get(URL).content.decode()
    assert "Tenant A" in page and "Tenant B" in page
    assert "Platform (no tenant)" in page


# --- filters -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_newest_first(auditor, now):
    older = AuditLogFactory.create(created_at=now - dt.timedelta(hours=2))
    newer = AuditLogFactory.create(created_at=now - dt.timedelta(hours=1))
    assert shown_ids(auditor.client().get(URL)) == [newer.id, older.id]


@pytest.mark.django_db
def test_filter_by_tenant_and_platform_events(auditor, tenant_a, tenant_b):
    in_a = AuditLogFactory.create(tenant_id=tenant_a.id)
    AuditLogFactory.create(tenant_id=tenant_b.id)
    platform = AuditLogFactory.create(tenant_id=None)
    client = auditor.client()
    assert shown_ids(client.get(URL, {"tenant": str(tenant_a.id)})) == [in_a.id]
    assert shown_ids(client.get(URL, {"tenant": "platform"})) == [platform.id]


@pytest.mark.django_db
def test_filter_by_actor_id_or_email(auditor, support):
    by_support = AuditLogFactory.create(actor_id=support.gateway_user.id)
    AuditLogFactory.create(actor_id="someone-else")
    client = auditor.client()
    assert shown_ids(client.get(URL, {"actor": support.gateway_user.id})) == [by_support.id]
    email = support.gateway_user.email.upper()
    assert shown_ids(client.get(URL, {"actor": email})) == [by_support.id]


@pytest.mark.django_db
def test_an_unknown_email_is_a_form_error(auditor):
    response = auditor.client().get(URL, {"actor": "nobody@example.com"})
    assert response.status_code == 400
    assert b"No gateway user has this email." in response.content


@pytest.mark.django_db
def test_filter_by_exact_action_and_by_prefix(auditor):
    ban = AuditLogFactory.create(action="user.ban")
    unban = AuditLogFactory.create(action="user.unban")
    AuditLogFactory.create(action="users.export")  # shares "user" but not "user."
    AuditLogFactory.create(action="api_key.revoke")
    client = auditor.client()
    assert shown_ids(client.get(URL, {"action": "user.ban"})) == [ban.id]
    assert shown_ids(client.get(URL, {"action": "user."})) == [unban.id, ban.id]
    assert shown_ids(client.get(URL, {"action": "user.*"})) == [unban.id, ban.id]


@pytest.mark.django_db
def test_filter_by_actor_type_outcome_and_resource(auditor):
    staff_denied = AuditLogFactory.create(
        by_staff=True, denied=True, action="user.ban", resource_type="user", resource_id="u-1"
    )
    AuditLogFactory.create(action="user.ban", resource_type="user", resource_id="u-2")
    client = auditor.client()
    day = {"period": "24h"}
    assert shown_ids(client.get(URL, {"actor_type": ActorType.STAFF, **day})) == [staff_denied.id]
    assert shown_ids(client.get(URL, {"outcome": "denied", **day})) == [staff_denied.id]
    # Covered by idx_audit_logs_action_resource: no time range needed.
    query = {"action": "user.ban", "resource_type": "user", "resource_id": "u-1"}
    assert shown_ids(client.get(URL, query)) == [staff_denied.id]


@pytest.mark.django_db
def test_filter_by_ip_and_request_id_beside_a_period(auditor):
    request_id = uuid.uuid4()
    match = AuditLogFactory.create(ip_address="203.0.113.9", request_id=request_id)
    AuditLogFactory.create(ip_address="198.51.100.1")
    client = auditor.client()
    assert shown_ids(client.get(URL, {"ip": "203.0.113.9", "period": "24h"})) == [match.id]
    query = {"request_id": str(request_id), "period": "1h"}
    assert shown_ids(client.get(URL, query)) == [match.id]


REFUSED_AUDIT_FILTERS = [
    {"ip": "203.0.113.9"},
    {"ip": "203.0.113.9", "period": "30d"},
    {"ip": "203.0.113.9", "since": "1990-01-01T00:00"},
    {"ip": "203.0.113.9", "tenant": "TENANT"},
    {"request_id": str(uuid.UUID(int=7)), "period": "7d"},
    {"resource_id": "u-1", "period": "30d"},
    {"resource_id": "u-1", "action": "user.ban"},  # the index's middle column is missing
    {"resource_type": "user"},
    {"resource_type": "user", "action": "user."},  # a prefix: the type is not an index condition
    {"outcome": "denied", "tenant": "TENANT", "period": "7d"},
    {"actor_type": "staff", "until": "2025-01-01T00:00"},
    {"outcome": "denied", "since": "2025-01-01T00:00", "until": "2025-01-02T00:01"},
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", REFUSED_AUDIT_FILTERS)
def test_unindexed_filters_without_a_bound_are_refused(auditor, tenant_a, query):
    AuditLogFactory.create(ip_address="203.0.113.9", tenant_id=tenant_a.id)
    query = {k: str(tenant_a.id) if v == "TENANT" else v for k, v in query.items()}
    with CaptureQueriesContext(connection) as queries:
        response = auditor.client().get(URL, query)
    assert response.status_code == 400
    page = response.content.decode()
    assert "no index covers this filter, so it would read the whole log" in page
    assert "Add actor (id or email), or a time range of at most 24 hours" in page
    assert shown_ids(response) == []
    assert not [q for q in queries if 'FROM "audit_logs"' in q["sql"]]


ACCEPTED_AUDIT_FILTERS = [
    {"ip": "203.0.113.9", "period": "24h"},
    {"ip": "203.0.113.9", "since": "SINCE", "until": "UNTIL"},
    {"ip": "203.0.113.9", "since": "SINCE"},
    {"ip": "203.0.113.9", "actor": "ACTOR"},
    {"ip": "203.0.113.9", "tenant": "TENANT", "period": "1h"},
    {"resource_type": "user", "action": "user.ban"},
    {"resource_id": "r-9", "resource_type": "user", "action": "user.ban"},
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ACCEPTED_AUDIT_FILTERS)
def test_unindexed_filters_with_a_bound_are_accepted(auditor, tenant_a, now, query):
    entry = AuditLogFactory.create(
        ip_address="203.0.113.9", tenant_id=tenant_a.id, resource_id="r-9", actor_id="a-9"
    )
    values = {
        "TENANT": str(tenant_a.id),
        "ACTOR": "a-9",
        "SINCE": f"{now - dt.timedelta(hours=23):%Y-%m-%dT%H:%M}",
        "UNTIL": f"{now + dt.timedelta(minutes=5):%Y-%m-%dT%H:%M}",
    }
    query = {k: values.get(v, v) for k, v in query.items()}
    response = auditor.client().get(URL, query)
    assert response.status_code == 200, response.content.decode()[-3000:]
    assert shown_ids(response) == [entry.id]


@pytest.mark.django_db
def test_time_presets(auditor, now):
    # Written oldest first, as the gateway appends to its log.
    AuditLogFactory.create(created_at=now - dt.timedelta(days=20))
    last_week = AuditLogFactory.create(created_at=now - dt.timedelta(days=5))
    yesterday = AuditLogFactory.create(created_at=now - dt.timedelta(hours=20))
    recent = AuditLogFactory.create(created_at=now - dt.timedelta(minutes=30))
    client = auditor.client()
    assert shown_ids(client.get(URL, {"period": "1h"})) == [recent.id]
    assert shown_ids(client.get(URL, {"period": "24h"})) == [recent.id, yesterday.id]
    assert shown_ids(client.get(URL, {"period": "7d"})) == [recent.id, yesterday.id, last_week.id]


@pytest.mark.django_db
def test_absolute_bounds_are_read_in_the_chosen_time_zone(auditor):
    # 09:30 in Paris on 15 January is 08:30 UTC.
    inside = AuditLogFactory.create(created_at=dt.datetime(2025, 1, 15, 8, 30, tzinfo=dt.UTC))
    later = AuditLogFactory.create(created_at=dt.datetime(2025, 1, 15, 9, 30, tzinfo=dt.UTC))
    query = {"since": "2025-01-15T09:00", "until": "2025-01-15T10:00", "tz": "Europe/Paris"}
    response = auditor.client().get(URL, query)
    assert shown_ids(response) == [inside.id]
    assert b"2025-01-15 09:30:00" in response.content  # shown in the viewer's zone
    utc = auditor.client().get(URL, {**query, "tz": "UTC"})
    assert shown_ids(utc) == [later.id]


@pytest.mark.django_db
def test_the_total_is_exact_on_one_page_and_an_estimate_beyond(auditor):
    AuditLogFactory.create_batch(3)
    assert b"3 entries" in auditor.client().get(URL).content
    bulk_audit_logs(150)
    page = auditor.client().get(URL).content
    assert b"(estimate)" in page
    assert b"COUNT(" not in page


# --- keyset paging -------------------------------------------------------------------------


def follow_pages(client, query: dict) -> tuple[list[int], list[int]]:
    """Every id over every page, and the number of queries each page sent."""
    ids: list[int] = []
    query_counts: list[int] = []
    url: str | None = URL + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    # The filter's choices are cached after a server's first view; only later pages count here.
    client.get(url)
    while url:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        query_counts.append(len(queries))
        ids += shown_ids(response)
        match = re.search(r'href="(\?[^"]*cursor=[^"]*)" rel="next"', response.content.decode())
        url = URL + match.group(1).replace("&amp;", "&") if match else None
    return ids, query_counts


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{}, {"tenant": "TENANT"}], ids=["by id", "by time"])
def test_pages_cover_every_row_once_in_order_at_a_fixed_cost(auditor, tenant_a, query):
    query = {k: str(tenant_a.id) if v == "TENANT" else v for k, v in query.items()}
    same_second = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    bulk_audit_logs(230, tenant_id=tenant_a.id)
    # Rows sharing one created_at must not be skipped or repeated at a page boundary.
    for _ in range(5):
        AuditLogFactory.create(tenant_id=tenant_a.id, created_at=same_second)
    expected = list(
        AuditLog.unscoped.filter(tenant_id=tenant_a.id)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )
    if not query:
        expected = list(AuditLog.unscoped.order_by("-id").values_list("id", flat=True))
    ids, query_counts = follow_pages(auditor.client(), query)
    assert ids == expected
    assert len(query_counts) == 3
    assert len(set(query_counts)) == 1, query_counts


def link(response, rel: str) -> str | None:
    match = re.search(rf'href="(\?[^"]*)" rel="{rel}"', response.content.decode())
    return URL + match.group(1).replace("&amp;", "&") if match else None


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{}, {"tenant": "TENANT"}], ids=["by id", "by time"])
def test_newer_goes_back_page_by_page_to_the_newest(auditor, tenant_a, query):
    query = {k: str(tenant_a.id) if v == "TENANT" else v for k, v in query.items()}
    bulk_audit_logs(330, tenant_id=tenant_a.id)
    client = auditor.client()
    pages = [client.get(URL, query)]
    for _ in range(3):
        pages.append(client.get(link(pages[-1], "next")))
    assert link(pages[0], "prev") is None
    forward = [shown_ids(page) for page in pages]
    assert [len(ids) for ids in forward] == [100, 100, 100, 30]
    page = pages[-1]
    for expected in reversed(forward[:-1]):
        page = client.get(link(page, "prev"))
        assert page.status_code == 200
        assert shown_ids(page) == expected
    # Back at the top: the newest page, whole, with no Newer link and the Older one working.
    assert link(page, "prev") is None and "Page 1." in page.content.decode()
    assert shown_ids(client.get(link(page, "next"))) == forward[1]


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_rows(auditor):
    client = auditor.client()
    client.get(URL)  # the session and the actor are read the same way on every request
    AuditLogFactory.create()
    with CaptureQueriesContext(connection) as one_row:
        client.get(URL)
    bulk_audit_logs(500)
    with CaptureQueriesContext(connection) as many_rows:
        client.get(URL)
    assert len(one_row) == len(many_rows)


@pytest.mark.django_db
def test_a_malformed_cursor_is_a_clear_message(auditor):
    AuditLogFactory.create()
    response = auditor.client().get(URL, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert b"This page link is malformed." in response.content
    assert shown_ids(response) == []


def test_people_are_shown_by_email_not_by_their_gateway_id(auditor, support):
    someone = make_persona("user", email="someone@example.com")
    AuditLogFactory.create(
        actor_id=support.gateway_user.id,
        actor_type=ActorType.STAFF,
        action="user.ban",
        resource_type="user",
        resource_id=someone.gateway_user.id,
    )
    page = auditor.client().get(URL).content.decode()
    # Each email written to break only before its "@" and dots, never mid-word.
    assert f"staff {presentation.breakable(support.gateway_user.email)}" in page
    assert f"user {presentation.breakable('someone@example.com')}" in page
    assert someone.gateway_user.id not in page.split("<tbody")[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", [{"newer": "not-a-cursor"}, {"newer": "1.1", "cursor": "1.1"}], ids=["bad", "both"]
)
def test_a_malformed_newer_link_is_a_clear_message(auditor, query):
    AuditLogFactory.create()
    response = auditor.client().get(URL, query)
    assert response.status_code == 400
    assert b"This page link is malformed." in response.content
