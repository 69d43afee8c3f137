"""Which operations need a second staff member's approval (four-eyes), and why.

The rule of issue #13: anything done to an admin account, granting a platform-wide role (admin,
support, auditor), a bulk moderation action over ``FOUR_EYES_BULK_THRESHOLD`` users, and
deactivating a server. Pages ask ``why_four_eyes`` when a confirmed form arrives; an answer means
the operation is recorded as a request instead of being carried out.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from backoffice.audit_actions import AuditAction
from backoffice.roles import PLATFORM_ROLES, Role

ON_AN_ADMIN = "It touches an admin account"
SERVER = "Deactivating a server takes it out of the gateway's routing"


def bulk_threshold() -> int:
    return int(settings.FOUR_EYES_BULK_THRESHOLD)


def why_four_eyes(
    operation: AuditAction,
    *,
    target_roles: Sequence[frozenset[Role]] = (),
    roles_after: frozenset[Role] | None = None,
) -> str | None:
    """Why ``operation`` on accounts holding ``target_roles`` needs a second person, or None.

    ``roles_after`` (a role change: one target) are the roles it would hold afterwards.
    """
    if operation == AuditAction.SERVER_DEACTIVATE:
        return f"{SERVER}: a second admin must approve it."
    if any(Role.ADMIN in roles for roles in target_roles):
        return f"{ON_AN_ADMIN}: a second admin must approve it."
    if roles_after is not None and target_roles:
        granted = (roles_after - target_roles[0]) & PLATFORM_ROLES
        if granted:
            names = " and ".join(role.value for role in Role if role in granted)
            return f"Granting the {names} role is platform-wide: a second admin must approve it."
    if len(target_roles) > bulk_threshold():
        return (
            f"It acts on {len(target_roles)} users, more than {bulk_threshold()} at once: a "
            "second staff member who may do it must approve it."
        )
    return None


def sent_note(why: str) -> str:
    """The note a confirmation page shows above a form whose confirmation becomes a request."""
    return (
        f"Four-eyes: {why} Confirming sends a request; nothing changes until a different staff "
        f"member approves it (within {settings.FOUR_EYES_REQUEST_HOURS} hours)."
    )
