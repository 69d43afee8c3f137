"""Error pages in the back office's look, and the database's 503 page, with DEBUG on and off.

The database really fails here: a read-only transaction, a disk-full error raised by a trigger
(the same SQLSTATE PostgreSQL sends), a lock that cannot be had. A database that is down is shown
by tests/backoffice/test_recovery.py on a PostgreSQL of its own.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from audit.models import AuditLog
from security.factories import GatewayUserFactory
from security.models import GatewayUser

HOME_LINK = '<a href="/">Back to the dashboard</a>'
LOOK = "admin/css/base.css"


def page(response) -> str:
    text = response.content.decode()
    assert HOME_LINK in text and LOOK in text and "MCP Gateway back office" in text
    return text


@pytest.fixture
def member(tenant_a) -> GatewayUser:
    return GatewayUserFactory.create(tenant=tenant_a, email="mia@example.com")


def ban(client: Client, user: GatewayUser):
    return client.post(
        reverse("security:user_ban", args=[user.pk]), {"reason": "Spam", "length": "permanent"}
    )


@pytest.mark.django_db
def test_404_is_the_back_office_page(support):
    response = support.client().get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in page(response)


@pytest.mark.django_db
def test_404_with_debug_on_is_still_the_back_office_page(support, settings):
    settings.DEBUG = True
    response = support.client().get("/no-such-page/")
    assert response.status_code == 404
    text = page(response)
    assert "Page not found" in text and "Using the URLconf defined in" not in text


@pytest.mark.django_db
def test_a_views_404_with_debug_on_is_the_back_office_page(auditor, settings):
    settings.DEBUG = True
    response = auditor.client().get("/audit/logs/999999999/")
    assert response.status_code == 404
    assert "Page not found" in page(response)


@pytest.mark.django_db
def test_an_address_without_its_slash_is_still_redirected_with_debug_on(support, settings):
    settings.DEBUG = True
    response = support.client().get("/audit/logs")
    assert response.status_code == 301 and response["Location"] == "/audit/logs/"


@pytest.mark.django_db
@pytest.mark.urls("tests.backoffice.error_urls")
def test_developers_who_ask_get_djangos_technical_pages(support, settings):
    settings.DEBUG = True
    settings.TECHNICAL_ERROR_PAGES = True
    client = support.client()
    client.raise_request_exception = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Using the URLconf defined in" in response.content.decode()
    response = client.get("/test-crash/")
    assert response.status_code == 500
    assert "RuntimeError" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_403_is_the_back_office_page(auditor, member, settings, debug):
    settings.DEBUG = debug
    response = ban(auditor.client(), member)
    assert response.status_code == 403
    assert "You cannot open this page" in page(response)


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_forged_form_gets_the_403_page_not_djangos_csrf_text(support, member, settings, debug):
    settings.DEBUG = debug
    client = support.client()
    client.handler.enforce_csrf_checks = True
    response = ban(client, member)
    assert response.status_code == 403
    assert "it may have expired" in page(response)
    assert not GatewayUser.unscoped.get(pk=member.pk).banned


@pytest.mark.django_db
@pytest.mark.urls("tests.backoffice.error_urls")
@pytest.mark.parametrize("debug", [False, True])
def test_500_and_400_are_the_back_office_pages(support, settings, debug):
    settings.DEBUG = debug
    client = support.client()
    client.raise_request_exception = False
    response = client.get("/test-crash/")
    assert response.status_code == 500
    text = page(response)
    assert "Something went wrong" in text and "a bug" not in text
    response = client.get("/test-suspicious/")
    assert response.status_code == 400
    assert "Bad request" in page(response)


@pytest.mark.django_db
def test_a_read_only_database_gives_the_503_page_and_writes_nothing(support, member, settings):
    client = support.client()
    for debug in (False, True):
        settings.DEBUG = debug
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL transaction_read_only = on")  # as on a standby
            response = ban(client, member)
            # Undone with the savepoint; the test's transaction must check its constraints.
            transaction.set_rollback(True)
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        text = page(response)
        assert "The database is read-only" in text and "not saved" in text
        # A form is never sent again by itself; a link offers to.
        assert 'http-equiv="refresh"' not in text
    assert not GatewayUser.unscoped.get(pk=member.pk).banned
    assert not AuditLog.unscoped.filter(action="user.ban").exists()


DISK_FULL_TRIGGER_SQL = """
CREATE FUNCTION pg_temp.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
END $$;
CREATE TRIGGER disk_full BEFORE INSERT ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION pg_temp.disk_full();
"""


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_full_disk_gives_the_503_page_and_nothing_is_half_written(
    support, member, settings, debug
):
    settings.DEBUG = debug
    with connection.cursor() as cursor:
        # The ban's UPDATE succeeds; the audit row after it fails as on a full disk.
        cursor.execute(DISK_FULL_TRIGGER_SQL)
    response = ban(support.client(), member)
    assert response.status_code == 503
    text = page(response)
    assert "The database is full" in text and "nothing was half written" in text
    assert "No space left" not in text
    assert not GatewayUser.unscoped.get(pk=member.pk).banned


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("debug", [False, True])
def test_a_failure_before_the_view_gives_the_503_page_too(support, settings, debug):
    """The staff lookup in a middleware, not the view, meets the database's failure."""
    settings.DEBUG = debug
    client = support.client()
    client.raise_request_exception = False
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=False) as holder:
        holder.execute('LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE')
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '100ms'")
        try:
            response = client.get("/admin/")
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    assert response.status_code == 503
    text = page(response)
    assert "The database is busy" in text
    # A page that was only being read reloads itself.
    assert '<meta http-equiv="refresh" content="5">' in text
