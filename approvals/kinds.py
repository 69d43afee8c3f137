"""The operations a four-eyes request can hold, and how each is checked and carried out.

Each kind says who may do it now (``refusal``: the capability, the targets in the actor's
reach, ``backoffice.roles.person_refusal`` through the moderation's rules) and carries it out
through the very service a page calls (``carry_out``), so an approved request runs under the same
rules, row locks and audit rows as the operation done directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from backoffice.audit_actions import AuditAction
from backoffice.operations import ROLE_REFUSAL
from backoffice.roles import Actor, Capability, Role
from registry import services as registry_services
from registry.models import McpServer
from security.models import GatewaySession, GatewayUser, ImpersonationRecord
from security.moderation import rules
from security.moderation import services as moderation

GONE = "Its subject no longer exists, or is out of reach."


@dataclass(frozen=True)
class Kind:
    action: AuditAction
    capability: Capability
    refusal: Callable[[Actor, dict[str, Any]], str | None]
    carry_out: Callable[[Actor, dict[str, Any]], str]
    resource_type: str = "user"


def _users_refusal(actor: Actor, user_ids: Sequence[str], action: AuditAction) -> str | None:
    if not actor.can(Capability.MODERATE_USERS):
        return ROLE_REFUSAL
    users = list(
        GatewayUser.objects.visible_to(actor, Capability.MODERATE_USERS).filter(pk__in=user_ids)
    )
    if not users:
        return GONE
    refusals = [
        refusal
        for user in users
        if (refusal := rules.moderation_refusal(actor, user, action)) is not None
    ]
    return " ".join(refusals) or None


def _outcome(done: str, outcome: moderation.Outcome, already: str) -> str:
    parts = []
    if outcome.changed:
        parts.append(f"{done} {', '.join(outcome.changed[:10])}")
        if len(outcome.changed) > 10:
            parts[-1] += f" and {len(outcome.changed) - 10} more"
    if outcome.amended:
        parts.append(f"changed the ban in force of {', '.join(outcome.amended[:10])}")
    if outcome.unchanged:
        parts.append(f"{len(outcome.unchanged)} {already}: unchanged")
    return ("; ".join(parts) or "Nothing changed") + "."


def _ban(actor: Actor, params: dict[str, Any]) -> str:
    expires = params.get("expires_at")
    outcome = moderation.ban_users(
        actor=actor,
        user_ids=params["user_ids"],
        reason=params["reason"],
        expires_at=dt.datetime.fromisoformat(expires) if expires else None,
    )
    return _outcome("Banned", outcome, "already banned like this")


def _unban(actor: Actor, params: dict[str, Any]) -> str:
    outcome = moderation.unban_users(actor=actor, user_ids=params["user_ids"])
    return _outcome("Lifted the ban of", outcome, "not banned")


def _revoke_all(actor: Actor, params: dict[str, Any]) -> str:
    outcome = moderation.revoke_sessions_of_users(actor=actor, user_ids=params["user_ids"])
    return _outcome("Signed out", outcome, "without sessions")


def _revoke_one(actor: Actor, params: dict[str, Any]) -> str:
    outcome = moderation.revoke_session(actor=actor, session_id=params["session_id"])
    return _outcome("Revoked one session of", outcome, "unchanged")


def _revoke_one_refusal(actor: Actor, params: dict[str, Any]) -> str | None:
    if not actor.can(Capability.MODERATE_USERS):
        return ROLE_REFUSAL
    session = (
        GatewaySession.objects.visible_to(actor, Capability.MODERATE_USERS)
        .filter(pk=params["session_id"])
        .values_list("user_id", flat=True)
        .first()
    )
    if session is None:
        return GONE
    return _users_refusal(actor, [session], AuditAction.SESSION_REVOKE)


def _change_roles(actor: Actor, params: dict[str, Any]) -> str:
    outcome = moderation.change_roles(actor=actor, user_id=params["user_id"], roles=params["roles"])
    return _outcome("Changed the roles of", outcome, "already had these roles")


def _change_roles_refusal(actor: Actor, params: dict[str, Any]) -> str | None:
    if not actor.can(Capability.MODERATE_USERS):
        return ROLE_REFUSAL
    user = (
        GatewayUser.objects.visible_to(actor, Capability.MODERATE_USERS)
        .filter(pk=params["user_id"])
        .first()
    )
    if user is None:
        return GONE
    return rules.roles_refusal(actor, user, frozenset(Role(name) for name in params["roles"]))


def _end_impersonation(actor: Actor, params: dict[str, Any]) -> str:
    outcome = moderation.end_impersonation(actor=actor, record_id=params["record_id"])
    return _outcome("Ended the impersonation", outcome, "already ended")


def _end_impersonation_refusal(actor: Actor, params: dict[str, Any]) -> str | None:
    if not actor.can(Capability.REVIEW_IMPERSONATIONS):
        return ROLE_REFUSAL
    record = (
        ImpersonationRecord.objects.visible_to(actor, Capability.REVIEW_IMPERSONATIONS)
        .filter(pk=params["record_id"])
        .first()
    )
    if record is None:
        return GONE
    return rules.impersonation_refusal(actor, record, AuditAction.IMPERSONATION_END)


def _deactivate(actor: Actor, params: dict[str, Any]) -> str:
    changed = registry_services.deactivate_servers(
        actor=actor, server_ids=params["server_ids"], reason=params.get("reason", "")
    )
    if not changed:
        return "Nothing changed: the servers were already inactive."
    return f"Deactivated {', '.join(sorted(server.name for server in changed))}."


def _deactivate_refusal(actor: Actor, params: dict[str, Any]) -> str | None:
    if not actor.can(Capability.MANAGE_REGISTRY):
        return ROLE_REFUSAL
    found = (
        McpServer.objects.visible_to(actor, Capability.MANAGE_REGISTRY)
        .filter(pk__in=params["server_ids"])
        .count()
    )
    return None if found == len(set(params["server_ids"])) else GONE


def _on_users(action: AuditAction) -> Callable[[Actor, dict[str, Any]], str | None]:
    return lambda actor, params: _users_refusal(actor, params["user_ids"], action)


KINDS: dict[str, Kind] = {
    kind.action.value: kind
    for kind in (
        Kind(
            AuditAction.USER_BAN, Capability.MODERATE_USERS, _on_users(AuditAction.USER_BAN), _ban
        ),
        Kind(
            AuditAction.USER_UNBAN,
            Capability.MODERATE_USERS,
            _on_users(AuditAction.USER_UNBAN),
            _unban,
        ),
        Kind(
            AuditAction.SESSION_REVOKE_ALL,
            Capability.MODERATE_USERS,
            _on_users(AuditAction.SESSION_REVOKE_ALL),
            _revoke_all,
        ),
        Kind(
            AuditAction.SESSION_REVOKE, Capability.MODERATE_USERS, _revoke_one_refusal, _revoke_one
        ),
        Kind(
            AuditAction.USER_ROLE_CHANGE,
            Capability.MODERATE_USERS,
            _change_roles_refusal,
            _change_roles,
        ),
        Kind(
            AuditAction.IMPERSONATION_END,
            Capability.REVIEW_IMPERSONATIONS,
            _end_impersonation_refusal,
            _end_impersonation,
            resource_type="impersonation",
        ),
        Kind(
            AuditAction.SERVER_DEACTIVATE,
            Capability.MANAGE_REGISTRY,
            _deactivate_refusal,
            _deactivate,
            resource_type="mcp_server",
        ),
    )
}
