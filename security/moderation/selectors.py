"""Reads the moderation pages share, already scoped to the person looking.

A user page is opened with ``access_user`` (404 for a user the actor may not moderate); what it
shows of that user's sessions, sign-in methods, keys and audit entries is read here, field by
field, so that tokens, password hashes and key hashes never leave the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditLog, RequestLog
from audit.selectors import action_codes
from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor, Capability, Role, parse_roles
from backoffice.tenancy import access
from security.models import Account, ApiKey, GatewaySession, GatewayUser, ImpersonationRecord
from security.selectors import user_emails

RECENT_AUDIT_ENTRIES = 20
ACTIVITY_LIMIT = 200
IMPERSONATION_EVENTS_LIMIT = 50
# The audit events of impersonations shown beside the records, when no date range is chosen.
DEFAULT_EVENTS_WINDOW = dt.timedelta(days=30)

# What a session row shows: never ``token`` nor ``session_data``.
SESSION_FIELDS = (
    "id",
    "user_agent",
    "ip_address",
    "created_at",
    "last_activity_at",
    "expires_at",
    "impersonated_by",
    "is_active",
)
AUDIT_FIELDS = (
    "id",
    "created_at",
    "action",
    "outcome",
    "actor_type",
    "actor_id",
    "resource_type",
    "resource_id",
    "ip_address",
    "tenant_id",
)


def users_visible_to(actor: Actor | None) -> QuerySet[GatewayUser]:
    return GatewayUser.objects.visible_to(actor, Capability.MODERATE_USERS)


def access_user(actor: Actor | None, user_id: str) -> GatewayUser:
    """The user ``actor`` may moderate, or 404."""
    return access(GatewayUser.objects, actor, Capability.MODERATE_USERS, user_id)


def user_sessions(actor: Actor | None, user: GatewayUser) -> list[dict[str, Any]]:
    """The user's sessions, newest first, without their tokens; ``user`` was already scoped."""
    # Uses index: idx_sessions_user_active
    rows = list(
        GatewaySession.unscoped.filter(user_id=user.pk)
        .order_by("-created_at")
        .values(*SESSION_FIELDS)
    )
    impersonators = user_emails(
        actor,
        Capability.REVIEW_IMPERSONATIONS,
        {row["impersonated_by"] for row in rows if row["impersonated_by"]},
    )
    now = timezone.now()
    for row in rows:
        row["impersonator_email"] = impersonators.get(row["impersonated_by"] or "", "")
        row["expired"] = row["expires_at"] <= now
    return rows


def user_sign_in_methods(user: GatewayUser) -> list[dict[str, Any]]:
    """How the user signs in: the provider only, never its tokens or password hash."""
    # Uses index: idx_accounts_user
    return [
        dict(row)
        for row in Account.unscoped.filter(user_id=user.pk)
        .order_by("created_at")
        .values("id", "provider_id", "created_at", "updated_at")
    ]


def user_api_keys(actor: Actor, user: GatewayUser) -> list[dict[str, Any]]:
    """The API keys the user created, by prefix (the hash is never read)."""
    # Uses index: idx_api_keys_user
    return [
        dict(row)
        for row in ApiKey.objects.visible_to(actor, Capability.MODERATE_USERS)
        .filter(created_by_id=user.pk)
        .order_by("-created_at")
        .values(
            "id",
            "name",
            "key_prefix",
            "tenant_id",
            "tenant__name",
            "is_active",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "created_at",
        )
    ]


def user_audit_entries(actor: Actor, user: GatewayUser) -> list[dict[str, Any]]:
    """The most recent audit entries by the user or about the user, newest first."""
    visible = AuditLog.objects.visible_to(actor, Capability.MODERATE_USERS)
    # Uses index: idx_audit_logs_actor_time
    by_user = list(
        visible.filter(actor_id=user.pk)
        .order_by("-created_at")
        .values(*AUDIT_FIELDS)[:RECENT_AUDIT_ENTRIES]
    )
    # No index leads with resource_id: naming every action code turns the filter into one probe
    # of idx_audit_logs_action_resource (action, resource_type, resource_id) per code.
    about_user = list(
        visible.filter(action__in=action_codes(), resource_type="user", resource_id=user.pk)
        .exclude(actor_id=user.pk)
        .order_by("-created_at")
        .values(*AUDIT_FIELDS)[:RECENT_AUDIT_ENTRIES]
    )
    entries = sorted(by_user + about_user, key=lambda row: row["created_at"], reverse=True)
    return entries[:RECENT_AUDIT_ENTRIES]


def impersonations_visible_to(actor: Actor | None) -> QuerySet[ImpersonationRecord]:
    return ImpersonationRecord.objects.visible_to(actor, Capability.REVIEW_IMPERSONATIONS)


def impersonator_roles(record: ImpersonationRecord) -> frozenset[Role]:
    """The roles the author of an impersonation holds now (none when they are gone)."""
    role = (
        GatewayUser.unscoped.filter(pk=record.impersonator_id)
        .values_list("role", flat=True)
        .first()
    )
    return parse_roles(role) if record.impersonator_id else frozenset()


def access_impersonation(actor: Actor | None, record_id: object) -> ImpersonationRecord:
    """One impersonation record ``actor`` may review, or 404."""
    return access(ImpersonationRecord.objects, actor, Capability.REVIEW_IMPERSONATIONS, record_id)


# The audit events that say when an impersonation stopped: the gateway's, and the back office's.
STOP_ACTIONS = ("impersonation.stop", AuditAction.IMPERSONATION_END.value)


def impersonation_window(record: ImpersonationRecord) -> tuple[dt.datetime, dt.datetime]:
    """From its start to when it ended, expired, or now if it is still running.

    ``ended_at`` is when a capture noticed the session row gone, possibly minutes late; when the
    audit log has the stop (or the back office's end) of that session, its time ends the window.
    """
    cached: tuple[dt.datetime, dt.datetime] | None = getattr(record, "_activity_window", None)
    if cached is not None:
        return cached
    if record.ended_at is not None:
        end = impersonation_stopped_at(record) or record.ended_at
    else:
        end = min(record.expires_at, timezone.now())
    window = (record.started_at, max(end, record.started_at))
    record._activity_window = window  # type: ignore[attr-defined]
    return window


def impersonation_stopped_at(record: ImpersonationRecord) -> dt.datetime | None:
    """When the audit log says this impersonation session stopped, if it says so."""
    # The record is already in the reader's scope; only the time of its own stop is read.
    # Uses index: idx_audit_logs_created_brin (bounded by the start and the noticed end)
    return (
        AuditLog.unscoped.filter(
            action__in=STOP_ACTIONS,
            created_at__gte=record.started_at,
            created_at__lte=record.ended_at,
        )
        .filter(
            # Written in that session, or about it (the back office's end) ...
            Q(session_id=record.session_id)
            | Q(resource_type="session", resource_id=record.session_id)
            # ... or the gateway's stop by this impersonator of this user.
            | Q(
                actor_id=record.impersonator_id,
                resource_type="user",
                resource_id=record.impersonated_user_id,
            )
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def impersonation_audit_activity(actor: Actor, record: ImpersonationRecord) -> list[AuditLog]:
    """Audit entries of the impersonated user (or of that session) while it lasted."""
    start, end = impersonation_window(record)
    # Uses index: idx_audit_logs_actor_time (and the BRIN on created_at for the session's rows)
    return list(
        AuditLog.objects.visible_to(actor, Capability.REVIEW_IMPERSONATIONS)
        .filter(created_at__gte=start, created_at__lte=end)
        .filter(Q(actor_id=record.impersonated_user_id) | Q(session_id=record.session_id))
        .only(*AUDIT_FIELDS)
        .order_by("created_at")[:ACTIVITY_LIMIT]
    )


def impersonation_request_activity(actor: Actor, record: ImpersonationRecord) -> list[RequestLog]:
    """Gateway requests the impersonated user made while it lasted."""
    start, end = impersonation_window(record)
    requests = RequestLog.objects.visible_to(actor, Capability.REVIEW_IMPERSONATIONS).filter(
        user_id=record.impersonated_user_id, created_at__gte=start, created_at__lte=end
    )
    if record.tenant_id is not None:
        # Uses index: idx_request_logs_tenant_time
        requests = requests.filter(tenant_id=record.tenant_id)
    return list(
        requests.select_related("server")
        .only(
            "id",
            "created_at",
            "method",
            "tool_name",
            "status_code",
            "duration_ms",
            "server__id",
            "server__name",
        )
        .order_by("created_at")[:ACTIVITY_LIMIT]
    )


def impersonation_audit_events(
    actor: Actor, since: dt.datetime | None, until: dt.datetime | None
) -> list[AuditLog]:
    """``impersonation.*`` events the gateway (and the back office) wrote in this date range."""
    since = since or timezone.now() - DEFAULT_EVENTS_WINDOW
    # The codes present, not a LIKE: the prefix then reads idx_audit_logs_action_resource, where
    # a LIKE (no pattern index in the contract) scanned every row of the period.
    events = AuditLog.objects.visible_to(actor, Capability.REVIEW_IMPERSONATIONS).filter(
        action__in=action_codes("impersonation."), created_at__gte=since
    )
    if until is not None:
        events = events.filter(created_at__lt=until)
    # Newest first by id, as the audit explorer walks: common codes read the primary key
    # backwards and stop at the limit; rare ones read idx_audit_logs_action_resource, one range
    # per code (the planner picks by the codes' frequencies).
    return list(events.only(*AUDIT_FIELDS).order_by("-id")[:IMPERSONATION_EVENTS_LIMIT])


def find_user(actor: Actor, who: str) -> GatewayUser | None:
    """A user the actor may moderate, by email, username or id, as a script names them."""
    if not who or "\x00" in who:
        return None
    return (
        users_visible_to(actor)
        .filter(Q(email__iexact=who) | Q(username__iexact=who) | Q(pk=who))
        .order_by("pk")
        .first()
    )


# The longest email a prefix search looks at (RFC 5321's path limit): one index range per letter.
EMAIL_PREFIX_LIMIT = 254
# Sorts after every character: the end of the range of strings that start with a prefix.
LAST_CHARACTER = "\U0010ffff"
CODEPOINT_ORDER_SQL = """
SELECT coalesce(nullif(c.collname, 'default'), d.datcollate),
       coalesce(nullif(c.collprovider, 'd'), d.datlocprovider)
FROM pg_attribute a
JOIN pg_collation c ON c.oid = a.attcollation
JOIN pg_database d ON d.datname = current_database()
WHERE a.attrelid = '"user"'::regclass AND a.attname = 'email'
"""
CODEPOINT_COLLATIONS = {"C", "POSIX", "C.UTF-8", "C.utf8", "ucs_basic", "pg_c_utf8"}


def email_prefix_ranges(term: str) -> list[tuple[str, str]]:
    """The ranges (in code point order) holding every email that starts with ``term``, any case.

    Better-Auth stores emails lower-cased, so nearly every match lies in the range of the
    lower-cased term. An email stored with capitals first differs from it at some position ``i``
    where it holds that letter's other case: one range per such letter, each empty (and free to
    read) in a database of lower-cased emails, so mixed-case emails are still found.
    """
    lowered = term[:EMAIL_PREFIX_LIMIT].lower()
    ranges = [(lowered, lowered + LAST_CHARACTER)]
    for position, character in enumerate(lowered):
        for variant in {character.upper(), character.title()} - {character}:
            if len(variant) == 1:
                start = lowered[:position] + variant
                ranges.append((start, start + LAST_CHARACTER))
    return ranges


def emails_in_code_point_order() -> bool:
    """Whether ``user.email``'s collation sorts by code point, so that a prefix is a range of
    its unique index (C, POSIX, C.UTF-8; a language's collation is not: it ignores punctuation)."""
    if not hasattr(emails_in_code_point_order, "answer"):
        with connection.cursor() as cursor:
            cursor.execute(CODEPOINT_ORDER_SQL)
            collation, provider = cursor.fetchone()
        # "b": PostgreSQL 17's builtin provider (C, C.UTF-8: code point order); "i": ICU, never.
        answer = provider == "b" or (provider == "c" and collation in CODEPOINT_COLLATIONS)
        emails_in_code_point_order.answer = answer  # type: ignore[attr-defined]
    return bool(emails_in_code_point_order.answer)  # type: ignore[attr-defined]


def users_by_email_prefix(users: QuerySet[GatewayUser], term: str) -> QuerySet[GatewayUser]:
    """``users`` whose email starts with ``term``, in any case.

    Uses index: user_email_unique (the contract's only index on ``email``), one range per
    ``email_prefix_ranges``, then the case-insensitive test on the few rows they hold. Under a
    collation that does not sort by code point a prefix is no range, and the table is read.
    """
    matching = users.filter(email__istartswith=term[:EMAIL_PREFIX_LIMIT])
    if not emails_in_code_point_order():
        return matching
    within = Q()
    for start, end in email_prefix_ranges(term):
        within |= Q(email__gte=start, email__lt=end)
    return matching.filter(within)
