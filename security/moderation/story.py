"""A person's whole story on their user page: counts, a ban ledger, requests, impersonations.

Reads for ``GatewayUserAdmin.change_view``, the user already scoped by ``access_user``. Every
query is bounded by an index and a LIMIT, whatever the size of the logs (measured at 10M audit
rows: README "a user's story"): counts stop at ``COUNT_CAP`` and say "1,000+", lists show the
newest few, and each section links to all of it in the explorer for those who may open it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.utils import quote
from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse

from audit.models import AuditLog
from audit.selectors import action_codes
from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor, Capability
from security.models import GatewayUser, ImpersonationRecord
from security.selectors import user_emails

COUNT_CAP = 1_000
LEDGER_SHOWN = 50
REQUESTS_SHOWN = 20
IMPERSONATIONS_SHOWN = 20
# Requests are read by key (request_logs has no index on user_id): the user's newest keys only.
KEYS_READ = 20
BAN_ACTIONS = (AuditAction.USER_BAN.value, AuditAction.USER_UNBAN.value)


@dataclass(frozen=True)
class Count:
    """A count that stopped at ``COUNT_CAP``: "1,000+" past it."""

    value: int

    def __str__(self) -> str:
        return f"{COUNT_CAP:,}+" if self.value > COUNT_CAP else f"{self.value:,}"


def capped_count(queryset: QuerySet[Any]) -> Count:
    """How many rows ``queryset`` has, reading at most ``COUNT_CAP + 1`` of them."""
    return Count(len(queryset.values_list("pk", flat=True)[: COUNT_CAP + 1]))


def audit_counts(actor: Actor, user: GatewayUser) -> tuple[Count, Count]:
    """Entries by the user and entries about the user, each count capped."""
    visible = AuditLog.objects.visible_to(actor, Capability.MODERATE_USERS)
    # Uses index: idx_audit_logs_actor_time (actor_id, created_at DESC)
    by_user = capped_count(visible.filter(actor_id=user.pk))
    # Uses index: idx_audit_logs_action_resource (one probe per action code)
    about_user = capped_count(
        visible.filter(action__in=action_codes(), resource_type="user", resource_id=user.pk)
    )
    return by_user, about_user


@dataclass
class LedgerLine:
    """One ban or unban of the user: who, when, why, until when."""

    id: int
    at: Any
    what: str  # "ban", "ban changed", "unban"
    outcome: str
    actor_id: str | None
    by: str = ""
    by_url: str | None = None
    reason: str = ""
    until: str = ""  # "" for an unban, "permanent" for a ban without an end
    url: str | None = None


def ban_ledger(actor: Actor, user: GatewayUser) -> list[LedgerLine]:
    """The user's bans and unbans over time, newest first, as the audit log tells them.

    Both the back office's rows (reason and end in ``after``) and the gateway's own (``reason``,
    ``expires_at`` or ``ban_expires`` in the details) are read.
    """
    # Uses index: idx_audit_logs_action_resource (action, resource_type, resource_id)
    rows = list(
        AuditLog.objects.visible_to(actor, Capability.MODERATE_USERS)
        .filter(action__in=BAN_ACTIONS, resource_type="user", resource_id=user.pk)
        .order_by("-created_at", "-id")
        .values("id", "created_at", "action", "outcome", "actor_id", "details")[:LEDGER_SHOWN]
    )
    emails = user_emails(
        actor, Capability.MODERATE_USERS, {r["actor_id"] for r in rows if r["actor_id"]}
    )
    ledger = []
    for row in rows:
        details: dict[str, Any] = row["details"] if isinstance(row["details"], dict) else {}
        after: dict[str, Any] = details["after"] if isinstance(details.get("after"), dict) else {}
        before: dict[str, Any] = (
            details["before"] if isinstance(details.get("before"), dict) else {}
        )
        banning = row["action"] == AuditAction.USER_BAN.value
        what = "unban"
        if banning:
            what = "ban changed" if before.get("banned") else "ban"
        reason = after.get("ban_reason") or details.get("reason") or ""
        until = ""
        if banning:
            end = (
                after.get("ban_expires") or details.get("ban_expires") or details.get("expires_at")
            )
            until = str(end) if end else "permanent"
        ledger.append(
            LedgerLine(
                id=row["id"],
                at=row["created_at"],
                what=what,
                outcome=row["outcome"],
                actor_id=row["actor_id"],
                by=emails.get(row["actor_id"] or "")
                or str(details.get("actor") or row["actor_id"] or ""),
                by_url=reverse("admin:security_gatewayuser_change", args=[quote(row["actor_id"])])
                if row["actor_id"] in emails
                else None,
                reason=str(reason),
                until=until,
            )
        )
    return ledger


# The newest requests of each of the user's keys, then the newest of those: one index range
# per key, never the key's whole history.
# Uses index: idx_request_logs_api_key (api_key_id, created_at DESC)
KEY_REQUESTS_SQL = """
SELECT r.id, r.created_at, r.api_key_id, r.method, r.tool_name, r.status_code, r.duration_ms,
       r.server_id, r.tenant_id
FROM unnest(%(keys)s::uuid[]) AS k(id)
CROSS JOIN LATERAL (
    SELECT * FROM request_logs r
    WHERE r.api_key_id = k.id
    ORDER BY r.created_at DESC
    LIMIT %(limit)s
) r
ORDER BY r.created_at DESC, r.id DESC
LIMIT %(limit)s
"""
# How many requests each key made, stopping at the cap: an index-only range per key.
# Uses index: idx_request_logs_api_key (api_key_id, created_at DESC)
KEY_REQUEST_COUNTS_SQL = """
SELECT k.id, (SELECT count(*) FROM (
    SELECT 1 FROM request_logs r WHERE r.api_key_id = k.id LIMIT %(cap)s
) AS capped)
FROM unnest(%(keys)s::uuid[]) AS k(id)
"""


def key_requests(key_ids: list[uuid.UUID]) -> tuple[list[dict[str, Any]], dict[str, Count]]:
    """The newest requests made with these keys (already scoped), and a capped count per key."""
    keys = [str(pk) for pk in key_ids[:KEYS_READ]]
    if not keys:
        return [], {}
    with connection.cursor() as cursor:
        cursor.execute(KEY_REQUESTS_SQL, {"keys": keys, "limit": REQUESTS_SHOWN})
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(KEY_REQUEST_COUNTS_SQL, {"keys": keys, "cap": COUNT_CAP + 1})
        counts = {str(pk): Count(count) for pk, count in cursor.fetchall()}
    return rows, counts


def impersonations(actor: Actor, user: GatewayUser) -> list[ImpersonationRecord]:
    """Impersonations by the user and of the user, newest first (the back office's records)."""
    if not actor.can(Capability.REVIEW_IMPERSONATIONS):
        return []
    # No index on either id: the table holds one row per impersonation (thousands, not the
    # logs' millions), read in impersonation_started_idx order until the page is full.
    return list(
        ImpersonationRecord.objects.visible_to(actor, Capability.REVIEW_IMPERSONATIONS)
        .filter(Q(impersonator_id=user.pk) | Q(impersonated_user_id=user.pk))
        .order_by("-started_at")[:IMPERSONATIONS_SHOWN]
    )
