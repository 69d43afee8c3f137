"""Ending an active impersonation deletes its session row; audited; history kept."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditLog
from backoffice import staff_audit
from security.factories import ImpersonationSessionFactory
from security.models import GatewaySession, ImpersonationRecord
from security.moderation import impersonation_capture, services
from tests.conftest import Persona, make_persona
from tests.pages import assert_not_found, assert_refused
from tests.security.moderation.conftest import audit_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(db) -> Persona:
    """Another support person: support may end their impersonations, not an admin's."""
    return make_persona("support")


@pytest.fixture
def impersonation(colleague, member):
    """A support colleague impersonating the member right now."""
    return ImpersonationSessionFactory.create(
        user=member, impersonated_by=colleague.gateway_user.id
    )


@pytest.fixture
def record(impersonation) -> ImpersonationRecord:
    impersonation_capture.capture_impersonations()
    return ImpersonationRecord.unscoped.get()


def test_ending_deletes_the_session_and_records_who_ended_it(support, impersonation, record):
    outcome = services.end_impersonation(actor=support.actor, record_id=record.pk)
    assert outcome.changed and not GatewaySession.unscoped.filter(pk=impersonation.pk).exists()
    record.refresh_from_db()
    assert record.status == "ended" and record.ended_by == support.gateway_user.email
    (row,) = audit_rows("impersonation.end")
    assert row.resource_id == impersonation.pk and row.details["impersonated_email"]
    assert impersonation.token not in str(row.details)


def test_ending_twice_writes_one_audit_row(support, record):
    services.end_impersonation(actor=support.actor, record_id=record.pk)
    assert services.end_impersonation(actor=support.actor, record_id=record.pk).unchanged
    assert len(audit_rows("impersonation.end")) == 1


def test_a_failure_after_the_change_leaves_neither_change_nor_row(support, impersonation, record):
    real_record = staff_audit.record_staff_action

    def record_then_fail(**kwargs):
        real_record(**kwargs)
        raise RuntimeError("boom")

    with (
        mock.patch.object(services, "record_staff_action", side_effect=record_then_fail),
        pytest.raises(RuntimeError),
    ):
        services.end_impersonation(actor=support.actor, record_id=record.pk)
    assert GatewaySession.unscoped.filter(pk=impersonation.pk).exists()
    record.refresh_from_db()
    assert record.ended_at is None
    assert not AuditLog.unscoped.filter(action="impersonation.end").exists()


def test_the_page_confirms_then_ends(support, impersonation, record):
    url = reverse("security:impersonation_end", args=[record.pk])
    client = support.client()
    page = client.get(url).content.decode()
    assert "their impersonation session is deleted" in page
    response = client.post(url, follow=True)
    assert "Ended the impersonation of mia@example.com." in response.content.decode()
    assert not GatewaySession.unscoped.filter(pk=impersonation.pk).exists()


def test_an_impersonation_that_is_over_cannot_be_ended(support, impersonation, record):
    services.end_impersonation(actor=support.actor, record_id=record.pk)
    page = support.client().get(reverse("security:impersonation_end", args=[record.pk]))
    assert "there is nothing to end" in page.content.decode()


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_review_get_403(request, persona, impersonation, record):
    url = reverse("security:impersonation_end", args=[record.pk])
    assert_refused(request.getfixturevalue(persona).client().post(url))
    assert GatewaySession.unscoped.filter(pk=impersonation.pk).exists()


@pytest.mark.parametrize("record_id", ["424242", "99999999999999999999999"])
def test_unknown_records_are_404(support, record_id):
    assert_not_found(support.client().post(f"/security/impersonations/{record_id}/end/"))


def test_the_command(support, impersonation, record, capsys):
    call_command("end_impersonation", str(record.pk), "--as", support.gateway_user.email)
    assert not GatewaySession.unscoped.filter(pk=impersonation.pk).exists()
    assert "Ended:" in capsys.readouterr().out


def test_ending_an_expired_impersonation_says_it_expired(support, colleague, member):
    ImpersonationSessionFactory.create(
        user=member, impersonated_by=colleague.gateway_user.id, expired=True
    )
    impersonation_capture.capture_impersonations()
    record = ImpersonationRecord.unscoped.get()
    response = support.client().post(
        reverse("security:impersonation_end", args=[record.pk]), follow=True
    )
    page = response.content.decode()
    assert "Nothing changed: this impersonation had already expired." in page
    assert "already ended" not in page
