"""Roles from Better-Auth's ``user.role`` and what each lets a person do in the back office.

``user.role`` is text that may hold several comma-separated roles. A capability is granted by a
set of roles; a platform role (admin, support, auditor) grants it across tenants, ``tenant_admin``
only within the person's own tenant. Pages and services ask ``actor.can(...)`` and scope their
queries with ``backoffice.scoping``: nothing else decides who sees what.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
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
    # Suspend, reactivate, archive a tenant; edit its plan, limits and settings.
    MANAGE_TENANTS = "manage_tenants"
    VIEW_REGISTRY = "view_registry"
    MANAGE_REGISTRY = "manage_registry"  # deactivate / reactivate servers
    MANAGE_API_KEYS = "manage_api_keys"
    VIEW_AUDIT_LOGS = "view_audit_logs"  # audit and request logs, and their export
    VIEW_ANALYTICS = "view_analytics"
    VIEW_PLATFORM_ANALYTICS = "view_platform_analytics"  # analytics spanning every tenant
    VIEW_MONITORING = "view_monitoring"
    VIEW_CONTRACT = "view_contract"  # the Contract page: Drizzle migrations and schema drift
    # Hourly and daily series per tenant, server and tool (a tenant admin: their own tenant).
    VIEW_TRENDS = "view_trends"
    # The four-eyes requests page: requests others made that one may approve (approvals/).
    DECIDE_APPROVALS = "decide_approvals"
    # Clear another staff member's second factor so they enrol again (a lost phone).
    RESET_SECOND_FACTOR = "reset_second_factor"
    # The account lifecycle of Better-Auth's admin plugin: create a user, set their password,
    # mark their email verified, unlink a sign-in method, remove them.
    MANAGE_ACCOUNTS = "manage_accounts"


GRANTS: dict[Capability, frozenset[Role]] = {
    Capability.MODERATE_USERS: frozenset({Role.ADMIN, Role.SUPPORT}),
    Capability.REVIEW_IMPERSONATIONS: frozenset({Role.ADMIN, Role.SUPPORT}),
    Capability.VIEW_TENANTS: frozenset(BACKOFFICE_ROLES),
    # A tenant's status and limits decide what every one of its users and keys may do: the
    # platform's admins only (support reads tenants; a tenant admin cannot lift their own limits).
    Capability.MANAGE_TENANTS: frozenset({Role.ADMIN}),
    Capability.VIEW_REGISTRY: frozenset({Role.ADMIN, Role.SUPPORT, Role.TENANT_ADMIN}),
    Capability.MANAGE_REGISTRY: frozenset({Role.ADMIN}),
    Capability.MANAGE_API_KEYS: frozenset({Role.ADMIN, Role.TENANT_ADMIN}),
    Capability.VIEW_AUDIT_LOGS: frozenset({Role.ADMIN, Role.AUDITOR}),
    Capability.VIEW_ANALYTICS: frozenset({Role.ADMIN, Role.AUDITOR, Role.TENANT_ADMIN}),
    # The server health summary has no tenant parameter: it can only be shown platform-wide.
    Capability.VIEW_PLATFORM_ANALYTICS: frozenset({Role.ADMIN, Role.AUDITOR}),
    Capability.VIEW_MONITORING: frozenset({Role.ADMIN, Role.SUPPORT, Role.AUDITOR}),
    # Names every table, column, index and migration of the schema: for the people who run it.
    Capability.VIEW_CONTRACT: frozenset({Role.ADMIN}),
    Capability.VIEW_TRENDS: frozenset({Role.ADMIN, Role.AUDITOR, Role.TENANT_ADMIN}),
    # Whoever may carry out a four-eyes operation: approving one also needs its own capability.
    Capability.DECIDE_APPROVALS: frozenset({Role.ADMIN, Role.SUPPORT}),
    Capability.RESET_SECOND_FACTOR: frozenset({Role.ADMIN}),
    # Platform staff only: no tenant-bound role creates or removes accounts.
    Capability.MANAGE_ACCOUNTS: frozenset({Role.ADMIN, Role.SUPPORT}),
}


# --- Who may act on whom ----------------------------------------------------------------------
#
# The grants above say what a role may do at all; this table says to whom. It is the only place
# that decides it: pages ask it before showing a form (a form offers only what the actor may do),
# services ask it again under the row lock, and tests/test_who_acts_on_whom.py checks every
# (actor role, target role, operation) against it.


class Operation(enum.StrEnum):
    """What one staff member does to another person's account (an impersonation: its author)."""

    BAN = "ban"
    UNBAN = "unban"
    REVOKE_SESSIONS = "revoke_sessions"  # every session, or one
    CHANGE_ROLES = "change_roles"
    END_IMPERSONATION = "end_impersonation"
    REVIEW_IMPERSONATION = "review_impersonation"
    # The account lifecycle (security.lifecycle).
    CREATE_USER = "create_user"  # the roles given must be grantable by the actor
    SET_PASSWORD = "set_password"  # noqa: S105 (an operation name, not a password)
    VERIFY_EMAIL = "verify_email"
    UNLINK_SIGN_IN = "unlink_sign_in"
    REMOVE_USER = "remove_user"


# Roles confined to one tenant: the only ones a role short of admin may grant.
TENANT_ROLES = frozenset({Role.TENANT_ADMIN, Role.USER})


@dataclass(frozen=True)
class Reach:
    """Whom a role acting on accounts may touch: accounts holding ``above`` are out of its reach,
    and ``grants`` are the roles it may give or take away."""

    above: frozenset[Role]
    grants: frozenset[Role]


REACH: dict[Role, Reach] = {
    Role.ADMIN: Reach(above=frozenset(), grants=frozenset(Role)),
    Role.SUPPORT: Reach(above=frozenset({Role.ADMIN}), grants=TENANT_ROLES),
}

# Per operation: (may be done to one's own account, may be done to an account out of reach).
ON_WHOM: dict[Operation, tuple[bool, bool]] = {
    Operation.BAN: (False, False),
    Operation.UNBAN: (False, False),
    Operation.REVOKE_SESSIONS: (False, False),
    Operation.CHANGE_ROLES: (False, False),
    # Stopping your own impersonation is what Better-Auth's "stop" does.
    Operation.END_IMPERSONATION: (True, False),
    # Reviewing is oversight: support reviews what an admin did, nobody reviews themselves.
    Operation.REVIEW_IMPERSONATION: (False, True),
    # Nobody creates themselves; the roles given decide (``roles_after``).
    Operation.CREATE_USER: (False, False),
    # One's own password, email and sign-in methods are changed at the gateway, where the
    # current password is asked; here it would bypass that check.
    Operation.SET_PASSWORD: (False, False),
    Operation.VERIFY_EMAIL: (False, False),
    Operation.UNLINK_SIGN_IN: (False, False),
    Operation.REMOVE_USER: (False, False),
}

# How each operation reads in a refusal: on oneself, and on someone out of reach ({} = email).
_ON_ONESELF = {
    Operation.BAN: "Nobody can ban themselves.",
    Operation.UNBAN: "Nobody can lift their own ban.",
    Operation.REVOKE_SESSIONS: "Nobody can sign themselves out here.",
    Operation.CHANGE_ROLES: "Nobody can change their own roles.",
    Operation.REVIEW_IMPERSONATION: "Nobody can review their own impersonation.",
    Operation.CREATE_USER: "Nobody can create themselves.",
    Operation.SET_PASSWORD: "Nobody can set their own password here: use the gateway's own page.",
    Operation.VERIFY_EMAIL: "Nobody can mark their own email verified.",
    Operation.UNLINK_SIGN_IN: "Nobody can unlink their own sign-in methods here.",
    Operation.REMOVE_USER: "Nobody can remove themselves.",
}
_ON_HIGHER = {
    Operation.BAN: "ban {}",
    Operation.UNBAN: "lift the ban of {}",
    Operation.REVOKE_SESSIONS: "sign out {}",
    Operation.CHANGE_ROLES: "change the roles of {}",
    Operation.END_IMPERSONATION: "end an impersonation by {}",
    Operation.CREATE_USER: "create {}",
    Operation.SET_PASSWORD: "set the password of {}",
    Operation.VERIFY_EMAIL: "mark the email of {} verified",
    Operation.UNLINK_SIGN_IN: "unlink a sign-in method of {}",
    Operation.REMOVE_USER: "remove {}",
}


def out_of_reach(actor_roles: frozenset[Role]) -> frozenset[Role]:
    """The roles whose holders ``actor_roles`` may not act on; every role when none of them may."""
    reaches = [REACH[role] for role in actor_roles if role in REACH]
    if not reaches:
        return frozenset(Role)
    return frozenset.intersection(*(reach.above for reach in reaches))


def grantable_roles(actor_roles: frozenset[Role]) -> frozenset[Role]:
    """The roles ``actor_roles`` may give or take away (the form offers these and no others)."""
    return frozenset().union(*(REACH[role].grants for role in actor_roles if role in REACH))


def person_refusal(
    actor: Actor,
    operation: Operation,
    *,
    target_id: str | None,
    target_roles: frozenset[Role],
    target_label: str,
    roles_after: frozenset[Role] | None = None,
) -> str | None:
    """Why ``actor`` may not do ``operation`` to this account, or None when they may.

    ``roles_after`` (role changes only) are the target's known roles once changed; every role
    given or taken away must be one the actor may grant.
    """
    on_oneself, on_higher = ON_WHOM[operation]
    if not on_oneself and target_id is not None and target_id == actor.gateway_user_id:
        return _ON_ONESELF[operation]
    higher = target_roles & out_of_reach(actor.roles)
    if not on_higher and higher:
        held = next(role for role in Role if role in higher)
        what = _ON_HIGHER[operation].format(target_label)
        return f"Only {_article(_ranked_above(held))} may {what}, who is {_article(held)}."
    if roles_after is not None:
        changed = (roles_after ^ target_roles) - grantable_roles(actor.roles)
        if changed:
            names = [role.value for role in Role if role in changed]
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
            verb = "grant" if changed & roles_after else "remove"
            plural = "role" if len(names) == 1 else "roles"
            return f"Only an admin may {verb} the {listed} {plural}."
    return None


def _ranked_above(role: Role) -> Role:
    """The role that reaches holders of ``role``: the lowest one that has it within reach."""
    return next(
        candidate
        for candidate in reversed(Role)
        if candidate in REACH and role not in REACH[candidate].above
    )


def _article(role: Role) -> str:
    return f"an {role.value}" if role.value[0] in "aeiou" else f"a {role.value}"


def parse_roles(role_text: str | None) -> frozenset[Role]:
    """The known roles in a ``user.role`` value; unknown names are ignored, never guessed."""
    names = {part.strip().lower() for part in (role_text or "").split(",")}
    return frozenset(Role(name) for name in names if name in Role._value2member_map_)


def unknown_roles(role_text: str | None) -> list[str]:
    """The names in a ``user.role`` value the back office does not know, in their order.

    The gateway may use roles of its own (``billing_manager``); a role change keeps them as they
    are, and pages show them as such.
    """
    names = [part.strip() for part in (role_text or "").split(",") if part.strip()]
    return list(dict.fromkeys(n for n in names if n.lower() not in Role._value2member_map_))


def format_roles(roles: set[Role] | frozenset[Role], unknown: Sequence[str] = ()) -> str:
    """``user.role`` text for a set of roles, in a stable order, then the ``unknown`` kept."""
    return ",".join([*(role.value for role in Role if role in roles), *unknown])


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
    # The zone this person chose for showing and reading times (None: the settings' default).
    time_zone: str | None = None

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
