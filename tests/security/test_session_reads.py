"""The second-factor device and the session's licence, read in the staff member's own query.

Each check must still bite at the very next request when it is served by that one query
(security/session_reads.py): these tests capture the request's queries and check both that no
separate device or licence query ran and that the person was stopped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.models import StaffSession
from security.second_factor.devices import TOTP_DEVICE_NAME
from tests.conftest import make_persona
from tests.pages import messages_on
from tests.security.second_factor.conftest import ENROL_URL, VERIFY_URL

pytestmark = pytest.mark.django_db

PAGE = "/audit/logs/"
ENDED_ELSEWHERE = "You were signed out: this session was ended from another one."


def _get(client: Client, url: str) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [q["sql"] for q in queries.captured_queries]


def _folded(queries: list[str], table: str) -> None:
    """``table`` was read only inside the staff member's query, never in a query of its own."""
    user_queries = [
        sql for sql in queries if sql.startswith("SELECT") and 'FROM "auth_user"' in sql
    ]
    assert len(user_queries) == 1 and f'"{table}"' in user_queries[0], queries
    own = [
        sql
        for sql in queries
        if sql.startswith("SELECT") and f'FROM "{table}" WHERE "{table}"."id" =' in sql
    ]
    own += [sql for sql in queries if sql.startswith("SELECT") and "key_digest\" = '" in sql]
    own = [sql for sql in own if 'FROM "auth_user"' not in sql]
    assert own == [], own


def test_a_verified_page_reads_device_and_licence_with_the_user(auditor):
    client = auditor.client()
    response, queries = _get(client, PAGE)
    assert response.status_code == 200
    _folded(queries, "otp_totp_totpdevice")
    _folded(queries, "security_staffsession")


def test_a_deleted_device_asks_for_the_code_at_the_next_request():
    persona = make_persona("auditor")
    client = persona.client()
    assert client.get(PAGE).status_code == 200
    # The second factor is reset and re-enrolled elsewhere: this session's device is gone.
    persona.totp_device.delete()
    TOTPDevice.objects.create(user=persona.django_user, name=TOTP_DEVICE_NAME, confirmed=True)
    response, queries = _get(client, PAGE)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY_URL)
    _folded(queries, "otp_totp_totpdevice")
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_a_reset_with_no_device_left_sends_to_enrolment():
    persona = make_persona("support")
    client = persona.client()
    TOTPDevice.objects.filter(user=persona.django_user).delete()
    response, queries = _get(client, PAGE)
    assert response.status_code == 302 and response["Location"].startswith(ENROL_URL)
    _folded(queries, "otp_totp_totpdevice")


def test_an_unconfirmed_device_verifies_nothing():
    persona = make_persona("auditor")
    client = persona.client()
    TOTPDevice.objects.filter(user=persona.django_user).update(confirmed=False)
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(ENROL_URL)


def test_another_persons_device_in_the_session_verifies_nothing():
    persona, other = make_persona("auditor"), make_persona("auditor")
    client = persona.client()
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = other.totp_device.persistent_id
    session.save()
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY_URL)


def test_an_ended_licence_signs_out_at_the_next_request():
    persona = make_persona("auditor")
    client = persona.client()
    assert client.get(PAGE).status_code == 200
    StaffSession.objects.filter(django_user=persona.django_user).delete()
    response, queries = _get(client, PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    _folded(queries, "security_staffsession")
    assert ENDED_ELSEWHERE in messages_on(client.get(response["Location"]))
    assert client.get(PAGE).status_code == 302


def test_an_idle_licence_read_with_the_user_still_times_out(settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    persona = make_persona("support")
    client = persona.client()
    StaffSession.objects.update(last_active_at=timezone.now() - dt.timedelta(minutes=6))
    response, queries = _get(client, "/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    _folded(queries, "security_staffsession")
    assert not StaffSession.objects.exists()
