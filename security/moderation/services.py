"""User moderation and impersonation review: every change support staff make, audited.

Each function is the only way its change is made: admin actions, pages and management commands
call it alike. Each runs in its own transaction, locks the rows it changes with
``select_for_update`` (so two identical requests at once write one audit row) and writes its
audit row inside that transaction. A refusal (banning yourself, a non-admin acting on an admin)
changes nothing and is recorded with outcome ``denied`` once the transaction has been left
(``backoffice.operations``). Who may act on whom is ``backoffice.roles.person_refusal``: each
operation asks it again here, under the row lock, whatever the page showed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, NotFound, Refused, audited_change, refuse, require
from backoffice.roles import (
    Actor,
    Capability,
    Operation,
    Role,
    format_roles,
    parse_roles,
    person_refusal,
    unknown_roles,
)
from backoffice.staff_audit import record_staff_action
from security.models import GatewaySession, GatewayUser, ImpersonationRecord, ImpersonationStatus

# Far enough for any real ban, and well inside what both Python and PostgreSQL can hold (a time
# near 9999-12-31 in a negative offset overflows once converted to UTC).
LATEST_BAN_END = dt.datetime(2999, 12, 31, tzinfo=dt.UTC)
# Banning again with the same reason and an end this close to the current one is a repeat (a
# double click on "7 days"), not a change.
SAME_BAN_END_TOLERANCE = dt.timedelta(minutes=1)
# A bulk action locks every selected user in one transaction; keep that bounded.
MAX_BULK_USERS = 500
MAX_NOTE_LENGTH = 2000
MAX_REASON_LENGTH = 500


__all__ = ["Invalid", "NotFound", "Refused"]  # the errors every operation here raises


@dataclass
class Outcome:
    """What an operation did, in words a message can use: who changed, who was already so."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Bans already in force whose reason or end was changed (not lifted in between).
    amended: list[str] = field(default_factory=list)
    sessions_deleted: int = 0


# --- Rules every page shows before it is asked, and every service enforces --------------------


OPERATIONS = {
    AuditAction.USER_BAN: Operation.BAN,
    AuditAction.USER_UNBAN: Operation.UNBAN,
    AuditAction.SESSION_REVOKE_ALL: Operation.REVOKE_SESSIONS,
    AuditAction.SESSION_REVOKE: Operation.REVOKE_SESSIONS,
    AuditAction.USER_ROLE_CHANGE: Operation.CHANGE_ROLES,
    AuditAction.IMPERSONATION_END: Operation.END_IMPERSONATION,
    AuditAction.IMPERSONATION_REVIEW: Operation.REVIEW_IMPERSONATION,
}


def moderation_refusal(actor: Actor, user: GatewayUser, action: AuditAction) -> str | None:
    """Why ``actor`` may not apply ``action`` to ``user``, or None when they may."""
    return person_refusal(
        actor,
        OPERATIONS[action],
        target_id=user.pk,
        target_roles=parse_roles(user.role),
        target_label=user.email,
    )


def roles_refusal(actor: Actor, user: GatewayUser, new_roles: frozenset[Role]) -> str | None:
    """Why ``actor`` may not give ``user`` these roles (each added or removed must be grantable)."""
    return person_refusal(
        actor,
        Operation.CHANGE_ROLES,
        target_id=user.pk,
        target_roles=parse_roles(user.role),
        target_label=user.email,
        roles_after=new_roles,
    )


def impersonation_refusal(
    actor: Actor, record: ImpersonationRecord, action: AuditAction
) -> str | None:
    """Why ``actor`` may not end or review this impersonation: who its author is decides."""
    author_role = (
        GatewayUser.unscoped.filter(pk=record.impersonator_id)
        .values_list("role", flat=True)
        .first()
    )
    return person_refusal(
        actor,
        OPERATIONS[action],
        target_id=record.impersonator_id or None,
        target_roles=parse_roles(author_role),
        target_label=record.impersonator_email or record.impersonator_id,
    )


def ban_end_problem(expires_at: dt.datetime | None, now: dt.datetime | None = None) -> str | None:
    """Why a ban may not end at ``expires_at`` (None: permanent, always fine), or None.

    The form, the command and the service share these bounds, so each says the same thing.
    """
    if expires_at is None:
        return None
    if timezone.is_naive(expires_at):
        return "The end of a ban needs a time zone."
    if expires_at <= (now or timezone.now()):
        return "The end of a ban must be in the future."
    if expires_at > LATEST_BAN_END:
        return "That is too far away: choose a permanent ban instead."
    return None


# --- User moderation --------------------------------------------------------------------------


def ban_user(*, actor: Actor, user_id: str, reason: str, expires_at: dt.datetime | None) -> Outcome:
    """Ban one user as Better-Auth does: flag, reason, expiry, and every session deleted."""
    return ban_users(actor=actor, user_ids=[user_id], reason=reason, expires_at=expires_at)


def ban_users(
    *,
    actor: Actor,
    user_ids: Sequence[str],
    reason: str,
    expires_at: dt.datetime | None,
) -> Outcome:
    """Ban users in one transaction; if any of them may not be banned by ``actor``, none is.

    A user already banned keeps the ban, with its reason and end replaced by these (audited as
    ``user.ban`` with before and after): changing a ban never lifts it in between.
    """
    _require(actor, Capability.MODERATE_USERS, AuditAction.USER_BAN, user_ids)
    reason = _clean_text(reason, "reason", MAX_REASON_LENGTH)
    if not reason:
        raise Invalid("A ban needs a reason.")
    now = timezone.now()
    problem = ban_end_problem(expires_at, now)
    if problem is not None:
        raise Invalid(problem)
    outcome = Outcome()
    with audited_change():
        users = _lock_users(actor, user_ids)
        _refuse_any(actor, users, AuditAction.USER_BAN)
        for user in users:
            in_force = user.ban_in_force(now)
            if in_force and _same_ban(user, reason, expires_at):
                # A double click, or two people at once: no second row.
                outcome.unchanged.append(user.email)
                continue
            before = _ban_state(user)
            deleted = _delete_sessions(GatewaySession.unscoped.filter(user_id=user.pk), actor, now)
            GatewayUser.unscoped.filter(pk=user.pk).update(
                banned=True, ban_reason=reason, ban_expires=expires_at, updated_at=now
            )
            record_staff_action(
                actor=actor,
                action=AuditAction.USER_BAN,
                resource_type="user",
                resource_id=user.pk,
                tenant_id=user.tenant_id,
                before=before,
                after={"banned": True, "ban_reason": reason, "ban_expires": expires_at},
                details={
                    "email": user.email,
                    "sessions_deleted": deleted,
                    "changed_ban_in_force": in_force,
                },
            )
            (outcome.amended if in_force else outcome.changed).append(user.email)
            outcome.sessions_deleted += deleted
    return outcome


def unban_user(*, actor: Actor, user_id: str) -> Outcome:
    """Lift one user's ban: Better-Auth clears the flag, the reason and the expiry."""
    return unban_users(actor=actor, user_ids=[user_id])


def unban_users(*, actor: Actor, user_ids: Sequence[str]) -> Outcome:
    """Lift the bans of users in one transaction; users who are not banned are left alone."""
    _require(actor, Capability.MODERATE_USERS, AuditAction.USER_UNBAN, user_ids)
    now = timezone.now()
    outcome = Outcome()
    with audited_change():
        users = _lock_users(actor, user_ids)
        _refuse_any(actor, users, AuditAction.USER_UNBAN)
        for user in users:
            if not (user.banned or user.ban_reason or user.ban_expires):
                outcome.unchanged.append(user.email)
                continue
            before = _ban_state(user)
            GatewayUser.unscoped.filter(pk=user.pk).update(
                banned=False, ban_reason=None, ban_expires=None, updated_at=now
            )
            record_staff_action(
                actor=actor,
                action=AuditAction.USER_UNBAN,
                resource_type="user",
                resource_id=user.pk,
                tenant_id=user.tenant_id,
                before=before,
                after={"banned": False, "ban_reason": None, "ban_expires": None},
                details={"email": user.email},
            )
            outcome.changed.append(user.email)
    return outcome


def revoke_all_sessions(*, actor: Actor, user_id: str) -> Outcome:
    """Sign one user out everywhere by deleting all their sessions."""
    return revoke_sessions_of_users(actor=actor, user_ids=[user_id])


def revoke_sessions_of_users(*, actor: Actor, user_ids: Sequence[str]) -> Outcome:
    """Delete every session of these users in one transaction (impersonations included)."""
    _require(actor, Capability.MODERATE_USERS, AuditAction.SESSION_REVOKE_ALL, user_ids)
    now = timezone.now()
    outcome = Outcome()
    with audited_change():
        # The user rows are locked so that two identical requests run one after the other.
        users = _lock_users(actor, user_ids)
        _refuse_any(actor, users, AuditAction.SESSION_REVOKE_ALL)
        for user in users:
            deleted = _delete_sessions(GatewaySession.unscoped.filter(user_id=user.pk), actor, now)
            if not deleted:
                outcome.unchanged.append(user.email)
                continue
            record_staff_action(
                actor=actor,
                action=AuditAction.SESSION_REVOKE_ALL,
                resource_type="user",
                resource_id=user.pk,
                tenant_id=user.tenant_id,
                details={"email": user.email, "sessions_deleted": deleted},
            )
            outcome.changed.append(user.email)
            outcome.sessions_deleted += deleted
    return outcome


def revoke_session(*, actor: Actor, session_id: str) -> Outcome:
    """Sign a user out of one device by deleting that session."""
    _require(actor, Capability.MODERATE_USERS, AuditAction.SESSION_REVOKE, [session_id])
    if "\x00" in session_id:
        raise NotFound("No such session.")
    now = timezone.now()
    with audited_change():
        session = (
            GatewaySession.objects.visible_to(actor, Capability.MODERATE_USERS)
            .select_for_update(of=("self",))
            .select_related("user")
            .only(
                "id",
                "user__id",
                "user__email",
                "user__tenant_id",
                "user__role",
                "ip_address",
                "user_agent",
                "impersonated_by",
                "created_at",
                "expires_at",
            )
            .filter(pk=session_id)
            .first()
        )
        if session is None:
            raise NotFound("This session no longer exists: it was revoked or it expired.")
        user = session.user
        _refuse_any(actor, [user], AuditAction.SESSION_REVOKE)
        _delete_sessions(GatewaySession.unscoped.filter(pk=session.pk), actor, now)
        record_staff_action(
            actor=actor,
            action=AuditAction.SESSION_REVOKE,
            resource_type="session",
            resource_id=session.pk,
            tenant_id=user.tenant_id,
            details={
                "user_id": user.pk,
                "email": user.email,
                "ip_address": session.ip_address,
                "impersonated_by": session.impersonated_by,
            },
        )
    return Outcome(changed=[user.email], sessions_deleted=1)


def change_roles(*, actor: Actor, user_id: str, roles: Iterable[Role | str]) -> Outcome:
    """Set a user's known roles to these; roles the back office does not know are kept as they
    are. Every role added or removed must be one the actor may grant (``backoffice.roles``)."""
    new_roles = _known_roles(roles)
    _require(actor, Capability.MODERATE_USERS, AuditAction.USER_ROLE_CHANGE, [user_id])
    now = timezone.now()
    outcome = Outcome()
    with audited_change():
        user = _lock_users(actor, [user_id])[0]
        new_text = format_roles(new_roles, unknown_roles(user.role))
        refusal = roles_refusal(actor, user, new_roles)
        if refusal is not None:
            raise _refusal(actor, user, refusal, AuditAction.USER_ROLE_CHANGE)
        if (user.role or "") == new_text:
            outcome.unchanged.append(user.email)
        else:
            GatewayUser.unscoped.filter(pk=user.pk).update(role=new_text, updated_at=now)
            record_staff_action(
                actor=actor,
                action=AuditAction.USER_ROLE_CHANGE,
                resource_type="user",
                resource_id=user.pk,
                tenant_id=user.tenant_id,
                before={"role": user.role},
                after={"role": new_text},
                details={"email": user.email},
            )
            outcome.changed.append(user.email)
    return outcome


# --- Impersonation review ---------------------------------------------------------------------


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
        impersonator_emails = dict(
            GatewayUser.unscoped.filter(
                pk__in={row["impersonated_by"] for row in live}
            ).values_list("id", "email")
        )
        known = set(
            ImpersonationRecord.unscoped.filter(session_id__in=live_ids).values_list(
                "session_id", flat=True
            )
        )
        ImpersonationRecord.unscoped.bulk_create(
            [
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
                )
                for row in live
            ],
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


def end_impersonation(*, actor: Actor, record_id: int) -> Outcome:
    """Stop an active impersonation now by deleting its session row, as Better-Auth's stop does."""
    _require(actor, Capability.REVIEW_IMPERSONATIONS, AuditAction.IMPERSONATION_END, [record_id])
    now = timezone.now()
    with audited_change():
        record = _lock_record(actor, record_id)
        label = str(record)
        refusal = impersonation_refusal(actor, record, AuditAction.IMPERSONATION_END)
        if refusal is not None:
            raise _record_refusal(actor, record, refusal, AuditAction.IMPERSONATION_END)
        if record.status != ImpersonationStatus.ACTIVE:
            return Outcome(unchanged=[label])
        deleted, _ = GatewaySession.unscoped.filter(pk=record.session_id).delete()
        if not deleted:
            # Stopped in the gateway since the last capture: it ended, but not by us.
            ImpersonationRecord.unscoped.filter(pk=record.pk).update(ended_at=now)
            return Outcome(unchanged=[label])
        ImpersonationRecord.unscoped.filter(pk=record.pk).update(
            ended_at=now, ended_by=actor.display_name
        )
        record_staff_action(
            actor=actor,
            action=AuditAction.IMPERSONATION_END,
            resource_type="session",
            resource_id=record.session_id,
            tenant_id=record.tenant_id,
            details={
                "impersonator_id": record.impersonator_id,
                "impersonator_email": record.impersonator_email,
                "impersonated_user_id": record.impersonated_user_id,
                "impersonated_email": record.impersonated_email,
            },
        )
    return Outcome(changed=[label], sessions_deleted=1)


def review_impersonation(*, actor: Actor, record_id: int, note: str) -> Outcome:
    """Mark an impersonation reviewed with a note; nobody reviews their own impersonation."""
    note = _clean_text(note, "note", MAX_NOTE_LENGTH)
    if not note:
        raise Invalid("A review needs a note.")
    _require(actor, Capability.REVIEW_IMPERSONATIONS, AuditAction.IMPERSONATION_REVIEW, [record_id])
    now = timezone.now()
    with audited_change():
        record = _lock_record(actor, record_id)
        label = str(record)
        refusal = impersonation_refusal(actor, record, AuditAction.IMPERSONATION_REVIEW)
        if refusal is not None:
            raise _record_refusal(actor, record, refusal, AuditAction.IMPERSONATION_REVIEW)
        if record.reviewed_at is not None and record.review_note == note:
            return Outcome(unchanged=[label])
        else:
            before = {
                "reviewed_at": record.reviewed_at,
                "reviewed_by": record.reviewed_by,
                "review_note": record.review_note,
            }
            ImpersonationRecord.unscoped.filter(pk=record.pk).update(
                reviewed_at=now, reviewed_by=actor.display_name, review_note=note
            )
            record_staff_action(
                actor=actor,
                action=AuditAction.IMPERSONATION_REVIEW,
                resource_type="session",
                resource_id=record.session_id,
                tenant_id=record.tenant_id,
                before=before,
                after={"reviewed_at": now, "reviewed_by": actor.display_name, "review_note": note},
                details={
                    "impersonator_email": record.impersonator_email,
                    "impersonated_email": record.impersonated_email,
                },
            )
    return Outcome(changed=[label])


# --- The parts every operation shares ---------------------------------------------------------


def _require(
    actor: Actor, capability: Capability, action: AuditAction, resource_ids: Sequence[object]
) -> None:
    require(actor, capability, action, resource_ids=resource_ids)


def _lock_users(actor: Actor, user_ids: Sequence[str]) -> list[GatewayUser]:
    ids = sorted({str(pk) for pk in user_ids})
    if any("\x00" in pk for pk in ids):
        raise NotFound("A selected id is not a valid user id.")
    if len(ids) > MAX_BULK_USERS:
        raise Invalid(f"Select at most {MAX_BULK_USERS} users at a time.")
    # Locked in id order, so two bulk actions over overlapping users cannot deadlock.
    users = list(
        GatewayUser.objects.visible_to(actor, Capability.MODERATE_USERS)
        .filter(pk__in=ids)
        .order_by("pk")
        .select_for_update()
    )
    if not users:
        raise NotFound("No such user." if len(ids) == 1 else "None of the selected users exist.")
    return users


def _lock_record(actor: Actor, record_id: int) -> ImpersonationRecord:
    record = (
        ImpersonationRecord.objects.visible_to(actor, Capability.REVIEW_IMPERSONATIONS)
        .select_for_update()
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise NotFound(f"No impersonation session {record_id}.")
    return record


def _refuse_any(actor: Actor, users: list[GatewayUser], action: AuditAction) -> None:
    """Refuse the whole operation when any locked user is out of the actor's reach: one denied
    row per such user, written by ``audited_change`` once the transaction has rolled back."""
    refused = [
        _refusal(actor, user, refusal, action)
        for user in users
        if (refusal := moderation_refusal(actor, user, action)) is not None
    ]
    if refused:
        message = " ".join(str(one) for one in refused) + " Nothing was changed."
        raise Refused(message, [denial for one in refused for denial in one.denials])


def _refusal(actor: Actor, user: GatewayUser, refusal: str, action: AuditAction) -> Refused:
    return refuse(
        actor,
        action,
        refusal,
        resource_type="user",
        resource_id=user.pk,
        tenant_id=user.tenant_id,
        email=user.email,
    )


def _record_refusal(
    actor: Actor, record: ImpersonationRecord, refusal: str, action: AuditAction
) -> Refused:
    return refuse(
        actor,
        action,
        refusal,
        resource_type="session",
        resource_id=record.session_id,
        tenant_id=record.tenant_id,
    )


def _delete_sessions(sessions, actor: Actor, now: dt.datetime) -> int:  # type: ignore[no-untyped-def]
    """Delete sessions, first recording the impersonations among them as ended by ``actor``."""
    impersonations = list(
        sessions.filter(impersonated_by__isnull=False).values(*IMPERSONATION_ROW_FIELDS)
    )
    if impersonations:
        emails = dict(
            GatewayUser.unscoped.filter(
                pk__in={row["impersonated_by"] for row in impersonations}
            ).values_list("id", "email")
        )
        ImpersonationRecord.unscoped.bulk_create(
            [
                ImpersonationRecord(
                    session_id=row["id"],
                    impersonator_id=row["impersonated_by"] or "",
                    impersonator_email=emails.get(row["impersonated_by"] or "", ""),
                    impersonated_user_id=row["user_id"],
                    impersonated_email=row["user__email"] or "",
                    tenant_id=row["user__tenant_id"],
                    started_at=row["created_at"],
                    expires_at=row["expires_at"],
                    ip_address=row["ip_address"] or "",
                    user_agent=(row["user_agent"] or "")[:1000],
                    last_seen_at=now,
                    ended_at=now,
                    ended_by=actor.display_name,
                )
                for row in impersonations
            ],
            update_conflicts=True,
            unique_fields=["session_id"],
            update_fields=["ended_at", "ended_by", "last_seen_at"],
        )
    deleted, _ = sessions.delete()
    return deleted


def _same_ban(user: GatewayUser, reason: str, expires_at: dt.datetime | None) -> bool:
    if user.ban_reason != reason:
        return False
    if user.ban_expires is None or expires_at is None:
        return user.ban_expires is None and expires_at is None
    return abs(user.ban_expires - expires_at) < SAME_BAN_END_TOLERANCE


def _ban_state(user: GatewayUser) -> dict[str, object]:
    return {"banned": user.banned, "ban_reason": user.ban_reason, "ban_expires": user.ban_expires}


def _known_roles(roles: Iterable[Role | str]) -> frozenset[Role]:
    names = [str(role).strip().lower() for role in roles if str(role).strip()]
    unknown = sorted({name for name in names if name not in Role._value2member_map_})
    if unknown:
        raise Invalid(
            f"Unknown role {', '.join(unknown)}: use {', '.join(role.value for role in Role)}."
        )
    if not names:
        raise Invalid("Give at least one role.")
    return frozenset(Role(name) for name in names)


def _clean_text(value: str, what: str, max_length: int) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise Invalid(f"The {what} cannot contain NUL characters.")
    if len(value) > max_length:
        raise Invalid(f"The {what} is too long (at most {max_length} characters).")
    return value
