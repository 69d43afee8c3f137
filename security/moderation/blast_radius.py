"""What else stays alive when a user is banned: their sessions, impersonations, keys and servers.

Better-Auth's ban deletes the user's own sessions and nothing else: API keys they created keep
working at the gateway, impersonations they started keep running, servers they registered stay
up. The ban's confirmation page reads this per user, so that the person banning sees it and may
revoke the keys in the same transaction (``services.ban_users(revoke_keys=True)``). Never a key's
hash nor a session's token: names, prefixes and counts only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from backoffice.roles import Actor, Capability
from registry.models import McpServer
from security.api_keys.selectors import usable
from security.models import ApiKey, GatewaySession, GatewayUser


@dataclass
class StillAlive:
    """One user's live footprint at the gateway."""

    sessions: int = 0
    impersonated: int = 0  # sessions of theirs that someone else is impersonating
    impersonating: list[dict[str, Any]] = field(default_factory=list)  # ones they run
    keys: list[dict[str, Any]] = field(default_factory=list)
    servers: list[dict[str, Any]] = field(default_factory=list)


def working_keys_created_by(actor: Actor, user_ids: Sequence[str]) -> QuerySet[ApiKey]:
    """The working keys these users created, among those the actor moderates (never a hash)."""
    # Uses index: idx_api_keys_user
    return (
        ApiKey.objects.visible_to(actor, Capability.MODERATE_USERS)
        .filter(usable(), created_by_id__in=list(user_ids))
        .order_by("created_by_id", "name", "key_prefix")
    )


def still_alive(actor: Actor, users: Sequence[GatewayUser]) -> dict[str, StillAlive]:
    """Per user id (users already scoped by the caller), what a ban alone would leave running."""
    ids = [user.pk for user in users]
    alive = {pk: StillAlive() for pk in ids}
    now = timezone.now()
    # Uses index: idx_sessions_user_active
    for user_id, impersonated_by in GatewaySession.unscoped.filter(
        user_id__in=ids, expires_at__gt=now
    ).values_list("user_id", "impersonated_by"):
        alive[user_id].sessions += 1
        alive[user_id].impersonated += bool(impersonated_by)
    # Uses index: idx_sessions_impersonated_by
    for row in GatewaySession.unscoped.filter(impersonated_by__in=ids, expires_at__gt=now).values(
        "id", "impersonated_by", "user__email", "expires_at"
    ):
        alive[str(row["impersonated_by"])].impersonating.append(
            {"session_id": row["id"], "email": row["user__email"], "expires_at": row["expires_at"]}
        )
    for key in working_keys_created_by(actor, ids).values(
        "id", "name", "key_prefix", "created_by_id", "tenant__name"
    ):
        alive[key["created_by_id"]].keys.append(dict(key))
    # Uses index: idx_mcp_servers_created_by
    for server in (
        McpServer.objects.visible_to(actor, Capability.MODERATE_USERS)
        .filter(created_by_id__in=ids)
        .order_by("name")
        .values("id", "name", "is_active", "created_by_id", "tenant__name")
    ):
        alive[server["created_by_id"]].servers.append(dict(server))
    return alive


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 session``, ``2 sessions``: the count with its noun in the right number."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
