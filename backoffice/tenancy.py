"""Tenant scoping, in one place, failing closed.

Every tenant-owned model's default manager (``objects``) returns nothing: a query that forgot its
tenant shows an empty page, never another tenant's rows. Reads go through
``Model.objects.visible_to(actor, capability)``, which adds the actor's tenant unless a platform
role grants the capability across tenants. ``Model.unscoped`` exists for code that has no actor
(migrations of data, the demo seed, tests) and must say so by its name.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404

from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor, Capability

M = TypeVar("M", bound=models.Model)


class TenantScopedManager(models.Manager, Generic[M]):
    """Default manager of a tenant-owned model: empty until scoped to an actor."""

    def __init__(self, tenant_field: str = "") -> None:
        super().__init__()
        self.tenant_field = tenant_field

    def get_queryset(self) -> models.QuerySet[M]:
        if hasattr(self, "instance"):
            # A reverse relation (``server.tools``) built by Django from this class: it is
            # filtered by its parent, which the caller could only hold after scoping it.
            return super().get_queryset()
        return super().get_queryset().none()

    def visible_to(self, actor: Actor | None, capability: Capability) -> models.QuerySet[M]:
        """The rows ``actor`` may see for ``capability``; none at all when it may see none."""
        queryset: models.QuerySet[M] = models.QuerySet(self.model, using=self._db)
        if actor is None or not actor.can(capability):
            return queryset.none()
        if actor.is_platform_wide(capability):
            return queryset
        if actor.tenant_id is None:
            # A tenant admin with no tenant (or a dangling one) sees nothing.
            return queryset.none()
        return queryset.filter(**{self.tenant_field: actor.tenant_id})


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
    # Imported here: the audit trail's own model is built on this module's manager.
    from backoffice.staff_audit import record_denied

    record_denied(
        actor=actor,
        action=action or AuditAction.STAFF_ACCESS,
        resource_type=resource_type or manager.model._meta.label_lower,
        resource_id=pk,
        tenant_id=found[0],
        details={"refused": "the object belongs to a tenant outside the actor's scope"},
    )
