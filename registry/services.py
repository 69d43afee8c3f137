"""Changes to the MCP server registry: deactivating and reactivating servers, audited.

The admin action, the button on a server's page and any command call these functions, which
lock the rows they change and write one audit row per server actually changed in the same
transaction: two people deactivating the same server at once leave one audit row, not two.
Errors are those of ``backoffice.operations``: ``Refused`` (audited), ``Invalid``, ``NotFound``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.utils import timezone

from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, NotFound, audited_change, require
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import record_staff_action
from registry.models import McpServer

MAX_REASON_LENGTH = 500


def deactivate_servers(
    *, actor: Actor, server_ids: Iterable[uuid.UUID | str], reason: str = ""
) -> list[McpServer]:
    """Take servers out of routing; returns the servers that were active and now are not."""
    return _set_active(actor=actor, server_ids=server_ids, active=False, reason=reason)


def reactivate_servers(
    *, actor: Actor, server_ids: Iterable[uuid.UUID | str], reason: str = ""
) -> list[McpServer]:
    """Put servers back into routing; returns the servers that were inactive and now are active."""
    return _set_active(actor=actor, server_ids=server_ids, active=True, reason=reason)


def deactivate_server(*, actor: Actor, server_id: uuid.UUID | str, reason: str = "") -> bool:
    """Deactivate one server; False when it was already inactive (nothing changed, no audit row)."""
    return bool(deactivate_servers(actor=actor, server_ids=[server_id], reason=reason))


def reactivate_server(*, actor: Actor, server_id: uuid.UUID | str, reason: str = "") -> bool:
    """Reactivate one server; False when it was already active (nothing changed, no audit row)."""
    return bool(reactivate_servers(actor=actor, server_ids=[server_id], reason=reason))


def _set_active(
    *, actor: Actor, server_ids: Iterable[uuid.UUID | str], active: bool, reason: str
) -> list[McpServer]:
    action = AuditAction.SERVER_REACTIVATE if active else AuditAction.SERVER_DEACTIVATE
    require(actor, Capability.MANAGE_REGISTRY, action, resource_type="mcp_server")
    try:
        ids = sorted({uuid.UUID(str(server_id)) for server_id in server_ids})
    except ValueError as malformed:
        raise NotFound("A selected id is not a server's.") from malformed
    reason = reason.strip()
    if "\x00" in reason:
        raise Invalid("The reason cannot contain NUL characters.")
    reason = reason[:MAX_REASON_LENGTH]
    changed: list[McpServer] = []
    with audited_change():
        # Locked in id order so two bulk actions over the same servers cannot deadlock.
        servers = list(
            McpServer.objects.visible_to(actor, Capability.MANAGE_REGISTRY)
            .select_for_update(of=("self",))
            .filter(pk__in=ids)
            .order_by("pk")
        )
        if len(servers) != len(ids):
            raise NotFound("A selected server does not exist or is not yours to change.")
        now = timezone.now()
        for server in servers:
            if server.is_active == active:
                continue
            # The row is locked and was scoped above; update just the two columns we own here.
            McpServer.unscoped.filter(pk=server.pk).update(is_active=active, updated_at=now)
            record_staff_action(
                actor=actor,
                action=action,
                resource_type="mcp_server",
                resource_id=server.pk,
                tenant_id=server.tenant_id,
                before={"is_active": not active},
                after={"is_active": active},
                details={"server_name": server.name, **({"reason": reason} if reason else {})},
            )
            server.is_active = active
            server.updated_at = now
            changed.append(server)
    return changed
