"""Model fields for the column types the Drizzle contract uses and Django has no field for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone


# Django's fields take no type arguments at run time (django-stubs gives them two).
class UTCDateTimeField(models.DateTimeField):  # type: ignore[type-arg]
    """A Better-Auth ``timestamp without time zone`` column that holds UTC.

    Reads give aware UTC datetimes; writes (and lookups) convert aware values to naive UTC, so the
    stored value never depends on the connection's ``TimeZone`` setting.
    """

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "timestamp without time zone"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> dt.datetime | None:
        moment: dt.datetime | None = value
        if moment is not None and timezone.is_naive(moment):
            return moment.replace(tzinfo=dt.UTC)
        return moment

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value


class PgEnumField(models.TextField):  # type: ignore[type-arg]
    """A column of a PostgreSQL enum type owned by the contract (e.g. ``server_health``)."""

    def __init__(self, *args: Any, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["enum_name"] = self.enum_name
        return name, path, args, kwargs

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return self.enum_name
