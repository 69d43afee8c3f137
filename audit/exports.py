"""Exports of exactly the filtered log rows as CSV or JSON Lines, streamed, each one audited.

PostgreSQL writes the file itself with ``COPY (<the page's filtered query>) TO STDOUT``: about
900k rows/s against 48k for Django's row-by-row streaming, and memory stays flat because the
rows flow from the server to the response in 64 KB chunks. The export's audit row (with its
filter) is committed on the primary before the first byte, so an interrupted download is still on
record; the COPY itself reads the database the queryset was given (the replica, when fresh).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import QuerySet

from audit.filters import describe
from audit.selectors import LogOrder, ordered
from backoffice.audit_actions import AuditAction
from backoffice.presentation import formula_safe_sql
from backoffice.roles import Actor, Capability
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

# Names beside the ids, so a file is read without a second lookup: each a scalar subquery on the
# named table's primary key, one index probe per row that never changes how the log itself is
# read (no join for the planner to turn into a hash of the whole user table, no sort).
# {scope} is "" for platform-wide viewers, else a tenant condition on a bound parameter.
# Uses index: user_pkey, api_keys_pkey, mcp_servers_pkey, tenants_pkey
NAME_SQL = {
    "tenant_name": "(SELECT x.name FROM tenants x WHERE x.id = log.tenant_id{tenant_scope})",
    "actor_name": (
        "(CASE WHEN log.actor_type IN ('user', 'staff') THEN "
        '(SELECT x.email FROM "user" x WHERE x.id = log.actor_id{scope}) '
        "WHEN log.actor_type = 'api_key' AND log.actor_id ~ '^[0-9a-f-]{{36}}$' THEN "
        "(SELECT x.name || ' (' || x.key_prefix || ')' FROM api_keys x "
        "WHERE x.id = log.actor_id::uuid{scope}) END)"
    ),
    "server_name": "(SELECT x.name FROM mcp_servers x WHERE x.id = log.server_id{scope})",
    "user_email": '(SELECT x.email FROM "user" x WHERE x.id = log.user_id{scope})',
    "api_key_name": "(SELECT x.name FROM api_keys x WHERE x.id = log.api_key_id{scope})",
    "api_key_prefix": "(SELECT x.key_prefix FROM api_keys x WHERE x.id = log.api_key_id{scope})",
}
# Each name right after the id it names.
AUDIT_LOG_NAMES = {"tenant_id": ("tenant_name",), "actor_id": ("actor_name",)}
REQUEST_LOG_NAMES = {
    "tenant_id": ("tenant_name",),
    "server_id": ("server_name",),
    "api_key_id": ("api_key_name", "api_key_prefix"),
    "user_id": ("user_email",),
}

# {columns} and {query} are filled from the constants above and Django's compiled (parameterised)
# query; user input only ever reaches the parameters, which psycopg binds.
# The filtered query first, as a CTE (inlined by PostgreSQL: the same plan as a subquery), so
# pg_stat_activity's first 1,024 characters of an export name its log table, not the columns.
CSV_SELECT_SQL = "WITH log AS ({query}) SELECT {columns} FROM log"
JSONL_SELECT_SQL = (
    "WITH log AS ({query}) SELECT row_to_json(entry) FROM (SELECT {columns} FROM log) AS entry"
)
CSV_COPY_SQL = "COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER)"
# CSV with quote and delimiter bytes that JSON text never contains (it escapes control
# characters), so each line is the row's JSON exactly; text format would double backslashes.
JSONL_COPY_SQL = "COPY ({select}) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
# The gateway writes `details` as it likes; keys the staff trail never writes (SECRET_KEYS) are
# removed at any depth before a row leaves the database. Only rows that hold such a key (a
# jsonpath test) pay for the walk: it lists every path to one and deletes them one by one
# (deleting an object key never shifts an array index, so the listed paths stay valid); the last
# step, numbered as many as there are secrets, is the clean document (found without a sort).
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
    SELECT doc FROM cleaned WHERE n = (SELECT count(*) FROM secret)
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
# For a whole table the planner prices a sequential scan and a sort below reading the primary key
# (or a tenant's time index) in order, and a COPY sends nothing until that sort ends (4 s warm,
# 27 s cold at 10M rows, past a worker timeout). So each export's query is planned first: when
# the plan sorts more rows than this (about a second of sorting), sorting is priced out and the
# planner reads the index that already gives the export's order, so the first rows leave at
# once. A smaller sort (one day of the log, read through the BRIN index) is left alone: it ends
# quickly, and walking the primary key to that day could take longer. Either way the file is the
# same: an order no index gives is still sorted (priced out, not forbidden).
SORT_ROWS_LIMIT = 1_000_000
INDEX_ORDER_SQL = (
    "SET LOCAL enable_sort = off",
    # The priced-out cost would pass JIT's threshold; compiling would only delay the first byte.
    "SET LOCAL jit = off",
)


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
    names: Mapping[str, tuple[str, ...]]


AUDIT_LOGS = LogKind(
    "audit-log",
    AuditAction.AUDIT_LOG_EXPORT,
    AUDIT_LOG_EXPORT_FIELDS,
    AUDIT_LOG_FREE_TEXT,
    AUDIT_LOG_NAMES,
)
REQUEST_LOGS = LogKind(
    "request-log",
    AuditAction.REQUEST_LOG_EXPORT,
    REQUEST_LOG_EXPORT_FIELDS,
    REQUEST_LOG_FREE_TEXT,
    REQUEST_LOG_NAMES,
)


def export_logs(
    *,
    actor: Actor,
    kind: LogKind,
    queryset: QuerySet[Any],
    order: LogOrder,
    filters: dict[str, Any],
    file_format: ExportFormat,
) -> Iterator[bytes]:
    """Record the export with its filter (on the primary), then return the file's bytes as a lazy
    stream read from ``queryset``'s database."""
    select_sql, params = export_select_sql(kind, ordered(queryset, order), file_format, actor=actor)
    with transaction.atomic():
        record_staff_action(
            actor=actor,
            action=kind.action,
            resource_type=kind.label.replace("-", "_"),
            resource_id=None,
            details={"filter": describe(filters), "format": file_format.name},
        )
    return stream_copy(copy_sql(select_sql, file_format), select_sql, params, using=queryset.db)


def copy_sql(select_sql: str, file_format: ExportFormat) -> str:
    """The COPY statement that writes the rows of ``select_sql`` as the file."""
    template = JSONL_COPY_SQL if file_format is JSON_LINES else CSV_COPY_SQL
    return template.format(select=select_sql)


def export_select_sql(
    kind: LogKind, queryset: QuerySet[Any], file_format: ExportFormat, *, actor: Actor | None = None
) -> tuple[str, tuple[Any, ...]]:
    """The query whose rows the COPY sends (what EXPLAIN can see of an export)."""
    query, params = queryset.values(*kind.fields).query.sql_with_params()
    quote = connection.ops.quote_name
    columns = []
    scope = name_scope(actor)
    for name in kind.fields:
        if name == "details":
            columns.append(f"{DETAILS_WITHOUT_SECRETS} AS details")
        elif name in kind.free_text and file_format is CSV:
            # COPY writes the cell, so the formula escape is the SELECT's (presentation's rule).
            safe = formula_safe_sql("log." + quote(name), plain_column=True)
            columns.append(f"{safe} AS {quote(name)}")
        else:
            columns.append(f"log.{quote(name)}")
        for label in kind.names.get(name, ()):
            expression = NAME_SQL[label].format(
                scope=scope, tenant_scope=scope.replace("x.tenant_id", "x.id")
            )
            if file_format is CSV:
                expression = formula_safe_sql(expression)
            columns.append(f"{expression} AS {quote(label)}")
    select_sql = JSONL_SELECT_SQL if file_format is JSON_LINES else CSV_SELECT_SQL
    return select_sql.format(columns=", ".join(columns), query=query), tuple(params)


def name_scope(actor: Actor | None) -> str:
    """The condition that keeps a tenant-scoped viewer's names inside their tenant ("" for
    platform-wide viewers). The tenant id is the actor's own, parsed as a UUID, never input."""
    if actor is None or actor.is_platform_wide(Capability.VIEW_AUDIT_LOGS):
        return ""
    if actor.tenant_id is None:
        return " AND false"
    return f" AND x.tenant_id = '{uuid.UUID(str(actor.tenant_id))}'::uuid"


def prepare_export(cursor: Any, select_sql: str, params: tuple[Any, ...]) -> bool:
    """Set up the export's transaction; True when its rows are to be read in index order."""
    cursor.execute(EXPORT_TIMEOUT_SQL)
    cursor.execute("EXPLAIN (FORMAT JSON) " + select_sql, params)
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    if largest_sort(plan[0]["Plan"]) <= SORT_ROWS_LIMIT:
        return False
    for statement in INDEX_ORDER_SQL:
        cursor.execute(statement)
    return True


def largest_sort(node: dict[str, Any]) -> float:
    """The most rows any full sort in an EXPLAIN plan expects (0 without one)."""
    own = node["Plan Rows"] if node["Node Type"] == "Sort" else 0
    return max([own, *(largest_sort(child) for child in node.get("Plans", []))])


def stream_copy(
    sql: str, select_sql: str, params: tuple[Any, ...], using: str = DEFAULT_DB_ALIAS
) -> Iterator[bytes]:
    """Run the COPY ``sql`` of ``select_sql`` on ``using`` (the queryset's database) when the
    response is read, 64 KB at a time."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        prepare_export(cursor, select_sql, params)
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
