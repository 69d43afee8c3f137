"""Exports of exactly the filtered log rows as CSV or JSON Lines, streamed, each one audited.

PostgreSQL writes the file itself with ``COPY (<the page's filtered query>) TO STDOUT``: about
900k rows/s against 48k for Django's row-by-row streaming, and memory stays flat because the
rows flow from the server to the response in 64 KB chunks. The export's audit row (with its
filter) is committed on the primary before the first byte, so an interrupted download is still on
record; the COPY itself reads the database the queryset was given (the replica, when fresh).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import QuerySet

from audit.filters import describe
from audit.selectors import LogOrder, ordered
from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor
from backoffice.staff_audit import SECRET_KEYS, record_staff_action

CHUNK_BYTES = 64 * 1024

# Never user_agent or session_id: a client can put a token in either. Nothing else here is
# secret, and the detail page shows the whole row to the same viewers.
AUDIT_LOG_EXPORT_FIELDS = (
    "id",
    "created_at",
    "tenant_id",
    "actor_type",
    "actor_id",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "ip_address",
    "request_id",
    "details",
)
REQUEST_LOG_EXPORT_FIELDS = (
    "id",
    "created_at",
    "tenant_id",
    "server_id",
    "api_key_id",
    "user_id",
    "method",
    "tool_name",
    "status_code",
    "duration_ms",
    "request_bytes",
    "response_bytes",
    "error_message",
)
# Text that the gateway's clients control, which a spreadsheet would run as a formula.
AUDIT_LOG_FREE_TEXT = frozenset({"actor_id", "action", "resource_type", "resource_id"})
REQUEST_LOG_FREE_TEXT = frozenset({"user_id", "method", "tool_name", "error_message"})

# {columns} and {query} are filled from the constants above and Django's compiled (parameterised)
# query; user input only ever reaches the parameters, which psycopg binds.
CSV_COPY_SQL = "COPY (SELECT {columns} FROM ({query}) AS log) TO STDOUT WITH (FORMAT csv, HEADER)"
# CSV with quote and delimiter bytes that JSON text never contains (it escapes control
# characters), so each line is the row's JSON exactly; text format would double backslashes.
JSONL_COPY_SQL = (
    "COPY (SELECT row_to_json(entry) FROM (SELECT {columns} FROM ({query}) AS log) AS entry) "
    "TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
)
# A cell starting with = + - @ (or a tab or CR) is a formula to Excel: prefix it with a quote.
CSV_FREE_TEXT_SQL = (
    "CASE WHEN log.{name} ~ '^[-=+@\\t\\r]' THEN '''' || log.{name} ELSE log.{name} END AS {name}"
)
# The gateway writes `details` as it likes; keys the staff trail never writes (SECRET_KEYS) are
# removed at any depth before a row leaves the database. Only rows that hold such a key (a
# jsonpath test) pay for the walk: it lists every path to one and deletes them one by one
# (deleting an object key never shifts an array index, so the listed paths stay valid).
# {keys} and {jsonpath} are built from SECRET_KEYS, checked to be plain names below.
DETAILS_WITHOUT_SECRETS_SQL = """CASE WHEN jsonb_path_exists(log.details, '{jsonpath}') THEN (
    WITH RECURSIVE walk(path, value) AS (
        SELECT ARRAY[]::text[], log.details
      UNION ALL
        SELECT walk.path || child.key, child.value
        FROM walk CROSS JOIN LATERAL (
            SELECT key, value FROM jsonb_each(
                CASE WHEN jsonb_typeof(walk.value) = 'object' THEN walk.value END)
          UNION ALL
            SELECT (item.n - 1)::text, item.value FROM jsonb_array_elements(
                CASE WHEN jsonb_typeof(walk.value) = 'array' THEN walk.value END
            ) WITH ORDINALITY AS item(value, n)
        ) AS child(key, value)
    ),
    secret AS (
        SELECT path, row_number() OVER () AS n FROM walk
        WHERE path[cardinality(path)] = ANY(ARRAY[{keys}])
    ),
    cleaned(n, doc) AS (
        SELECT 0::bigint, log.details
      UNION ALL
        SELECT secret.n, cleaned.doc #- secret.path
        FROM cleaned JOIN secret ON secret.n = cleaned.n + 1
    )
    SELECT doc FROM cleaned ORDER BY n DESC LIMIT 1
) ELSE log.details END"""
if not all(re.fullmatch(r"[a-z_]+", key) for key in SECRET_KEYS):
    raise ImproperlyConfigured("SECRET_KEYS must be plain names to be written into SQL.")
DETAILS_WITHOUT_SECRETS = DETAILS_WITHOUT_SECRETS_SQL.format(
    jsonpath="$.** ? ({})".format(
        " || ".join(f'exists (@."{key}")' for key in sorted(SECRET_KEYS))
    ),
    keys=", ".join(f"'{key}'" for key in sorted(SECRET_KEYS)),
)
# A whole-table export takes longer than the pages' statement_timeout; it is still bounded.
EXPORT_TIMEOUT_SQL = "SET LOCAL statement_timeout = '30min'"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    content_type: str
    extension: str


CSV = ExportFormat("csv", "text/csv; charset=utf-8", "csv")
JSON_LINES = ExportFormat("jsonl", "application/x-ndjson; charset=utf-8", "jsonl")
FORMATS = {fmt.name: fmt for fmt in (CSV, JSON_LINES)}


@dataclass(frozen=True)
class LogKind:
    """What differs between exporting audit logs and request logs."""

    label: str
    action: AuditAction
    fields: tuple[str, ...]
    free_text: frozenset[str]


AUDIT_LOGS = LogKind(
    "audit-log", AuditAction.AUDIT_LOG_EXPORT, AUDIT_LOG_EXPORT_FIELDS, AUDIT_LOG_FREE_TEXT
)
REQUEST_LOGS = LogKind(
    "request-log", AuditAction.REQUEST_LOG_EXPORT, REQUEST_LOG_EXPORT_FIELDS, REQUEST_LOG_FREE_TEXT
)


def export_logs(
    *,
    actor: Actor,
    kind: LogKind,
    queryset: QuerySet,
    order: LogOrder,
    filters: dict[str, Any],
    file_format: ExportFormat,
) -> Iterator[bytes]:
    """Record the export with its filter (on the primary), then return the file's bytes as a lazy
    stream read from ``queryset``'s database."""
    sql, params = export_sql(kind, ordered(queryset, order), file_format)
    with transaction.atomic():
        record_staff_action(
            actor=actor,
            action=kind.action,
            resource_type=kind.label.replace("-", "_"),
            resource_id=None,
            details={"filter": describe(filters), "format": file_format.name},
        )
    return stream_copy(sql, params, using=queryset.db)


def export_sql(
    kind: LogKind, queryset: QuerySet, file_format: ExportFormat
) -> tuple[str, tuple[Any, ...]]:
    query, params = queryset.values(*kind.fields).query.sql_with_params()
    quote = connection.ops.quote_name
    columns = []
    for name in kind.fields:
        if name == "details":
            columns.append(f"{DETAILS_WITHOUT_SECRETS} AS details")
        elif name in kind.free_text and file_format is CSV:
            columns.append(CSV_FREE_TEXT_SQL.format(name=quote(name)))
        else:
            columns.append(f"log.{quote(name)}")
    copy_sql = JSONL_COPY_SQL if file_format is JSON_LINES else CSV_COPY_SQL
    return copy_sql.format(columns=", ".join(columns), query=query), tuple(params)


def stream_copy(
    sql: str, params: tuple[Any, ...], using: str = DEFAULT_DB_ALIAS
) -> Iterator[bytes]:
    """Run the COPY on ``using`` when the response is read, handing on 64 KB at a time."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(EXPORT_TIMEOUT_SQL)
        # psycopg's own (client-binding) cursor: Django's debug wrapper takes no parameters.
        with cursor.cursor.copy(sql, params) as copy:
            buffer = bytearray()
            for block in copy:
                buffer += block
                if len(buffer) >= CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
            if buffer:
                yield bytes(buffer)


def export_filename(kind: LogKind, file_format: ExportFormat) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{kind.label}-{stamp}.{file_format.extension}"
