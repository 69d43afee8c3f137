"""The staff audit trail: one row in the gateway's ``audit_logs`` for every staff action.

``record_staff_action`` must run inside the transaction that makes the change, so the change and
its row commit or roll back together; it refuses to run outside one. Denied attempts are recorded
with ``record_denied``, which commits on its own because the denial itself changes nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from audit.models import ActorType, AuditLog, AuditOutcome
from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor

# Keys that never reach an audit row, whatever a caller passes in before/after/details.
SECRET_KEYS = frozenset(
    {
        "password",
        "key_hash",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "plaintext",
        "secret",
        "client_secret",
    }
)


class AuditTrailError(RuntimeError):
    """A staff change was attempted without the transaction that guarantees its audit row."""


def record_staff_action(
    *,
    actor: Actor,
    action: AuditAction,
    resource_type: str,
    resource_id: object,
    tenant_id: uuid.UUID | str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
) -> AuditLog:
    """Write the audit row of a staff change; call it inside the change's ``transaction.atomic``."""
    if not connection.in_atomic_block:
        raise AuditTrailError(
            f"{action} must be recorded inside the transaction that makes the change."
        )
    return _write(
        actor, action, resource_type, resource_id, tenant_id, before, after, details, outcome
    )


def record_denied(
    *,
    actor: Actor,
    action: AuditAction,
    resource_type: str = "",
    resource_id: object = None,
    tenant_id: uuid.UUID | str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Record an attempt the back office refused (wrong role, another tenant's object)."""
    with transaction.atomic():
        return _write(
            actor,
            action,
            resource_type,
            resource_id,
            tenant_id,
            None,
            None,
            details,
            AuditOutcome.DENIED,
        )


def _write(
    actor: Actor,
    action: AuditAction,
    resource_type: str,
    resource_id: object,
    tenant_id: uuid.UUID | str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    details: dict[str, Any] | None,
    outcome: AuditOutcome,
) -> AuditLog:
    payload: dict[str, Any] = {"actor": actor.display_name, **(details or {})}
    if before is not None:
        payload["before"] = before
    if after is not None:
        payload["after"] = after
    return AuditLog.unscoped.create(
        tenant_id=tenant_id,
        actor_id=actor.actor_id,
        actor_type=ActorType.STAFF,
        action=str(AuditAction(action)),
        resource_type=_text(resource_type) or None,
        resource_id=None if resource_id is None else _text(str(resource_id)),
        outcome=outcome,
        ip_address=actor.ip_address,
        user_agent=_text(actor.user_agent or "")[:500] or None,
        request_id=actor.request_id,
        session_id=actor.session_ref,
        details=without_secrets(json.loads(json.dumps(payload, cls=DjangoJSONEncoder))),
    )


def _text(value: str) -> str:
    """PostgreSQL text and jsonb cannot hold NUL: a hostile path or header must not lose its row."""
    return value.replace("\x00", "")


def without_secrets(value: Any) -> Any:
    """JSON ``value`` without the keys in ``SECRET_KEYS`` at any depth, and without NUL.

    Used on what the trail writes and on what pages show of rows others wrote.
    """
    if isinstance(value, dict):
        cleaned = {_text(k): v for k, v in value.items()}
        return {k: without_secrets(v) for k, v in cleaned.items() if k not in SECRET_KEYS}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    if isinstance(value, str):
        return _text(value)
    return value
