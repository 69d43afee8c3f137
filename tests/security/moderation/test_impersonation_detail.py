"""One impersonation: what the impersonated user did (audit and requests) while it lasted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from audit.factories import AuditLogFactory, RequestLogFactory
from registry.factories import McpServerFactory
from security.factories import ImpersonationSessionFactory
from security.models import ImpersonationRecord
from security.moderation import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(admin, member) -> ImpersonationRecord:
    """An impersonation that started half an hour ago and is still running."""
    ImpersonationSessionFactory.create(
        user=member,
        impersonated_by=admin.gateway_user.id,
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30),
    )
    services.capture_impersonations()
    return ImpersonationRecord.unscoped.get()


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
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_review_get_403(request, persona, record):
    assert request.getfixturevalue(persona).client().get(page_of(record)).status_code == 403
