"""Reads of tenants, already scoped: one tenant or a 404, and what a lifecycle change touches."""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.roles import Actor, Capability
from backoffice.tenancy import access
from registry.models import McpServer
from security.api_keys.selectors import usable
from security.models import ApiKey, GatewayUser
from tenants.models import Tenant


def access_tenant(actor: Actor | None, tenant_id: object, capability: Capability) -> Tenant:
    """The tenant ``actor`` may see with ``capability``, or 404."""
    return access(Tenant.objects, actor, capability, tenant_id)


@dataclass(frozen=True)
class TenantImpact:
    """What a suspension or an archive touches, counted before it is confirmed."""

    users: int
    active_users: int
    usable_keys: int
    keys: int
    active_servers: int
    servers: int


def tenant_impact(tenant: Tenant) -> TenantImpact:
    """Counts of the tenant's users, keys and servers (the tenant was already scoped)."""
    # Uses index: idx_users_tenant_role (tenant_id, role, is_active)
    users = GatewayUser.unscoped.filter(tenant_id=tenant.pk)
    # Uses index: idx_api_keys_tenant_active (tenant_id, is_active)
    keys = ApiKey.unscoped.filter(tenant_id=tenant.pk)
    # Uses index: idx_servers_discovery_composite (tenant_id, is_active, ...)
    servers = McpServer.unscoped.filter(tenant_id=tenant.pk)
    return TenantImpact(
        users=users.count(),
        active_users=users.filter(is_active=True).count(),
        usable_keys=keys.filter(usable()).count(),
        keys=keys.count(),
        active_servers=servers.filter(is_active=True).count(),
        servers=servers.count(),
    )
