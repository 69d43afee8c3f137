"""Capturing impersonations: the back office's own record of every impersonation session.

Better-Auth keeps no history of impersonations: a session row with ``impersonated_by`` exists
while one lasts and is deleted when it ends. The capture copies every such row into
``ImpersonationRecord`` (never its token) and closes the records whose rows vanished; staff
endings record theirs in the same transaction (``services``). Kept apart from the moderation
services: it needs no actor, writes no audit row and changes nothing in the gateway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from security.models import GatewaySession, GatewayUser, ImpersonationRecord


@dataclass(frozen=True)
class CaptureResult:
    seen: int
    recorded: int
    ended: int


# Held by every capture until its transaction ends, so two captures never interleave.
CAPTURE_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s)"
CAPTURE_LOCK_KEY = 0x1B0_CA97  # any constant bigint unique to this lock


def capture_impersonations() -> CaptureResult:
    """Copy every impersonation session row into the back office's records; close vanished ones.

    Needs no actor and writes no audit row: it records what the gateway did, changes nothing in
    it, and must see every tenant's sessions so that no impersonation escapes the record. Pages
    scope what they show of the records.

    Captures run one at a time (an advisory lock taken before the live sessions are read), so a
    capture never closes a record that a concurrent one has just opened; and a record that a
    capture closed while its session row is still there is opened again.
    """
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(CAPTURE_LOCK_SQL, [CAPTURE_LOCK_KEY])
        live = _live_impersonation_rows()
        live_ids = [row["id"] for row in live]
        known = set(
            ImpersonationRecord.unscoped.filter(session_id__in=live_ids).values_list(
                "session_id", flat=True
            )
        )
        ImpersonationRecord.unscoped.bulk_create(
            impersonation_records(live, now),
            update_conflicts=True,
            unique_fields=["session_id"],
            update_fields=["expires_at", "ip_address", "user_agent", "last_seen_at"],
        )
        # Closed by a capture (no ``ended_by``) although its row is still there: open again.
        # Staff endings (``ended_by`` set) delete the row in the same transaction; they stay.
        ImpersonationRecord.unscoped.filter(
            session_id__in=live_ids, ended_at__isnull=False, ended_by=""
        ).update(ended_at=None)
        # Gone before its expiry: stopped in the gateway (or deleted) since we last looked.
        ended = (
            ImpersonationRecord.unscoped.filter(ended_at__isnull=True, expires_at__gt=now)
            .exclude(session_id__in=live_ids)
            .update(ended_at=now)
        )
    return CaptureResult(seen=len(live), recorded=len(live) - len(known), ended=ended)


# What the back office copies of an impersonation session row: never its token.
IMPERSONATION_ROW_FIELDS = (
    "id",
    "user_id",
    "user__email",
    "user__tenant_id",
    "impersonated_by",
    "created_at",
    "expires_at",
    "ip_address",
    "user_agent",
)


def _live_impersonation_rows() -> list[dict[str, Any]]:
    """Every impersonation session row the gateway has now, in every tenant (never the token)."""
    # Uses index: idx_sessions_impersonated_by
    return [
        dict(row)
        for row in GatewaySession.unscoped.filter(impersonated_by__isnull=False).values(
            *IMPERSONATION_ROW_FIELDS
        )
    ]


def impersonation_records(
    rows: Iterable[dict[str, Any]], now: dt.datetime, *, ended_by: str | None = None
) -> list[ImpersonationRecord]:
    """Records of impersonation session rows (``IMPERSONATION_ROW_FIELDS``), seen ``now``;
    ended now by ``ended_by`` when staff end them."""
    rows = list(rows)
    impersonator_emails = dict(
        GatewayUser.unscoped.filter(pk__in={row["impersonated_by"] for row in rows}).values_list(
            "id", "email"
        )
    )
    return [
        ImpersonationRecord(
            session_id=row["id"],
            impersonator_id=row["impersonated_by"] or "",
            impersonator_email=impersonator_emails.get(row["impersonated_by"] or "", ""),
            impersonated_user_id=row["user_id"],
            impersonated_email=row["user__email"] or "",
            tenant_id=row["user__tenant_id"],
            started_at=row["created_at"],
            expires_at=row["expires_at"],
            ip_address=row["ip_address"] or "",
            user_agent=(row["user_agent"] or "")[:1000],
            last_seen_at=now,
            **({"ended_at": now, "ended_by": ended_by} if ended_by is not None else {}),
        )
        for row in rows
    ]
