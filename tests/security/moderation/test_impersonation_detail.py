"""One impersonation: what the impersonated user did (audit and requests) while it lasted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.factories import AuditLogFactory, RequestLogFactory
from registry.factories import McpServerFactory
from security.factories import ImpersonationSessionFactory
from security.models import GatewaySession, ImpersonationRecord
from security.moderation import impersonation_capture
from tests.pages import assert_not_found, assert_refused
from tests.security.moderation.conftest import breakable

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(admin, member) -> ImpersonationRecord:
    """An impersonation that started half an hour ago and is still running."""
    ImpersonationSessionFactory.create(
        user=member,
        impersonated_by=admin.gateway_user.id,
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30),
    )
    impersonation_capture.capture_impersonations()
    return ImpersonationRecord.unscoped.get()


def stop_in_the_gateway(record: ImpersonationRecord, noticed: dt.datetime) -> None:
    """Better-Auth deleted the session row; a capture noticed it at ``noticed``."""
    GatewaySession.unscoped.filter(pk=record.session_id).delete()
    ImpersonationRecord.unscoped.filter(pk=record.pk).update(ended_at=noticed)


def page_of(record) -> str:
    return reverse("admin:security_impersonationrecord_change", args=[record.pk])


def test_the_page_shows_activity_inside_the_window_only(support, member, record, tenant_a):
    inside = record.started_at + dt.timedelta(minutes=5)
    before = record.started_at - dt.timedelta(hours=2)
    AuditLogFactory.create(actor_id=member.pk, action="tools.call", created_at=inside)
    AuditLogFactory.create(actor_id=member.pk, action="profile.update", created_at=before)
    server = McpServerFactory.create(tenant=tenant_a, name="Docs server")
    RequestLogFactory.create(
        server=server, user_id=member.pk, tool_name="search_docs", created_at=inside
    )
    RequestLogFactory.create(
        server=server, user_id=member.pk, tool_name="old_tool", created_at=before
    )
    response = support.client().get(page_of(record))
    assert response.status_code == 200
    page = response.content.decode()
    assert "tools.call" in page and "profile.update" not in page
    assert "search_docs" in page and "Docs server" in page and "old_tool" not in page


def test_the_page_offers_end_and_review(support, record):
    page = support.client().get(page_of(record)).content.decode()
    assert reverse("security:impersonation_end", args=[record.pk]) in page
    assert reverse("security:impersonation_review", args=[record.pk]) in page


@pytest.mark.parametrize("record_id", ["999999", "99999999999999999999999", "abc", "1%00"])
def test_unknown_and_malformed_ids_are_404(support, record, record_id):
    response = support.client().get(f"/admin/security/impersonationrecord/{record_id}/change/")
    assert_not_found(response)


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_review_get_403(request, persona, record):
    assert_refused(request.getfixturevalue(persona).client().get(page_of(record)))


@pytest.mark.parametrize("by", ["gateway stop in the session", "back-office end"])
def test_the_window_ends_at_the_audited_stop_not_when_a_capture_noticed(
    support, admin, member, record, by
):
    stopped = record.started_at + dt.timedelta(minutes=10)
    noticed = record.started_at + dt.timedelta(minutes=25)
    stop_in_the_gateway(record, noticed)
    if by == "back-office end":
        AuditLogFactory.create(
            action="impersonation.end",
            actor_id=support.gateway_user.pk,
            resource_type="session",
            resource_id=record.session_id,
            created_at=stopped,
        )
    else:
        AuditLogFactory.create(
            action="impersonation.stop",
            actor_id=admin.gateway_user.pk,
            resource_type="user",
            resource_id=member.pk,
            session_id=record.session_id,
            created_at=stopped,
        )
    during = record.started_at + dt.timedelta(minutes=5)
    after_the_stop = record.started_at + dt.timedelta(minutes=15)
    AuditLogFactory.create(actor_id=member.pk, action="tools.call", created_at=during)
    AuditLogFactory.create(actor_id=member.pk, action="profile.update", created_at=after_the_stop)

    response = support.client().get(page_of(record))
    page = response.content.decode()
    assert response.context["window_end"] == stopped
    assert "tools.call" in page and "profile.update" not in page


def test_without_a_stop_event_the_window_ends_when_the_capture_noticed(support, record):
    noticed = record.started_at + dt.timedelta(minutes=25)
    stop_in_the_gateway(record, noticed)
    response = support.client().get(page_of(record))
    assert response.context["window_end"] == noticed


def test_audit_tables_name_people_by_email_in_one_query(support, admin, member, record):
    inside = record.started_at + dt.timedelta(minutes=5)
    for _ in range(3):
        AuditLogFactory.create(
            actor_id=member.pk,
            action="user.update",
            resource_type="user",
            resource_id=admin.gateway_user.pk,
            created_at=inside,
        )
    client = support.client()
    client.get(page_of(record))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        page = client.get(page_of(record)).content.decode()
    user_page = reverse("admin:security_gatewayuser_change", args=[admin.gateway_user.pk])
    on_cell = f'<td><a href="{user_page}">{breakable(admin.gateway_user.email)}</a></td>'
    assert page.count(on_cell) == 3  # each audit row's "On" names the user by email
    assert f'<div class="readonly"><a href="{user_page}">' in page  # the impersonator links on
    email_reads = [q for q in queries.captured_queries if 'FROM "user"' in q["sql"]]
    assert len(email_reads) <= 3  # the page's own reads; not one per audit row


def test_the_address_is_labelled_ip_address(support, record):
    page = support.client().get(page_of(record)).content.decode()
    assert "IP address" in page and "Ip address" not in page
