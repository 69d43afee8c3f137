"""Better-Auth's `timestamp without time zone` columns hold UTC; the models read and write UTC."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from security.models import GatewayUser

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def _user(**kwargs) -> GatewayUser:
    now = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
    defaults = {
        "id": "u1",
        "name": "Ada",
        "email": "ada@example.com",
        "created_at": now,
        "updated_at": now,
    }
    return GatewayUser.unscoped.create(**{**defaults, **kwargs})


def _raw(column: str, user_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {column}::text FROM "user" WHERE id = %s', [user_id])
        return cursor.fetchone()[0]


def test_aware_value_is_stored_as_naive_utc_and_read_back_aware():
    local = dt.datetime(2026, 7, 1, 14, 30, tzinfo=PARIS)  # 12:30 UTC (summer time)
    _user(ban_expires=local)
    assert _raw("ban_expires", "u1") == "2026-07-01 12:30:00"

    user = GatewayUser.unscoped.get(pk="u1")
    assert user.ban_expires == local
    assert user.ban_expires.utcoffset() == dt.timedelta(0)


def test_comparison_with_an_aware_value_uses_utc():
    _user(ban_expires=dt.datetime(2026, 7, 1, 12, 30, tzinfo=dt.UTC))
    just_before = dt.datetime(2026, 7, 1, 14, 29, tzinfo=PARIS)
    just_after = dt.datetime(2026, 7, 1, 14, 31, tzinfo=PARIS)
    assert GatewayUser.unscoped.filter(ban_expires__gt=just_before).count() == 1
    assert GatewayUser.unscoped.filter(ban_expires__gt=just_after).count() == 0


def test_raw_sql_reads_aware_utc_too():
    _user(ban_expires=dt.datetime(2026, 7, 1, 12, 30, tzinfo=dt.UTC))
    with connection.cursor() as cursor:
        cursor.execute('SELECT ban_expires FROM "user"')
        (value,) = cursor.fetchone()
    assert value == dt.datetime(2026, 7, 1, 12, 30, tzinfo=dt.UTC)


def test_value_written_by_the_gateway_reads_as_utc():
    # The gateway writes UTC wall-clock values; whatever the session time zone, we read UTC.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'America/New_York'")
        cursor.execute(
            'INSERT INTO "user" (id, name, email, created_at, updated_at) '
            "VALUES ('u2', 'Bo', 'bo@example.com', '2026-03-01 08:00:00', '2026-03-01 08:00:00')"
        )
    user = GatewayUser.unscoped.get(pk="u2")
    assert user.created_at == dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def test_json_column_reads_through_jsonfield():
    # Older gateway tables use json where the contract says jsonb.
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "user" ALTER COLUMN user_metadata TYPE json')
    _user(user_metadata={"plan": "pro", "n": [1, 2]})
    assert GatewayUser.unscoped.get(pk="u1").user_metadata == {"plan": "pro", "n": [1, 2]}
    assert GatewayUser.unscoped.filter(pk="u1").values_list("user_metadata", flat=True).get() == {
        "plan": "pro",
        "n": [1, 2],
    }


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
def test_dates_and_hours_of_a_utc_column_are_taken_in_the_viewers_zone(settings, zone):
    from django.db.models.functions import ExtractHour, TruncDate, TruncHour

    from tenants.models import Tenant

    settings.TIME_ZONE = zone
    instant = dt.datetime(2026, 1, 15, 23, 30, tzinfo=dt.UTC)
    local = instant.astimezone(ZoneInfo(zone))
    _user(created_at=instant)
    # The same instant in a timestamptz column: both kinds of column must agree.
    Tenant.unscoped.create(name="Acme", slug="acme", created_at=instant)
    for model in (GatewayUser, Tenant):
        row = model.unscoped.annotate(
            hour=ExtractHour("created_at"),
            day=TruncDate("created_at"),
            truncated=TruncHour("created_at"),
        ).get()
        assert (row.hour, row.day) == (local.hour, local.date()), model
        assert row.truncated == local.replace(minute=0), model
        assert model.unscoped.filter(created_at__date=local.date()).exists(), model
