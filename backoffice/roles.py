"""Roles from Better-Auth's ``user.role`` and what each lets a person do in the back office.

``user.role`` is text that may hold several comma-separated roles. A capability is granted by a
set of roles; a platform role (admin, support, auditor) grants it across tenants, ``tenant_admin``
only within the person's own tenant. Pages and services ask ``actor.can(...)`` and scope their
queries with ``backoffice.tenancy``: nothing else decides who sees what.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPPORT = "support"
    TENANT_ADMIN = "tenant_admin"
    AUDITOR = "auditor"
    USER = "user"


PLATFORM_ROLES = frozenset({Role.ADMIN, Role.SUPPORT, Role.AUDITOR})
BACKOFFICE_ROLES = PLATFORM_ROLES | {Role.TENANT_ADMIN}


class Capability(enum.StrEnum):
    MODERATE_USERS = "moderate_users"  # search, ban, unban, revoke sessions, change roles
    REVIEW_IMPERSONATIONS = "review_impersonations"
    VIEW_TENANTS = "view_tenants"
    VIEW_REGISTRY = "view_registry"
    MANAGE_REGISTRY = "manage_registry"  # deactivate / reactivate servers
    MANAGE_API_KEYS = "manage_api_keys"
    VIEW_AUDIT_LOGS = "view_audit_logs"  # audit and request logs, and their export
    VIEW_ANALYTICS = "view_analytics"
    VIEW_PLATFORM_ANALYTICS = "view_platform_analytics"  # analytics spanning every tenant
    VIEW_MONITORING = "view_monitoring"
    # Hourly and daily series per tenant, server and tool (a tenant admin: their own tenant).
    VIEW_TRENDS = "view_trends"


GRANTS: dict[Capability, frozenset[Role]] = {
    Capability.MODERATE_USERS: frozenset({Role.ADMIN, Role.SUPPORT}),
    Capability.REVIEW_IMPERSONATIONS: frozenset({Role.ADMIN, Role.SUPPORT}),
    Capability.VIEW_TENANTS: frozenset(BACKOFFICE_ROLES),
    Capability.VIEW_REGISTRY: frozenset({Role.ADMIN, Role.SUPPORT, Role.TENANT_ADMIN}),
    Capability.MANAGE_REGISTRY: frozenset({Role.ADMIN}),
    Capability.MANAGE_API_KEYS: frozenset({Role.ADMIN, Role.TENANT_ADMIN}),
    Capability.VIEW_AUDIT_LOGS: frozenset({Role.ADMIN, Role.AUDITOR}),
    Capability.VIEW_ANALYTICS: frozenset({Role.ADMIN, Role.AUDITOR, Role.TENANT_ADMIN}),
    # The server health summary has no tenant parameter: it can only be shown platform-wide.
    Capability.VIEW_PLATFORM_ANALYTICS: frozenset({Role.ADMIN, Role.AUDITOR}),
    Capability.VIEW_MONITORING: frozenset({Role.ADMIN, Role.SUPPORT, Role.AUDITOR}),
    Capability.VIEW_TRENDS: frozenset({Role.ADMIN, Role.AUDITOR, Role.TENANT_ADMIN}),
}


def parse_roles(role_text: str | None) -> frozenset[Role]:
    """The known roles in a ``user.role`` value; unknown names are ignored, never guessed."""
    names = {part.strip().lower() for part in (role_text or "").split(",")}
    return frozenset(Role(name) for name in names if name in Role._value2member_map_)


def format_roles(roles: set[Role] | frozenset[Role]) -> str:
    """``user.role`` text for a set of roles, in a stable order."""
    return ",".join(role.value for role in Role if role in roles)


@dataclass(frozen=True)
class Actor:
    """The person acting in the back office, rebuilt from the gateway on every request.

    ``gateway_user_id`` is None only for a local break-glass superuser. The request fields feed
    the staff audit trail; commands fill them with what they have.
    """

    display_name: str
    roles: frozenset[Role]
    tenant_id: uuid.UUID | None = None
    gateway_user_id: str | None = None
    local_username: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    session_ref: str | None = None  # a digest of the session key, never the key itself

    @property
    def actor_id(self) -> str:
        """What ``audit_logs.actor_id`` records for this person."""
        return self.gateway_user_id or f"local:{self.local_username}"

    @property
    def is_break_glass(self) -> bool:
        return self.gateway_user_id is None

    def can(self, capability: Capability) -> bool:
        return bool(self.roles & GRANTS[capability])

    def is_platform_wide(self, capability: Capability) -> bool:
        """True when a platform role grants the capability: every tenant is in scope."""
        return bool(self.roles & GRANTS[capability] & PLATFORM_ROLES)

    def has_backoffice_role(self) -> bool:
        return bool(self.roles & BACKOFFICE_ROLES)
