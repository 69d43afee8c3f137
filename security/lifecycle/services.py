"""The account lifecycle, as Better-Auth's admin plugin does it, from the back office; audited.

Each function is the only way its change is made (pages and commands call it alike), runs in one
transaction with its audit row, locks the user row it changes, and asks who may act on whom
(``backoffice.roles``) again under that lock. Rows are written as Better-Auth writes them, so
the gateway reads them as its own: 32-character alphanumeric ids, ``created_at``/``updated_at``
set here, a ``credential`` account holding the scrypt hash. No audit row ever holds a password
or its hash: a password change says that it happened, not what it became.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, NotFound, audited_change, refuse, require
from backoffice.roles import Actor, Capability, Operation, format_roles
from backoffice.staff_audit import record_staff_action
from registry.models import McpServer
from security.api_keys.containment import revoke_keys_within
from security.lifecycle import rules
from security.models import Account, GatewaySession, GatewayUser
from security.moderation.blast_radius import working_keys_created_by
from security.moderation.rules import known_roles
from security.moderation.services import delete_sessions
from security.passwords import hash_password
from tenants.models import Tenant

# Better-Auth's ``generateId()``: 32 characters from letters and digits, from a CSPRNG.
ID_ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 32
CREDENTIAL = "credential"


def new_better_auth_id() -> str:
    """A text id as Better-Auth's default ``generateId()`` makes one."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


@dataclass
class Removal:
    """What removing a user took with them."""

    email: str
    sessions_deleted: int = 0
    impersonations_ended: int = 0
    sign_in_methods: list[str] = field(default_factory=list)
    keys_revoked: list[str] = field(default_factory=list)


def create_user(
    *,
    actor: Actor,
    email: str,
    name: str,
    roles: Iterable[str],
    tenant_id: uuid.UUID | str | None,
    password: str | None = None,
) -> GatewayUser:
    """Create a user as Better-Auth's ``createUser`` does: the user row, and with a password a
    ``credential`` account holding its scrypt hash. The roles given must be grantable."""
    require(actor, Capability.MANAGE_ACCOUNTS, AuditAction.USER_CREATE, resource_type="user")
    email = rules.clean_email(email)
    name = rules.clean_name(name)
    chosen = known_roles(roles)
    hashed = None
    if password:
        if (problem := rules.password_problem(password)) is not None:
            raise Invalid(problem)
        hashed = hash_password(password)  # ~70 ms of scrypt, before any lock is taken
    now = timezone.now()
    with audited_change():
        refusal = rules.creation_refusal(actor, email, chosen)
        if refusal is not None:
            raise refuse(actor, AuditAction.USER_CREATE, refusal, resource_type="user", email=email)
        tenant = None
        if tenant_id:
            tenant = _visible_tenant(actor, tenant_id)
        if GatewayUser.unscoped.filter(email__iexact=email).exists():
            raise Invalid(f"A user with the email {email} already exists.")
        user = GatewayUser(
            id=new_better_auth_id(),
            name=name,
            email=email,
            email_verified=False,
            role=format_roles(chosen),
            tenant=tenant,
            banned=False,
            user_metadata={},
            is_active=True,
            auth_provider=CREDENTIAL if hashed else None,
            created_at=now,
            updated_at=now,
        )
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin fails here, cleanly
                user.save(force_insert=True)
        except IntegrityError as clash:
            raise Invalid(f"A user with the email {email} already exists.") from clash
        if hashed is not None:
            _add_credential(user, hashed, now)
        _record(
            actor,
            AuditAction.USER_CREATE,
            user,
            after={**_who(user), "password_set": hashed is not None},
        )
    return user


def set_user_password(*, actor: Actor, user_id: str, password: str) -> int:
    """Set a user's password as Better-Auth's ``setUserPassword`` does, and sign them out
    everywhere (an old session must not outlive the password it was opened with).

    A user without a password sign-in gets one (a ``credential`` account). Returns how many
    sessions ended.
    """
    require(actor, Capability.MANAGE_ACCOUNTS, AuditAction.USER_SET_PASSWORD, resource_type="user")
    if (problem := rules.password_problem(password or "")) is not None:
        raise Invalid(problem)
    hashed = hash_password(password)
    now = timezone.now()
    with audited_change():
        user = _locked_user(actor, user_id, Operation.SET_PASSWORD, AuditAction.USER_SET_PASSWORD)
        updated = Account.unscoped.filter(user_id=user.pk, provider_id=CREDENTIAL).update(
            password=hashed, updated_at=now
        )
        if not updated:
            _add_credential(user, hashed, now)
        ended = delete_sessions(GatewaySession.unscoped.filter(user_id=user.pk), actor, now)
        GatewayUser.unscoped.filter(pk=user.pk).update(updated_at=now)
        _record(
            actor,
            AuditAction.USER_SET_PASSWORD,
            user,
            details={"credential_added": not updated, "sessions_deleted": ended},
        )
    return ended


def mark_email_verified(*, actor: Actor, user_id: str) -> bool:
    """Mark a user's email verified; False when it already was (nothing written)."""
    require(actor, Capability.MANAGE_ACCOUNTS, AuditAction.USER_VERIFY_EMAIL, resource_type="user")
    with audited_change():
        user = _locked_user(actor, user_id, Operation.VERIFY_EMAIL, AuditAction.USER_VERIFY_EMAIL)
        if user.email_verified:
            return False
        GatewayUser.unscoped.filter(pk=user.pk).update(
            email_verified=True, updated_at=timezone.now()
        )
        _record(
            actor,
            AuditAction.USER_VERIFY_EMAIL,
            user,
            before={"email_verified": False},
            after={"email_verified": True},
        )
    return True


def unlink_sign_in(*, actor: Actor, user_id: str, account_id: str) -> str:
    """Remove one sign-in method (an ``account`` row); never the last one, as Better-Auth's
    ``unlinkAccount`` refuses. Returns the provider unlinked."""
    require(actor, Capability.MANAGE_ACCOUNTS, AuditAction.ACCOUNT_UNLINK, resource_type="user")
    with audited_change():
        user = _locked_user(actor, user_id, Operation.UNLINK_SIGN_IN, AuditAction.ACCOUNT_UNLINK)
        methods = list(
            Account.unscoped.filter(user_id=user.pk).select_for_update().only("id", "provider_id")
        )
        method = next((one for one in methods if one.pk == account_id), None)
        if method is None:
            raise NotFound(f"{user.email} has no such sign-in method.")
        if len(methods) == 1:
            raise Invalid(
                f"This is the only sign-in method of {user.email}: unlinking it would lock "
                "them out. Set a password or remove the user instead."
            )
        Account.unscoped.filter(pk=method.pk).delete()
        GatewayUser.unscoped.filter(pk=user.pk).update(updated_at=timezone.now())
        _record(
            actor,
            AuditAction.ACCOUNT_UNLINK,
            user,
            details={"account_id": method.pk, "provider_id": method.provider_id},
        )
    return method.provider_id


def removal_problem(user: GatewayUser, servers: Sequence[object], keys: int, revoke: bool) -> str:
    """Why this user cannot be removed as asked, or "" when they can."""
    if servers:
        return (
            f"{user.email} owns {_count(len(servers), 'MCP server')}: removing them would leave "
            "the servers without an owner. Move or delete the servers first."
        )
    if keys and not revoke:
        return (
            f"{user.email} created {_count(keys, 'working API key')}: tick “Revoke their keys” "
            "to revoke them with the removal, or revoke them first."
        )
    return ""


def remove_user(*, actor: Actor, user_id: str, revoke_keys: bool = False) -> Removal:
    """Delete a user as Better-Auth's ``removeUser`` does (sessions and sign-in methods go with
    the row), leaving a tombstone audit row saying who they were. Refused while they own
    servers; their working keys are revoked first when ``revoke_keys``, else refused."""
    require(actor, Capability.MANAGE_ACCOUNTS, AuditAction.USER_REMOVE, resource_type="user")
    now = timezone.now()
    with audited_change():
        user = _locked_user(actor, user_id, Operation.REMOVE_USER, AuditAction.USER_REMOVE)
        keys = list(working_keys_created_by(actor, [user.pk]).select_for_update())
        servers = list(McpServer.unscoped.filter(created_by_id=user.pk).values_list("name"))
        if problem := removal_problem(user, servers, len(keys), revoke_keys):
            raise Invalid(problem)
        removal = Removal(email=user.email)
        removal.sign_in_methods = list(
            Account.unscoped.filter(user_id=user.pk).values_list("provider_id", flat=True)
        )
        revoke_keys_within(
            actor=actor, keys=keys, reason=f"Revoked with the removal of {user.email}."
        )
        removal.keys_revoked = [key.key_prefix for key in keys]
        removal.sessions_deleted = delete_sessions(
            GatewaySession.unscoped.filter(user_id=user.pk), actor, now
        )
        # Sessions in which they act as someone else name them only as text: end those too.
        removal.impersonations_ended = delete_sessions(
            GatewaySession.unscoped.filter(impersonated_by=user.pk), actor, now
        )
        # The tombstone first, while the row it describes is still there to be read.
        _record(
            actor,
            AuditAction.USER_REMOVE,
            user,
            before=_who(user),
            details={
                "sessions_deleted": removal.sessions_deleted,
                "impersonations_ended": removal.impersonations_ended,
                "sign_in_methods": removal.sign_in_methods,
                "keys_revoked": removal.keys_revoked,
            },
        )
        # Accounts go by the contract's cascade; keys keep their row, their creator set null.
        GatewayUser.unscoped.filter(pk=user.pk).delete()
    return removal


# --- The parts every operation shares ---------------------------------------------------------


def _locked_user(
    actor: Actor, user_id: str, operation: Operation, action: AuditAction
) -> GatewayUser:
    if not user_id or "\x00" in user_id:
        raise NotFound("No such user.")
    user = (
        GatewayUser.objects.visible_to(actor, Capability.MANAGE_ACCOUNTS)
        .select_for_update()
        .filter(pk=user_id)
        .first()
    )
    if user is None:
        raise NotFound("No such user.")
    refusal = rules.lifecycle_refusal(actor, user, operation)
    if refusal is not None:
        raise refuse(
            actor,
            action,
            refusal,
            resource_type="user",
            resource_id=user.pk,
            tenant_id=user.tenant_id,
            email=user.email,
        )
    return user


def _visible_tenant(actor: Actor, tenant_id: uuid.UUID | str) -> Tenant:
    try:
        tenant = (
            Tenant.objects.visible_to(actor, Capability.MANAGE_ACCOUNTS)
            .filter(pk=uuid.UUID(str(tenant_id)))
            .first()
        )
    except ValueError:
        tenant = None
    if tenant is None:
        raise Invalid("No such tenant.")
    return tenant


def _add_credential(user: GatewayUser, hashed: str, now: dt.datetime) -> None:
    # Better-Auth's credential account: its account_id is the user's own id.
    Account.unscoped.create(
        id=new_better_auth_id(),
        account_id=user.pk,
        provider_id=CREDENTIAL,
        user=user,
        password=hashed,
        created_at=now,
        updated_at=now,
    )


def _who(user: GatewayUser) -> dict[str, object]:
    """Who a user is, for an audit row: never anything secret."""
    return {
        "email": user.email,
        "name": user.name,
        "username": user.username,
        "role": user.role,
        "tenant_id": str(user.tenant_id) if user.tenant_id else None,
        "email_verified": user.email_verified,
        "banned": user.banned,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }


def _record(
    actor: Actor,
    action: AuditAction,
    user: GatewayUser,
    *,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
    details: dict[str, object] | None = None,
) -> None:
    record_staff_action(
        actor=actor,
        action=action,
        resource_type="user",
        resource_id=user.pk,
        tenant_id=user.tenant_id,
        before=before,
        after=after,
        details={"email": user.email, **(details or {})},
    )


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
