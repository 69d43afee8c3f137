"""Changes a staff member makes to their own back-office access (their sessions)."""

from __future__ import annotations

from django.db import transaction

from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor
from backoffice.staff_audit import record_staff_action
from security.models import StaffSession


def sign_out_own_sessions(
    *, actor: Actor, django_user_id: int, current_digest: str | None, include_current: bool
) -> int:
    """End the person's other back-office sessions (and this one with ``include_current``).

    Returns how many were ended; each ends at its next request. Audited as one row.
    """
    with transaction.atomic():
        sessions = StaffSession.objects.filter(django_user_id=django_user_id)
        if not include_current and current_digest is not None:
            sessions = sessions.exclude(key_digest=current_digest)
        ended, _ = sessions.delete()
        record_staff_action(
            actor=actor,
            action=AuditAction.STAFF_SIGN_OUT_SESSIONS,
            resource_type="user",
            resource_id=actor.actor_id,
            details={"scope": "all" if include_current else "others", "ended": ended},
        )
    return ended
