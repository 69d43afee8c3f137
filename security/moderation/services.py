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

from django.utils import timezone

from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, NotFound, Refused, audited_change, refuse, require
from backoffice.roles import (
    Actor,
    Capability,
    Role,
    format_roles,
    unknown_roles,
)
from backoffice.staff_audit import record_staff_action
from security.api_keys.containment import revoke_keys_with_ban
from security.models import GatewaySession, GatewayUser, ImpersonationRecord, ImpersonationStatus
from security.moderation.blast_radius import working_keys_created_by
from security.moderation.impersonation_capture import (
    IMPERSONATION_ROW_FIELDS,
    impersonation_records,
)
from security.moderation.rules import (
    MAX_BULK_USERS,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    ban_end_problem,
    clean_text,
    impersonation_refusal,
    known_roles,
    moderation_refusal,
    roles_refusal,
)
from security.staff_sessions import end_sessions_of_gateway_user

# Banning again with the same reason and an end this close to the current one is a repeat (a
# double click on "7 days"), not a change.
SAME_BAN_END_TOLERANCE = dt.timedelta(minutes=1)


__all__ = ["Invalid", "NotFound", "Refused"]  # the errors every operation here raises


@dataclass
class Outcome:
    """What an operation did, in words a message can use: who changed, who was already so."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Bans already in force whose reason or end was changed (not lifted in between).
    amended: list[str] = field(default_factory=list)
    sessions_deleted: int = 0
    # A ban's blast radius: impersonations the banned ran (ended), their keys revoked or left.
    impersonations_ended: int = 0
    keys_revoked: int = 0
    keys_left_working: int = 0


# --- User moderation --------------------------------------------------------------------------


def ban_user(
    *,
    actor: Actor,
    user_id: str,
    reason: str,
    expires_at: dt.datetime | None,
    revoke_keys: bool = False,
) -> Outcome:
    """Ban one user as Better-Auth does: flag, reason, expiry, and every session deleted."""
    return ban_users(
        actor=actor,
        user_ids=[user_id],
        reason=reason,
        expires_at=expires_at,
        revoke_keys=revoke_keys,
    )


def ban_users(
    *,
    actor: Actor,
    user_ids: Sequence[str],
    reason: str,
    expires_at: dt.datetime | None,
    revoke_keys: bool = False,
) -> Outcome:
    """Ban users in one transaction; if any of them may not be banned by ``actor``, none is.

    A user already banned keeps the ban, with its reason and end replaced by these (audited as
    ``user.ban`` with before and after): changing a ban never lifts it in between. Beyond
    Better-Auth's ban, impersonations the user runs end too, and with ``revoke_keys`` the keys
    they created are revoked in the same transaction (one ``api_key.revoke`` row each): if any
    revocation fails, nothing is banned.
    """
    _require(actor, Capability.MODERATE_USERS, AuditAction.USER_BAN, user_ids)
    reason = clean_text(reason, "reason", MAX_REASON_LENGTH)
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
            keys = list(working_keys_created_by(actor, [user.pk]).select_for_update())
            if revoke_keys:
                outcome.keys_revoked += revoke_keys_with_ban(
                    actor=actor, keys=keys, banned_email=user.email
                )
            else:
                outcome.keys_left_working += len(keys)
            in_force = user.ban_in_force(now)
            if in_force and _same_ban(user, reason, expires_at):
                # A double click, or two people at once: no second row.
                outcome.unchanged.append(user.email)
                continue
            before = _ban_state(user)
            deleted = delete_sessions(GatewaySession.unscoped.filter(user_id=user.pk), actor, now)
            # Better-Auth leaves sessions in which the banned user impersonates others running.
            ended = delete_sessions(
                GatewaySession.unscoped.filter(impersonated_by=user.pk), actor, now
            )
            # A banned staff member's back-office sessions end too, and stay ended after an unban.
            end_sessions_of_gateway_user(user.pk)
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
                    "impersonations_ended": ended,
                    "keys_revoked": [key.key_prefix for key in keys] if revoke_keys else [],
                    "keys_left_working": [] if revoke_keys else [key.key_prefix for key in keys],
                    "changed_ban_in_force": in_force,
                },
            )
            (outcome.amended if in_force else outcome.changed).append(user.email)
            outcome.sessions_deleted += deleted
            outcome.impersonations_ended += ended
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
            deleted = delete_sessions(GatewaySession.unscoped.filter(user_id=user.pk), actor, now)
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
        delete_sessions(GatewaySession.unscoped.filter(pk=session.pk), actor, now)
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
                # An expired session signed nobody out: its row was a leftover.
                "already_expired": session.expires_at <= now,
            },
        )
    return Outcome(changed=[user.email], sessions_deleted=1)


def change_roles(*, actor: Actor, user_id: str, roles: Iterable[Role | str]) -> Outcome:
    """Set a user's known roles to these; roles the back office does not know are kept as they
    are. Every role added or removed must be one the actor may grant (``backoffice.roles``)."""
    new_roles = known_roles(roles)
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
    note = clean_text(note, "note", MAX_NOTE_LENGTH)
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


def delete_sessions(sessions, actor: Actor, now: dt.datetime) -> int:  # type: ignore[no-untyped-def]
    """Delete sessions, first recording the impersonations among them as ended by ``actor``."""
    impersonations = list(
        sessions.filter(impersonated_by__isnull=False).values(*IMPERSONATION_ROW_FIELDS)
    )
    if impersonations:
        ImpersonationRecord.unscoped.bulk_create(
            impersonation_records(impersonations, now, ended_by=actor.display_name),
            update_conflicts=True,
            unique_fields=["session_id"],
            update_fields=["ended_at", "ended_by", "last_seen_at"],
        )
    deleted, _ = sessions.delete()
    return int(deleted)


def _same_ban(user: GatewayUser, reason: str, expires_at: dt.datetime | None) -> bool:
    if user.ban_reason != reason:
        return False
    if user.ban_expires is None or expires_at is None:
        return user.ban_expires is None and expires_at is None
    return bool(abs(user.ban_expires - expires_at) < SAME_BAN_END_TOLERANCE)


def _ban_state(user: GatewayUser) -> dict[str, object]:
    return {"banned": user.banned, "ban_reason": user.ban_reason, "ban_expires": user.ban_expires}
