"""Reads of API keys that pages, the admin and commands share, already scoped to the actor.

A key's status (active, expiring within 7 days, expired, revoked) is computed in one place, as a
SQL expression: lists annotate it, filters filter on it in the database, and pages show the
annotated value, so the list, its filter and a key's page can never disagree.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Now
from django.http import Http404

from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import record_denied
from security.models import ApiKey, GatewayUser
from tenants.models import Tenant

# A key this close to its expiry is flagged so that someone rotates it in time.
EXPIRING_WITHIN = dt.timedelta(days=7)


class ApiKeyStatus(models.TextChoices):
    ACTIVE = "active", "active"
    EXPIRING = "expiring", "expiring within 7 days"
    EXPIRED = "expired", "expired"
    REVOKED = "revoked", "revoked"


def status_expression() -> Case:
    """The SQL that decides a key's status: revoked (or deactivated) first, then its expiry."""
    return Case(
        When(Q(is_active=False) | Q(revoked_at__isnull=False), then=Value(ApiKeyStatus.REVOKED)),
        When(expires_at__lte=Now(), then=Value(ApiKeyStatus.EXPIRED)),
        When(expires_at__lte=Now() + EXPIRING_WITHIN, then=Value(ApiKeyStatus.EXPIRING)),
        default=Value(ApiKeyStatus.ACTIVE),
        output_field=models.TextField(),
    )


def usable(prefix: str = "") -> Q:
    """Keys the gateway still accepts: active, not revoked, not expired."""
    return Q(**{f"{prefix}is_active": True, f"{prefix}revoked_at__isnull": True}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": Now()})
    )


def api_keys_visible_to(actor: Actor | None) -> models.QuerySet[ApiKey]:
    """The keys ``actor`` may manage (their tenant's, or every tenant's for an admin), with their
    status and who created and revoked them, in words this actor may read."""
    return ApiKey.objects.visible_to(actor, Capability.MANAGE_API_KEYS).annotate(
        status=status_expression(),
        creator_label=_creator_label(actor),
        revoker_label=_revoker_label(actor),
    )


# Platform staff who act on a tenant's keys stay unnamed to that tenant's admins.
PLATFORM_STAFF = "platform staff"


def _creator_label(actor: Actor | None) -> Case:
    if actor is not None and actor.is_platform_wide(Capability.MANAGE_API_KEYS):
        named = Q(created_by__isnull=False)
    else:
        named = Q(created_by__tenant_id=F("tenant_id"))
    return Case(
        When(created_by__isnull=True, then=Value("—")),
        When(named, then=F("created_by__email")),
        default=Value(PLATFORM_STAFF),
        output_field=models.TextField(),
    )


def _revoker_label(actor: Actor | None) -> Case:
    # revoked_by is text with no foreign key: a gateway user id, or "local:<name>" for a local
    # break-glass superuser. Unscoped subquery: the email is only shown under the rule above.
    revokers = GatewayUser.unscoped.filter(pk=OuterRef("revoked_by"))
    if actor is not None and actor.is_platform_wide(Capability.MANAGE_API_KEYS):
        return Case(
            When(revoked_by__isnull=True, then=Value("—")),
            default=Coalesce(Subquery(revokers.values("email")[:1]), F("revoked_by")),
            output_field=models.TextField(),
        )
    same_tenant = revokers.filter(tenant_id=OuterRef("tenant_id"))
    return Case(
        When(revoked_by__isnull=True, then=Value("—")),
        default=Coalesce(Subquery(same_tenant.values("email")[:1]), Value(PLATFORM_STAFF)),
        output_field=models.TextField(),
    )


def tenants_for_new_keys(actor: Actor | None) -> models.QuerySet[Tenant]:
    """The tenants ``actor`` may create keys for: their own, or every tenant for an admin."""
    return Tenant.objects.visible_to(actor, Capability.MANAGE_API_KEYS).order_by("name")


def live_key_count(tenant_id: uuid.UUID) -> int:
    """How many of a tenant's keys count against its ``max_api_keys``: the usable ones."""
    # Uses index: idx_api_keys_tenant_active (tenant_id, is_active)
    return ApiKey.unscoped.filter(usable(), tenant_id=tenant_id).count()


def access_api_key(
    actor: Actor, key_id: object, *, attempt: AuditAction = AuditAction.STAFF_ACCESS
) -> ApiKey:
    """One key the actor may manage, with its status, or 404; a probe of another tenant's key is
    recorded as a denied ``attempt``."""
    parsed = as_key_id(key_id)
    key = None if parsed is None else api_keys_visible_to(actor).filter(pk=parsed).first()
    if key is None:
        if parsed is not None:
            record_probe(actor, parsed, attempt)
        raise Http404("No API key with this id.")
    return key


def find_api_key(actor: Actor, prefix_or_id: str) -> ApiKey | None:
    """A key the actor may manage, named by its prefix (as people see it) or its id."""
    parsed = as_key_id(prefix_or_id)
    keys = api_keys_visible_to(actor)
    if parsed is not None:
        return keys.filter(pk=parsed).first()
    if "\x00" in prefix_or_id:
        return None
    return keys.filter(key_prefix=prefix_or_id).first()


def record_probe(actor: Actor, key_id: uuid.UUID, attempt: AuditAction) -> None:
    """Record an attempt on a key that exists but lies outside the actor's scope."""
    # Unscoped on purpose: only to tell a probe of another tenant's key from a mistyped id. Nothing
    # of that key reaches the actor, who gets the same 404 either way.
    tenant_id = ApiKey.unscoped.filter(pk=key_id).values_list("tenant_id", flat=True).first()
    if tenant_id is not None:
        record_denied(
            actor=actor,
            action=attempt,
            resource_type="api_key",
            resource_id=key_id,
            tenant_id=tenant_id,
            details={"refused": "the key belongs to a tenant outside the actor's scope"},
        )


def as_key_id(value: object) -> uuid.UUID | None:
    """A key id from a URL or a command line, or None for anything that is not a UUID."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None
