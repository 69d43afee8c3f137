"""One tenant-scoped object, or a 404 whose attempt the audit trail keeps.

``access`` is how a page or a selector fetches one object: another tenant's object does not
exist for the actor (a 404, never a 403), and a probe of one is recorded as denied. It sits above
the audit trail; the scoping it relies on (``backoffice.scoping``) sits below every model.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404

from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor, Capability
from backoffice.scoping import TenantScopedManager
from backoffice.staff_audit import record_denied

M = TypeVar("M", bound=models.Model)


def access(
    manager: TenantScopedManager[M], actor: Actor | None, capability: Capability, pk: object
) -> M:
    """One object the actor may see, or 404: another tenant's object does not exist for them."""
    not_found = Http404(f"No {manager.model._meta.verbose_name} matches the given query.")
    try:
        if isinstance(pk, str) and "\x00" in pk:
            raise ValueError("NUL byte in an id")
        return manager.visible_to(actor, capability).get(pk=pk)
    except manager.model.DoesNotExist as exc:
        record_out_of_scope_attempt(manager, actor, capability, pk)
        raise not_found from exc
    except (ValidationError, ValueError, TypeError) as exc:
        raise not_found from exc


def record_out_of_scope_attempt(
    manager: TenantScopedManager[M],
    actor: Actor | None,
    capability: Capability,
    pk: object,
    *,
    action: AuditAction | None = None,
    resource_type: str = "",
) -> None:
    """Record a denied attempt when ``pk`` exists but lies outside ``actor``'s tenant.

    The person gets the same 404 either way; only the audit trail tells a probe of another
    tenant's object from a mistyped id. ``action`` names what was attempted (default: a page
    view). Call it with an id already known to be well formed.
    """
    if actor is None or not actor.can(capability):
        return  # the page itself refused them, and recorded it
    # Unscoped on purpose, and nothing of the row reaches the actor: only whether it exists.
    found = list(
        manager.model._base_manager.filter(pk=pk).values_list(manager.tenant_field, flat=True)[:1]
    )
    if not found:
        return
    record_denied(
        actor=actor,
        action=action or AuditAction.STAFF_ACCESS,
        resource_type=resource_type or manager.model._meta.label_lower,
        resource_id=pk,
        tenant_id=found[0],
        details={"refused": "the object belongs to a tenant outside the actor's scope"},
    )
