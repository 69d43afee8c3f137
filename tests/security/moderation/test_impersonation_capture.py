"""The back office keeps its own record of every impersonation session it has seen."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connections

from security.factories import GatewaySessionFactory, ImpersonationSessionFactory
from security.models import GatewaySession, ImpersonationRecord
from security.moderation import impersonation_capture, services
from tests.concurrency import GIVE_UP_AFTER, backend_pid, wait_until_blocked_behind

pytestmark = pytest.mark.django_db


def test_capture_records_impersonations_only_and_never_the_token(admin, member, impersonation):
    GatewaySessionFactory.create(user=member)  # an ordinary session: not an impersonation
    result = impersonation_capture.capture_impersonations()
    assert (result.seen, result.recorded, result.ended) == (1, 1, 0)
    record = ImpersonationRecord.unscoped.get()
    assert record.session_id == impersonation.pk
    assert record.impersonator_id == admin.gateway_user.id
    assert record.impersonator_email == admin.gateway_user.email
    assert record.impersonated_email == member.email
    assert record.tenant_id == member.tenant_id
    assert record.ip_address == impersonation.ip_address
    assert record.status == "active"
    assert impersonation.token not in str(ImpersonationRecord.unscoped.values().get())


def test_capturing_twice_keeps_one_record(impersonation):
    impersonation_capture.capture_impersonations()
    result = impersonation_capture.capture_impersonations()
    assert result.recorded == 0 and ImpersonationRecord.unscoped.count() == 1


def test_history_survives_better_auth_deleting_the_row(impersonation):
    impersonation_capture.capture_impersonations()
    GatewaySession.unscoped.filter(pk=impersonation.pk).delete()  # the admin stopped it
    result = impersonation_capture.capture_impersonations()
    assert result.ended == 1
    record = ImpersonationRecord.unscoped.get()
    assert record.status == "ended" and record.ended_at is not None and record.ended_by == ""


def test_an_impersonation_past_its_expiry_shows_expired(admin, member):
    ImpersonationSessionFactory.create(
        user=member, impersonated_by=admin.gateway_user.id, expired=True
    )
    impersonation_capture.capture_impersonations()
    GatewaySession.unscoped.all().delete()  # Better-Auth's clean-up of expired sessions
    impersonation_capture.capture_impersonations()
    assert ImpersonationRecord.unscoped.get().status == "expired"


def test_extended_sessions_update_their_expiry(impersonation):
    impersonation_capture.capture_impersonations()
    later = impersonation.expires_at + dt.timedelta(hours=1)
    GatewaySession.unscoped.filter(pk=impersonation.pk).update(expires_at=later)
    impersonation_capture.capture_impersonations()
    assert ImpersonationRecord.unscoped.get().expires_at == later


def test_the_command_can_run_on_a_schedule(impersonation, capsys):
    call_command("capture_impersonations")
    assert "Seen 1 impersonation session(s): 1 new" in capsys.readouterr().out
    assert ImpersonationRecord.unscoped.count() == 1


def test_a_record_closed_while_its_session_row_is_still_there_is_opened_again(impersonation):
    impersonation_capture.capture_impersonations()
    # What a capture racing another one used to do: close a record whose row is live.
    ImpersonationRecord.unscoped.update(ended_at=dt.datetime.now(dt.UTC))
    impersonation_capture.capture_impersonations()
    record = ImpersonationRecord.unscoped.get()
    assert record.ended_at is None and record.status == "active"


def test_a_record_ended_by_staff_is_not_opened_again(admin, impersonation):
    impersonation_capture.capture_impersonations()
    record = ImpersonationRecord.unscoped.get()
    services.end_impersonation(actor=admin.actor, record_id=record.pk)
    impersonation_capture.capture_impersonations()
    assert ImpersonationRecord.unscoped.get().status == "ended"


@pytest.mark.django_db(transaction=True)
def test_a_capture_never_closes_what_a_concurrent_capture_just_recorded(admin, member):
    """Capture A reads the live sessions; a new impersonation starts and capture B records it;
    then A carries on. A must not mark B's record ended (captures run one at a time).

    A carries on only once B is waiting behind A's transaction (PostgreSQL's lock graph), or B
    has finished without waiting, which is what a capture without the lock does."""
    a_has_read = threading.Event()
    b_is_done = threading.Event()
    read = impersonation_capture._live_impersonation_rows
    errors: list[BaseException] = []

    def read_then_let_b_run():
        rows = read()
        if threading.current_thread().name == "capture-a":
            a_has_read.set()
            a_pid = backend_pid()
            wait_until_blocked_behind(a_pid, waiters=1, or_until=b_is_done.is_set)
        return rows

    def capture(done: threading.Event | None = None) -> None:
        try:
            impersonation_capture.capture_impersonations()
        except BaseException as exc:
            errors.append(exc)
        finally:
            if done is not None:
                done.set()
            connections.close_all()

    with mock.patch.object(
        impersonation_capture, "_live_impersonation_rows", side_effect=read_then_let_b_run
    ):
        capture_a = threading.Thread(target=capture, name="capture-a")
        capture_a.start()
        assert a_has_read.wait(timeout=GIVE_UP_AFTER)
        session = ImpersonationSessionFactory.create(
            user=member, impersonated_by=admin.gateway_user.id
        )
        capture_b = threading.Thread(target=capture, args=(b_is_done,), name="capture-b")
        capture_b.start()
        capture_a.join()
        capture_b.join()

    assert errors == []
    record = ImpersonationRecord.unscoped.get(session_id=session.pk)
    assert record.ended_at is None and record.status == "active"
