"""Marking an impersonation reviewed, with a note kept in the back office's schema."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from backoffice.operations import Refused
from security.models import ImpersonationRecord
from security.moderation import impersonation_capture, services
from tests.pages import assert_page_says, assert_refused
from tests.security.moderation.conftest import audit_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(impersonation) -> ImpersonationRecord:
    impersonation_capture.capture_impersonations()
    return ImpersonationRecord.unscoped.get()


def test_review_keeps_who_when_and_the_note_and_audits(support, record):
    services.review_impersonation(actor=support.actor, record_id=record.pk, note="Ticket 42")
    record.refresh_from_db()
    assert record.reviewed_by == support.gateway_user.email
    assert record.review_note == "Ticket 42" and record.reviewed_at is not None
    (row,) = audit_rows("impersonation.review")
    assert row.details["after"]["review_note"] == "Ticket 42"


def test_the_same_review_twice_writes_one_row(support, record):
    services.review_impersonation(actor=support.actor, record_id=record.pk, note="ok")
    services.review_impersonation(actor=support.actor, record_id=record.pk, note="ok")
    assert len(audit_rows("impersonation.review")) == 1


def test_nobody_reviews_their_own_impersonation(admin, record):
    with pytest.raises(Refused, match="own impersonation"):
        services.review_impersonation(actor=admin.actor, record_id=record.pk, note="fine")
    record.refresh_from_db()
    assert record.reviewed_at is None
    assert [row.outcome for row in audit_rows("impersonation.review")] == ["denied"]


def test_a_review_needs_a_note(support, record):
    with pytest.raises(ValueError, match="needs a note"):
        services.review_impersonation(actor=support.actor, record_id=record.pk, note="  ")


def test_the_page_confirms_then_saves(support, record):
    url = reverse("security:impersonation_review", args=[record.pk])
    client = support.client()
    assert "Mark an impersonation reviewed" in client.get(url).content.decode()
    response = client.post(url, {"note": "Checked with the customer"}, follow=True)
    page = response.content.decode()
    assert "Marked the impersonation reviewed." in page
    assert "Checked with the customer" in page


@pytest.mark.parametrize("note", ["", "a\x00b", "x" * 2001])
def test_bad_notes_are_form_errors(support, record, note):
    url = reverse("security:impersonation_review", args=[record.pk])
    response = support.client().post(url, {"note": note})
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    record.refresh_from_db()
    assert record.reviewed_at is None


def test_the_impersonator_is_refused_on_the_page(admin, record):
    url = reverse("security:impersonation_review", args=[record.pk])
    response = admin.client().post(url, {"note": "all good"})
    assert_page_says(response, 403, "Nobody can review their own impersonation.")


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_review_get_403(request, persona, record):
    url = reverse("security:impersonation_review", args=[record.pk])
    response = request.getfixturevalue(persona).client().post(url, {"note": "x"})
    assert_refused(response)


def test_the_command(support, record):
    call_command(
        "review_impersonation", str(record.pk), "--note", "ok", "--as", support.gateway_user.email
    )
    record.refresh_from_db()
    assert record.review_note == "ok"
    with pytest.raises(CommandError, match="No impersonation session"):
        call_command(
            "review_impersonation", "999999", "--note", "x", "--as", support.gateway_user.email
        )
