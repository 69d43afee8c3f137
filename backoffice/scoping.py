"""Tenant scoping, in one place, failing closed.

Every tenant-owned model's default manager (``objects``) returns nothing: a query that forgot its
tenant shows an empty page, never another tenant's rows. Reads go through
``Model.objects.visible_to(actor, capability)``, which adds the actor's tenant unless a platform
role grants the capability across tenants. ``Model.unscoped`` exists for code that has no actor
(migrations of data, the demo seed, tests) and must say so by its name.

This module sits under every model (the audit trail's own included), so it imports nothing but
``backoffice.roles``; fetching one object or a 404, with its denied row, is ``backoffice.tenancy``.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from django.db import models

from backoffice.roles import Actor, Capability

M = TypeVar("M", bound=models.Model)


# Manager takes no type argument at run time (django-stubs gives it one), hence Generic.
class TenantScopedManager(models.Manager, Generic[M]):  # type: ignore[type-arg]
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
