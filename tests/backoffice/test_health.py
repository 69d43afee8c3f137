"""``/healthz`` and ``/readyz``: what a load balancer polls every second.

The database being down is shown by tests/backoffice/test_recovery.py, on a PostgreSQL of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backoffice.health import contract_status_cache


@pytest.fixture(autouse=True)
def _fresh_contract_status() -> Iterator[None]:
    contract_status_cache.forget()
    yield
    contract_status_cache.forget()


def probe(path: str, host: str = "testserver"):
    return Client().get(path, HTTP_HOST=host)


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database():
    with CaptureQueriesContext(connection) as queries:
        response = probe("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "alive"}
    assert len(queries) == 0


@pytest.mark.django_db
def test_readyz_is_ready_on_a_migrated_database_without_drift():
    response = probe("/readyz")
    assert response.status_code == 200, response.content
    assert json.loads(response.content) == {"status": "ready"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_checks_the_contract_once_then_only_asks_the_database():
    probe("/readyz")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert probe("/readyz").status_code == 200
    assert [q["sql"] for q in queries] == ["SELECT 1"] * 5


@pytest.mark.django_db
def test_probes_answer_any_host_and_plain_http_in_production_mode(settings):
    # A balancer probes by address over HTTP; the host check and the HTTPS redirect come later.
    settings.ALLOWED_HOSTS = ["backoffice.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    for path in ("/healthz", "/readyz"):
        assert probe(path, host="10.0.0.7:8000").status_code == 200
    assert probe("/admin/login/", host="10.0.0.7:8000").status_code == 400


@pytest.mark.django_db
def test_readyz_reports_pending_drizzle_migrations():
    with connection.cursor() as cursor:
        cursor.execute(
            'DELETE FROM "drizzle"."__drizzle_migrations" WHERE created_at = '
            '(SELECT max(created_at) FROM "drizzle"."__drizzle_migrations")'
        )
    response = probe("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert json.loads(response.content) == {
        "status": "unavailable",
        "problems": {"migrations": "1 Drizzle migration(s) not applied"},
    }


@pytest.mark.django_db
def test_readyz_reports_a_migration_this_release_does_not_know():
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO "drizzle"."__drizzle_migrations" (hash, created_at) VALUES (%s, %s)',
            ["f" * 64, 1],
        )
    body = json.loads(probe("/readyz").content)
    assert body["problems"] == {
        "migrations": "the database records migrations this release does not know"
    }


@pytest.mark.django_db
def test_readyz_reports_schema_drift_without_naming_anything_secret():
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "api_keys" RENAME COLUMN "key_hash" TO "key_digest"')
    response = probe("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert set(body["problems"]) == {"schema"}
    assert body["problems"]["schema"].endswith("difference(s) from the models")
    assert "key_hash" not in response.content.decode()
    assert "postgres" not in response.content.decode()
