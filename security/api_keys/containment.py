"""Revoking a user's keys as part of banning them: the ban's blast radius, contained.

Better-Auth's ban deletes the user's sessions and nothing else, so the API keys they created keep
working. The ban offers to revoke them in its own transaction; this is that revocation. The ban's
capability (``moderate_users``) and its who-acts-on-whom check were asked by the caller under the
user's row lock: support, who may not manage keys otherwise, may revoke a user's keys only as part
of banning them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from backoffice.roles import Actor
from security.api_keys.services import revoke_locked_key
from security.models import ApiKey


def revoke_keys_with_ban(*, actor: Actor, keys: Sequence[ApiKey], banned_email: str) -> int:
    """Revoke these (locked, working) keys inside the ban's transaction; return how many.

    Each key gets its own ``api_key.revoke`` row carrying the ban's request id. A failure here
    raises inside the ban's transaction, so the ban is undone with it.
    """
    return revoke_keys_within(
        actor=actor, keys=keys, reason=f"Revoked with the ban of {banned_email}."
    )


def revoke_keys_within(*, actor: Actor, keys: Sequence[ApiKey], reason: str) -> int:
    """Revoke these locked keys inside the caller's transaction (a ban, a removal of the user).

    The caller asked its own capability and who-acts-on-whom check under the user's lock.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Keys are revoked with a user's ban or removal only in its transaction.")
    now = timezone.now()
    for key in keys:
        details = {"reason": reason, "created_by": str(key.created_by_id)}
        revoke_locked_key(actor=actor, key=key, details=details, now=now)
    return len(keys)
