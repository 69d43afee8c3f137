"""Django's PostgreSQL backend, adjusted to live beside a Drizzle-owned schema.

- Django's own tables go to a schema of their own (``settings.BACKOFFICE_DB_SCHEMA``), first on
  the ``search_path``, so ``drizzle-kit push`` never sees (and never proposes to drop) them, while
  the contract's tables in ``public`` still resolve by their plain names.
- ``json`` columns (older gateway tables) are handed to ``JSONField`` as text, exactly as Django
  already does for ``jsonb``; otherwise psycopg 3 decodes them first and ``JSONField`` fails.
- ``timestamp without time zone`` values (Better-Auth's columns, which hold UTC) are read as aware
  UTC datetimes, so raw SQL and the ORM agree and comparisons with aware values never warn; and
  dates, hours and truncations of them are taken in the viewer's time zone like any other column.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base, operations
from psycopg import adapt
from psycopg.types.datetime import TimestampLoader
from psycopg.types.string import TextLoader


class UTCTimestampLoader(TimestampLoader):
    """Load ``timestamp without time zone`` as an aware UTC datetime."""

    def load(self, data: Any) -> dt.datetime:
        return super().load(data).replace(tzinfo=dt.UTC)


@lru_cache
def _adapters(template: adapt.AdaptersMap) -> adapt.AdaptersMap:
    adapters = adapt.AdaptersMap(template)
    adapters.register_loader("json", TextLoader)
    adapters.register_loader("timestamp", UTCTimestampLoader)
    return adapters


class DatabaseOperations(operations.DatabaseOperations):
    def _convert_sql_to_tz(self, sql: str, params: Any, tzname: str | None) -> tuple[str, Any]:
        """``col AT TIME ZONE tz``, read right for both kinds of timestamp column.

        Django writes ``col AT TIME ZONE 'Europe/Paris'`` before taking a date, an hour or a
        truncation. On a ``timestamp without time zone`` column that reads the stored UTC as
        Paris time and shifts it the wrong way; cast to ``timestamptz`` first (the connection's
        time zone is UTC, so the naive value is read as the UTC it is). On a ``timestamptz``
        column the cast changes nothing.
        """
        if tzname and settings.USE_TZ:
            sql = f"({sql})::timestamptz"
        converted: tuple[str, Any] = super()._convert_sql_to_tz(sql, params, tzname)  # type: ignore[misc]
        return converted


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        params["context"] = _adapters(params["context"])
        schema = settings.BACKOFFICE_DB_SCHEMA
        # Django's schema first (its tables are created there), then the contract's.
        search_path = f"-c search_path={schema},public"
        params["options"] = f"{params.get('options', '')} {search_path}".strip()
        return params

    def prepare_database(self) -> None:
        """Called by ``migrate`` before any migration: make sure Django's schema exists."""
        super().prepare_database()
        with self.cursor() as cursor:
            cursor.execute(
                f"CREATE SCHEMA IF NOT EXISTS {self.ops.quote_name(settings.BACKOFFICE_DB_SCHEMA)}"
            )
