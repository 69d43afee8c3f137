"""Reads of the audit and request logs, fast at tens of millions of rows.

Pages never count and never use OFFSET: they follow a keyset cursor, so page 1,000 costs what
page 1 costs, and the total shown is the planner's estimate. Each filter maps onto a contract
index, and the order follows that index so PostgreSQL can stop after one page of rows:

- tenant, actor (audit logs), or tenant, server, API key, 4xx/5xx (request logs): newest first by
  ``created_at DESC, id DESC``, read in order from the ``(<column>, created_at DESC)`` index
  (idx_audit_logs_tenant_time, idx_audit_logs_actor_time, idx_security_access_composite,
  idx_request_logs_tenant_time, idx_request_logs_server_time, idx_tenant_utilization_composite,
  idx_request_logs_api_key, idx_request_logs_errors).
- anything else: newest first by ``id DESC`` (both logs are append-only with identity ids, and
  the contract has only a BRIN index on ``audit_logs.created_at`` and none on
  ``request_logs.created_at``), read backwards from the primary key, or from
  idx_audit_logs_action_resource when the action is selective.

Both orders are "newest first" by the time the gateway wrote the row, and agree while ids rise
with created_at. The results never rest on that: on the pk walk a time range becomes the id ranges
that ``audit.time_blocks`` knows can hold it (every block of ids whose times meet the range, plus
the unsummarised newest ids), read one after the other, newest first, with the created_at
predicates kept, so a page is exact even where the gateway backfilled rows out of id order. In
order data gives one range: the walk starts and stops at the time range's ends.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Concat

from audit.models import AuditLog, RequestLog
from audit.time_blocks import IdRange, id_ranges
from backoffice.roles import Actor, Capability
from backoffice.tenancy import access
from registry.models import McpServer
from security.models import ApiKey, GatewayUser
from tenants.models import Tenant

PAGE_SIZE = 100

AUDIT_LOG_LIST_FIELDS = (
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
)
REQUEST_LOG_LIST_FIELDS = (
    "id",
    "created_at",
    "tenant_id",
    "server_id",
    "method",
    "tool_name",
    "status_code",
    "duration_ms",
    "user_id",
    "api_key_id",
)


class LogOrder(enum.Enum):
    """Which index gives "newest first" for a filter (see the module docstring)."""

    TIME = ("-created_at", "-id")
    INSERTION = ("-id",)


class InvalidCursor(ValueError):
    """A page cursor that was not produced by this explorer."""


CURSOR_PATTERN = re.compile(r"(-?[0-9]{1,17})\.([0-9]{1,19})")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class PageCursor:
    """The last row of the previous page: where the next page starts (both orders need both)."""

    created_at: dt.datetime
    id: int

    @property
    def token(self) -> str:
        micros = (self.created_at - EPOCH) // dt.timedelta(microseconds=1)
        return f"{micros}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> PageCursor:
        match = CURSOR_PATTERN.fullmatch(token or "")
        if match is None:
            raise InvalidCursor("This page link is malformed.")
        micros, row_id = int(match.group(1)), int(match.group(2))
        if row_id >= 2**63:
            raise InvalidCursor("This page link is out of range.")
        try:
            created_at = EPOCH + dt.timedelta(microseconds=micros)
        except OverflowError as exc:
            raise InvalidCursor("This page link is out of range.") from exc
        return cls(created_at=created_at, id=row_id)


@dataclass(frozen=True)
class LogPage:
    rows: list[dict[str, Any]]
    next_cursor: PageCursor | None  # the last row, when older rows follow
    newer_cursor: PageCursor | None = None  # the first row, when newer rows precede


# --- who sees what -------------------------------------------------------------------------


def audit_logs_visible_to(actor: Actor | None) -> QuerySet[AuditLog]:
    return AuditLog.objects.visible_to(actor, Capability.VIEW_AUDIT_LOGS)


def request_logs_visible_to(actor: Actor | None) -> QuerySet[RequestLog]:
    return RequestLog.objects.visible_to(actor, Capability.VIEW_AUDIT_LOGS)


def access_audit_log(actor: Actor | None, pk: object) -> AuditLog:
    return access(AuditLog.objects, actor, Capability.VIEW_AUDIT_LOGS, pk)


def access_request_log(actor: Actor | None, pk: object) -> RequestLog:
    return access(RequestLog.objects, actor, Capability.VIEW_AUDIT_LOGS, pk)


# The filter's choices change when the gateway adds a tenant or a server, rarely; every explorer
# page needs them. Kept this long in each server process's cache (issue #11: one query less per
# page). A value not among them is looked up afresh (``fresh=True``) before the form refuses it.
CHOICES_SECONDS = 60


def tenant_choices(actor: Actor | None, *, fresh: bool = False) -> list[tuple[str, str]]:
    """The tenants the viewer may filter by (never another tenant's name), as form choices."""

    def read() -> list[tuple[str, str]]:
        tenants = Tenant.objects.visible_to(actor, Capability.VIEW_AUDIT_LOGS).order_by("name")
        return [(str(pk), name) for pk, name in tenants.values_list("id", "name")]

    return _cached_choices("tenants", actor, read, fresh)


def server_choices(actor: Actor | None, *, fresh: bool = False) -> list[tuple[str, str]]:
    """The servers the viewer may filter by, as form choices."""

    def read() -> list[tuple[str, str]]:
        # Each name with its tenant beside it: tenants often run servers of one name (three
        # called "filesystem" read as one).
        servers = McpServer.objects.visible_to(actor, Capability.VIEW_AUDIT_LOGS).order_by(
            "name", "tenant__name"
        )
        return [
            (str(pk), f"{name} ({tenant or 'platform'})")
            for pk, name, tenant in servers.values_list("id", "name", "tenant__name")
        ]

    return _cached_choices("servers", actor, read, fresh)


def _cached_choices(
    name: str,
    actor: Actor | None,
    read: Callable[[], list[tuple[str, str]]],
    fresh: bool,
) -> list[tuple[str, str]]:
    # Keyed on all that scoping looks at (roles and tenant), so no viewer sees another's choices.
    roles = ",".join(sorted(actor.roles)) if actor else ""
    key = f"audit:choices:{name}:{roles}:{actor.tenant_id if actor else ''}"
    choices = None if fresh else cache.get(key)
    if choices is None:
        choices = read()
        cache.set(key, choices, CHOICES_SECONDS)
    return choices


def api_key_labels(actor: Actor | None, key_ids: set[uuid.UUID]) -> dict[str, str]:
    """``name (prefix)`` of each API key a page names by id, among keys the viewer may see."""
    if not key_ids:
        return {}
    # Uses index: api_keys_pkey
    keys = ApiKey.objects.visible_to(actor, Capability.VIEW_AUDIT_LOGS).filter(pk__in=key_ids)
    return {
        str(pk): f"{name} ({prefix})"
        for pk, name, prefix in keys.values_list("id", "name", "key_prefix")
    }


def actor_id_for(text: str) -> str | None:
    """The id logs record for an actor typed as an id, or None for an email nobody has."""
    text = text.strip()
    if "@" not in text:
        return text
    # Unscoped: only maps an email to its id, for viewers who may already read every log row.
    # Better-Auth stores emails lower-cased. Uses index: user_email_unique
    ids = GatewayUser.unscoped.filter(email=text.lower()).values_list("id", flat=True)[:1]
    return next(iter(ids), None)


# --- pages ---------------------------------------------------------------------------------


def audit_log_order(filters: dict[str, Any]) -> LogOrder:
    return LogOrder.TIME if filters.get("tenant") or filters.get("actor") else LogOrder.INSERTION


def request_log_order(filters: dict[str, Any]) -> LogOrder:
    indexed_by_time = ("tenant", "server", "api_key")
    if any(filters.get(name) for name in indexed_by_time):
        return LogOrder.TIME
    if filters.get("status") in ("4xx", "5xx"):
        # Uses index: idx_request_logs_errors (created_at DESC) WHERE status_code >= 400
        return LogOrder.TIME
    return LogOrder.INSERTION


def id_ranges_for(
    queryset: QuerySet[Any], order: LogOrder, since: dt.datetime | None, until: dt.datetime | None
) -> list[IdRange] | None:
    """The id ranges a pk walk over ``[since, until)`` reads, newest first; None: read it whole.

    Ordered by time, the time range already bounds the ``(<column>, created_at DESC)`` index scan.
    Walked by id, a bare ``created_at`` predicate is a filter that the walk applies to every row
    newer than the range, and to every older one when the range holds under a page of matches;
    the ranges make both ends index conditions (see ``audit.time_blocks``).
    """
    if order is not LogOrder.INSERTION or (since is None and until is None):
        return None
    return id_ranges(queryset.model._meta.db_table, since, until, using=queryset.db)[::-1]


def ordered(queryset: QuerySet[Any], order: LogOrder) -> QuerySet[Any]:
    return queryset.order_by(*order.value)


def log_page(
    queryset: QuerySet[Any],
    *,
    fields: tuple[str, ...],
    order: LogOrder,
    cursor: PageCursor | None = None,
    newer_than: PageCursor | None = None,
    id_ranges: list[IdRange] | None = None,
    page_size: int = PAGE_SIZE,
) -> LogPage:
    """One page of rows after ``cursor`` (or just before ``newer_than``), in one query at any depth
    (one per id range the page reaches, see ``id_ranges_for``).

    Going back to newer rows reads the same index the other way, then turns the rows round.
    """
    if newer_than is not None:
        return _newer_page(queryset, fields, order, newer_than, id_ranges, page_size)
    if cursor is not None:
        if order is LogOrder.TIME:
            # created_at <= c bounds the index scan; the OR breaks ties between equal times.
            queryset = queryset.filter(created_at__lte=cursor.created_at).filter(
                Q(created_at__lt=cursor.created_at) | Q(id__lt=cursor.id)
            )
        else:
            queryset = queryset.filter(id__lt=cursor.id)
            if id_ranges is not None:
                id_ranges = [r for r in id_ranges if r.start < cursor.id]
    rows = _read(queryset, order.value, fields, page_size + 1, id_ranges)
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        next_cursor = _cursor_of(rows[-1])
    # Having come past a cursor, newer rows exist: at least the row it names.
    newer_cursor = _cursor_of(rows[0]) if cursor is not None and rows else None
    return LogPage(rows=rows, next_cursor=next_cursor, newer_cursor=newer_cursor)


def _newer_page(
    queryset: QuerySet[Any],
    fields: tuple[str, ...],
    order: LogOrder,
    newer_than: PageCursor,
    id_ranges: list[IdRange] | None,
    page_size: int,
) -> LogPage:
    if order is LogOrder.TIME:
        queryset = queryset.filter(created_at__gte=newer_than.created_at).filter(
            Q(created_at__gt=newer_than.created_at) | Q(id__gt=newer_than.id)
        )
        oldest_first: tuple[str, ...] = ("created_at", "id")
    else:
        queryset = queryset.filter(id__gt=newer_than.id)
        oldest_first = ("id",)
        if id_ranges is not None:
            id_ranges = [r for r in id_ranges[::-1] if r.stop is None or r.stop > newer_than.id]
    rows = _read(queryset, oldest_first, fields, page_size + 1, id_ranges)
    has_newer = len(rows) > page_size
    rows = rows[:page_size][::-1]
    return LogPage(
        rows=rows,
        # The row the link came from is older than all of these.
        next_cursor=_cursor_of(rows[-1]) if rows else None,
        newer_cursor=_cursor_of(rows[0]) if has_newer else None,
    )


def _read(
    queryset: QuerySet[Any],
    order_by: tuple[str, ...],
    fields: tuple[str, ...],
    limit: int,
    id_ranges: list[IdRange] | None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` rows in ``order_by``; with ``id_ranges`` (in that order), range by range,
    each an index range of its own, stopping once enough rows are read."""
    if id_ranges is None:
        return list(queryset.order_by(*order_by).values(*fields)[:limit])
    rows: list[dict[str, Any]] = []
    for id_range in id_ranges:
        part = queryset.filter(id__gte=id_range.start)
        if id_range.stop is not None:
            part = part.filter(id__lt=id_range.stop)
        rows += part.order_by(*order_by).values(*fields)[: limit - len(rows)]
        if len(rows) >= limit:
            break
    return rows


def _cursor_of(row: dict[str, Any]) -> PageCursor:
    return PageCursor(created_at=row["created_at"], id=row["id"])


def estimated_rows(queryset: QuerySet[Any], order: LogOrder) -> int:
    """The planner's estimate of the matching rows: counting tens of millions costs seconds.

    It explains the first page's query (cheap to plan, and too cheap for PostgreSQL to JIT-compile,
    which costs ~30 ms) and reads the estimate of the node under its LIMIT.
    """
    plan: Any = ordered(queryset, order)[:1].explain(format="json")
    while isinstance(plan, str):  # Django hands the JSON plan back encoded as a string
        plan = json.loads(plan)
    node = plan[0]["Plan"]
    if node["Node Type"] == "Limit":
        node = node["Plans"][0]
    return int(node["Plan Rows"])


def server_name(server_id: uuid.UUID) -> str | None:
    """The name of the server a detail page mentions (unscoped: the row was already scoped)."""
    return McpServer.unscoped.filter(id=server_id).values_list("name", flat=True).first()


def tenant_names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Names of the tenants a detail page mentions (unscoped: the row was already scoped)."""
    return dict(Tenant.unscoped.filter(id__in=ids).values_list("id", "name"))


# Every distinct action code in the log, one index probe each (a "loose index scan": PostgreSQL 15
# has no skip scan), so a filter on a prefix or on a resource can name the codes and walk
# idx_audit_logs_action_resource instead of the table. A few dozen codes: about a millisecond.
# Uses index: idx_audit_logs_action_resource (action, resource_type, resource_id)
ACTION_CODES_SQL = """
WITH RECURSIVE codes(action) AS (
    (SELECT action FROM audit_logs ORDER BY action LIMIT 1)
    UNION ALL
    SELECT (SELECT a.action FROM audit_logs a WHERE a.action > codes.action
            ORDER BY a.action LIMIT 1)
    FROM codes WHERE codes.action IS NOT NULL
)
SELECT action FROM codes WHERE action IS NOT NULL AND starts_with(action, %s)
"""


def action_codes(prefix: str = "") -> list[str]:
    """The action codes present in ``audit_logs`` that start with ``prefix`` (all of them for
    ""): exact at the time of the call, read from the index, never from the table."""
    with connection.cursor() as cursor:
        cursor.execute(ACTION_CODES_SQL, [prefix])
        return [row[0] for row in cursor.fetchall()]


# --- one object's or one person's entries (history pages, a user's story) -------------------

ENTRY_FIELDS = (*AUDIT_LOG_LIST_FIELDS, "details")


def entries_about(
    queryset: QuerySet[AuditLog], resource_type: str, resource_id: str, *, limit: int
) -> list[dict[str, Any]]:
    """The newest ``limit`` entries about one resource, from an already scoped ``queryset``.

    No index leads with resource_id: naming every action code present turns the filter into one
    probe of idx_audit_logs_action_resource (action, resource_type, resource_id) per code, and
    only the resource's own rows are sorted.
    """
    # Uses index: idx_audit_logs_action_resource
    return list(
        queryset.filter(
            action__in=action_codes(), resource_type=resource_type, resource_id=resource_id
        )
        .order_by("-created_at", "-id")
        .values(*ENTRY_FIELDS)[:limit]
    )


def entries_by(queryset: QuerySet[AuditLog], actor_id: str, *, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` entries written by one actor, from an already scoped ``queryset``."""
    # Uses index: idx_audit_logs_actor_time (actor_id, created_at DESC)
    return list(
        queryset.filter(actor_id=actor_id)
        .order_by("-created_at", "-id")
        .values(*ENTRY_FIELDS)[:limit]
    )


def api_key_label_of(actor: Actor | None, column: str) -> Subquery:
    """``name (prefix)`` of the API key whose id is in the outer query's ``column``, if the
    viewer may see it: for a page's own query, so naming its keys costs no query of its own."""
    # Uses index: api_keys_pkey (one probe per row of the page)
    return Subquery(
        ApiKey.objects.visible_to(actor, Capability.VIEW_AUDIT_LOGS)
        .filter(pk=OuterRef(column))
        .order_by()
        .annotate(
            label=Concat("name", Value(" ("), "key_prefix", Value(")"), output_field=TextField())
        )
        .values("label")[:1]
    )
