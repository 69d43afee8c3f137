"""Changes to tenants: suspend, reactivate, archive; plan, limits and settings. Each is audited.

The tenant's row is locked, the change and its audit row (with before and after) commit in one
transaction, and a refused attempt leaves one ``denied`` row (``backoffice.operations``). Only
the tenant's own row changes: its users, API keys and servers are left as they are (the
confirmation page says what that means for each).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, NotFound, audited_change, require
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import record_staff_action
from tenants.models import Tenant, TenantStatus

MAX_REASON_LENGTH = 500
MAX_LIMIT = 100_000

# To each status change, the statuses it may start from.
TRANSITIONS: dict[AuditAction, tuple[TenantStatus, frozenset[TenantStatus]]] = {
    AuditAction.TENANT_SUSPEND: (
        TenantStatus.SUSPENDED,
        frozenset({TenantStatus.ACTIVE, TenantStatus.TRIAL}),
    ),
    AuditAction.TENANT_REACTIVATE: (
        TenantStatus.ACTIVE,
        frozenset({TenantStatus.SUSPENDED, TenantStatus.ARCHIVED}),
    ),
    AuditAction.TENANT_ARCHIVE: (
        TenantStatus.ARCHIVED,
        frozenset({TenantStatus.ACTIVE, TenantStatus.TRIAL, TenantStatus.SUSPENDED}),
    ),
}
# A suspension's reason is kept in the tenant's settings while it lasts (the gateway shows it).
SUSPENSION_REASON = "suspension_reason"


def status_refusal(tenant: Tenant, action: AuditAction) -> str | None:
    """Why ``tenant`` cannot take this status change now, or None (asked before the form too)."""
    target, sources = TRANSITIONS[action]
    if tenant.status in sources:
        return None
    if tenant.status == target:
        return f"{tenant.name} is already {target}: there is nothing to change."
    allowed = " or ".join(sorted(sources))
    return f"{tenant.name} is {tenant.status}: only a tenant that is {allowed} can become {target}."


def suspend_tenant(*, actor: Actor, tenant_id: uuid.UUID | str, reason: str) -> Tenant:
    """Suspend an active or trial tenant; the reason is required and kept in its settings."""
    return _change_status(actor, tenant_id, AuditAction.TENANT_SUSPEND, reason)


def reactivate_tenant(*, actor: Actor, tenant_id: uuid.UUID | str, reason: str = "") -> Tenant:
    """Make a suspended or archived tenant active again; the suspension reason is removed."""
    return _change_status(actor, tenant_id, AuditAction.TENANT_REACTIVATE, reason)


def archive_tenant(*, actor: Actor, tenant_id: uuid.UUID | str, reason: str) -> Tenant:
    """Archive a tenant (it keeps its rows and history); the reason is required."""
    return _change_status(actor, tenant_id, AuditAction.TENANT_ARCHIVE, reason)


def _change_status(
    actor: Actor, tenant_id: uuid.UUID | str, action: AuditAction, reason: str
) -> Tenant:
    require(actor, Capability.MANAGE_TENANTS, action, resource_type="tenant")
    reason = _clean_reason(reason, required=action is not AuditAction.TENANT_REACTIVATE)
    target, _sources = TRANSITIONS[action]
    with audited_change():
        tenant = _locked(actor, tenant_id)
        refusal = status_refusal(tenant, action)
        if refusal:
            raise Invalid(refusal)
        before_settings = dict(tenant.settings or {})
        settings = dict(before_settings)
        if action is AuditAction.TENANT_SUSPEND:
            settings[SUSPENSION_REASON] = reason
        else:
            settings.pop(SUSPENSION_REASON, None)
        before = {"status": tenant.status}
        now = timezone.now()
        Tenant.unscoped.filter(pk=tenant.pk).update(
            status=target, settings=settings, updated_at=now
        )
        record_staff_action(
            actor=actor,
            action=action,
            resource_type="tenant",
            resource_id=tenant.pk,
            tenant_id=tenant.pk,
            before=before,
            after={"status": str(target)},
            details={"tenant_name": tenant.name, **({"reason": reason} if reason else {})},
        )
        tenant.status, tenant.settings, tenant.updated_at = target, settings, now
    return tenant


def update_tenant(
    *,
    actor: Actor,
    tenant_id: uuid.UUID | str,
    plan: str,
    max_api_keys: int,
    max_servers: int,
    settings: dict[str, Any],
) -> dict[str, tuple[Any, Any]]:
    """Set the tenant's plan, limits and settings; returns what changed as (before, after).

    Nothing changed: an empty dict and no audit row. Lowering a limit below what the tenant
    holds removes nothing: it only stops new keys or servers until the tenant is under it.
    """
    require(actor, Capability.MANAGE_TENANTS, AuditAction.TENANT_UPDATE, resource_type="tenant")
    plan = plan.strip()
    if not plan or len(plan) > 50 or "\x00" in plan:
        raise Invalid("The plan must be 1 to 50 characters.")
    for name, limit in (("max_api_keys", max_api_keys), ("max_servers", max_servers)):
        if not 0 <= limit <= MAX_LIMIT:
            raise Invalid(f"{name} must be between 0 and {MAX_LIMIT:,}.")
    wanted = {
        "plan": plan,
        "max_api_keys": max_api_keys,
        "max_servers": max_servers,
        "settings": settings,
    }
    with audited_change():
        tenant = _locked(actor, tenant_id)
        changes = {
            name: (getattr(tenant, name), value)
            for name, value in wanted.items()
            if getattr(tenant, name) != value
        }
        if not changes:
            return {}
        now = timezone.now()
        Tenant.unscoped.filter(pk=tenant.pk).update(
            **{name: after for name, (_before, after) in changes.items()}, updated_at=now
        )
        record_staff_action(
            actor=actor,
            action=AuditAction.TENANT_UPDATE,
            resource_type="tenant",
            resource_id=tenant.pk,
            tenant_id=tenant.pk,
            before={name: before for name, (before, _after) in changes.items()},
            after={name: after for name, (_before, after) in changes.items()},
            details={"tenant_name": tenant.name},
        )
    return changes


def _locked(actor: Actor, tenant_id: uuid.UUID | str) -> Tenant:
    try:
        pk = uuid.UUID(str(tenant_id))
    except ValueError as malformed:
        raise NotFound("No such tenant.") from malformed
    tenant = (
        Tenant.objects.visible_to(actor, Capability.MANAGE_TENANTS)
        .select_for_update()
        .filter(pk=pk)
        .first()
    )
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


def _clean_reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if "\x00" in reason:
        raise Invalid("The reason cannot contain NUL characters.")
    if required and not reason:
        raise Invalid("Give a reason: it is recorded in the audit log.")
    if len(reason) > MAX_REASON_LENGTH:
        raise Invalid(f"The reason must be at most {MAX_REASON_LENGTH} characters.")
    return reason
