"""Who may moderate whom, and the bounds of a ban: what a page shows before it asks, and what
the services check again under their row locks.

The policy itself (who may act on whom, which roles whom may grant) is ``backoffice.roles``;
these functions apply it to a user or an impersonation record, in the moderation's own terms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid
from backoffice.roles import Actor, Operation, Role, parse_roles, person_refusal
from security.models import GatewayUser, ImpersonationRecord

# Far enough for any real ban, and well inside what both Python and PostgreSQL can hold (a time
# near 9999-12-31 in a negative offset overflows once converted to UTC).
LATEST_BAN_END = dt.datetime(2999, 12, 31, tzinfo=dt.UTC)
# A bulk action locks every selected user in one transaction; keep that bounded.
MAX_BULK_USERS = 500
MAX_NOTE_LENGTH = 2000
MAX_REASON_LENGTH = 500


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


def known_roles(roles: Iterable[Role | str]) -> frozenset[Role]:
    """The known roles named; an unknown name or none at all is ``Invalid``."""
    names = [str(role).strip().lower() for role in roles if str(role).strip()]
    unknown = sorted({name for name in names if name not in Role._value2member_map_})
    if unknown:
        raise Invalid(
            f"Unknown role {', '.join(unknown)}: use {', '.join(role.value for role in Role)}."
        )
    if not names:
        raise Invalid("Give at least one role.")
    return frozenset(Role(name) for name in names)


def clean_text(value: str, what: str, max_length: int) -> str:
    """Text as typed, trimmed; NUL characters or too much of it are ``Invalid``."""
    value = (value or "").strip()
    if "\x00" in value:
        raise Invalid(f"The {what} cannot contain NUL characters.")
    if len(value) > max_length:
        raise Invalid(f"The {what} is too long (at most {max_length} characters).")
    return value
