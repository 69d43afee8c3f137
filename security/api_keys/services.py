"""Every change to a tenant's API keys: create, edit, revoke, rotate; each one audited.

Pages, admin pages and management commands call these functions alike. Each runs in its own
transaction, locks the rows it changes with ``select_for_update`` (so two identical requests at
once change the key once and write one audit row) and writes its audit row inside that
transaction. Audit rows hold a key's prefix and settings before and after, never its plaintext
or its hash; the plaintext of a new key is returned to the caller once and kept nowhere.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, NotFound, audited_change, require
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import record_staff_action
from security.api_key_secrets import generate_api_key
from security.api_keys import inputs
from security.api_keys.selectors import new_key_refusal
from security.models import ApiKey, IssuingFormClaim, KeyRotation
from tenants.models import Tenant

# A prefix clash needs two equal 8-character random ids; more than a few in a row means a bug.
PREFIX_ATTEMPTS = 5
# Grace periods offered when rotating: how long the old key keeps working.
GRACE_PERIODS: dict[str, dt.timedelta] = {
    "now": dt.timedelta(0),
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
}
# How long a sent form's claim is kept: a form sent again later than this issues a new key.
FORM_CLAIMS_KEPT_FOR = dt.timedelta(days=7)
FORM_CLAIMS_PRUNED_AT_ONCE = 500


__all__ = ["Invalid", "NotFound"]  # with AlreadyIssued, the errors raised here


class AlreadyIssued(Exception):
    """This form was already sent and its key issued; nothing was changed this time."""

    def __init__(self, key_id: uuid.UUID | None) -> None:
        super().__init__("This form was already sent and its key issued.")
        self.key_id = key_id


@dataclass(frozen=True)
class IssuedKey:
    """A key just made: the stored row, and its plaintext to show once and then forget."""

    key: ApiKey
    # Kept out of repr so that logging or printing the result never leaks the key.
    plaintext: str = field(repr=False)


class Unchanged(enum.Enum):
    """Passed as ``expires_at`` to ``update_api_key`` to leave the expiry as it is."""

    KEEP = "keep"


KEEP = Unchanged.KEEP


def create_api_key(
    *,
    actor: Actor,
    tenant_id: uuid.UUID,
    name: str,
    scopes: Sequence[str],
    expires_at: dt.datetime | None,
    rate_limit_per_minute: int,
    form_token: str | None = None,
) -> IssuedKey:
    """Issue a new key for an active or trial tenant within its ``max_api_keys``, made by
    ``actor``; a ``form_token`` already used by this actor raises ``AlreadyIssued``."""
    _require_capability(actor, AuditAction.API_KEY_CREATE)
    name = inputs.clean_name(name)
    scopes = inputs.clean_scopes(scopes)
    expires_at = inputs.clean_expiry(expires_at)
    rate_limit_per_minute = inputs.clean_rate_limit(rate_limit_per_minute)
    with audited_change():
        claim = _claim_form(actor, form_token, purpose="create")
        # Locking the tenant row serialises creations for one tenant: two at once cannot both
        # see room for one more key.
        tenant = _locked_tenant(actor, tenant_id)
        if tenant is None:
            raise NotFound("No such tenant among those you may create keys for.")
        refusal = new_key_refusal(tenant)
        if refusal is not None:
            raise Invalid(refusal)
        issued = _insert_key(
            actor=actor,
            tenant_id=tenant.pk,
            name=name,
            scopes=scopes,
            expires_at=expires_at,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        _settle_claim(claim, issued.key)
        record_staff_action(
            actor=actor,
            action=AuditAction.API_KEY_CREATE,
            resource_type="api_key",
            resource_id=issued.key.pk,
            tenant_id=tenant.pk,
            after=snapshot(issued.key),
        )
    return issued


def update_api_key(
    *,
    actor: Actor,
    key_id: uuid.UUID,
    name: str,
    scopes: Sequence[str],
    expires_at: dt.datetime | Unchanged | None = KEEP,
    rate_limit_per_minute: int | None = None,
) -> bool:
    """Change a key's name, scopes, expiry or rate limit; False when nothing differed.

    A new expiry on an expired key makes it usable again, and a later one keeps a key (one in
    a rotation's grace period too) for longer: either must fit the tenant's status and
    ``max_api_keys`` as a new key would.
    """
    _require_capability(actor, AuditAction.API_KEY_UPDATE)
    name = inputs.clean_name(name)
    with audited_change():
        tenant, key = _locked_tenant_and_key(actor, key_id)
        if (refusal := change_refusal(key)) is not None:
            raise Invalid(refusal)
        was_usable = _is_usable(key)
        # Scopes the key already holds stay allowed, even outside the catalog.
        scopes = inputs.clean_scopes(scopes, also_allowed=key.scopes)
        before = snapshot(key)
        key.name = name
        key.scopes = scopes
        if not isinstance(expires_at, Unchanged):
            key.expires_at = inputs.clean_expiry(expires_at)
        if rate_limit_per_minute is not None:
            key.rate_limit_per_minute = inputs.clean_rate_limit(rate_limit_per_minute)
        after = snapshot(key)
        if after == before:
            return False
        if _is_usable(key) and (not was_usable or _lengthened(before["expires_at"], key)):
            # Bringing an expired key back, or keeping a key (one in a rotation's grace period
            # too) for longer, must fit beside the tenant's other usable keys as a new key would.
            refusal = new_key_refusal(tenant, excluding=key.pk)
            if refusal is not None:
                change = "has expired, and this expiry would make it usable again"
                if was_usable:
                    change = "cannot be kept for longer"
                raise Invalid(f"{key.key_prefix} {change}: {refusal}")
        key.updated_at = timezone.now()
        key.save(
            update_fields=["name", "scopes", "expires_at", "rate_limit_per_minute", "updated_at"]
        )
        changed = [column for column in after if after[column] != before[column]]
        record_staff_action(
            actor=actor,
            action=AuditAction.API_KEY_UPDATE,
            resource_type="api_key",
            resource_id=key.pk,
            tenant_id=key.tenant_id,
            before={column: before[column] for column in changed},
            after={column: after[column] for column in changed},
            details={"key_prefix": key.key_prefix},
        )
    return True


def revoke_api_key(*, actor: Actor, key_id: uuid.UUID, reason: str) -> bool:
    """Revoke a key at once (the gateway refuses it from now on); False when already revoked."""
    _require_capability(actor, AuditAction.API_KEY_REVOKE)
    reason = inputs.clean_reason(reason)
    with audited_change():
        key = _locked_key(actor, key_id)
        if _is_revoked(key):
            return False
        revoke_locked_key(actor=actor, key=key, details={"reason": reason})
    return True


def revoke_locked_key(
    *, actor: Actor, key: ApiKey, details: dict[str, Any], now: dt.datetime | None = None
) -> None:
    """Revoke ``key``, locked by the caller inside its transaction, and write its audit row.

    The one revocation update: ``revoke_api_key`` and the keys a ban or a removal contains
    (``security.api_keys.containment``) both go through it.
    """
    before = snapshot(key)
    now = now or timezone.now()
    key.is_active = False
    key.revoked_at = now
    key.revoked_by = actor.actor_id
    key.updated_at = now
    key.save(update_fields=["is_active", "revoked_at", "revoked_by", "updated_at"])
    record_staff_action(
        actor=actor,
        action=AuditAction.API_KEY_REVOKE,
        resource_type="api_key",
        resource_id=key.pk,
        tenant_id=key.tenant_id,
        before=before,
        after=snapshot(key),
        details=details,
    )


def rotate_api_key(
    *,
    actor: Actor,
    key_id: uuid.UUID,
    grace: dt.timedelta,
    expires_at: dt.datetime | None,
    form_token: str | None = None,
) -> IssuedKey:
    """Issue a new key with the old one's name, scopes and rate limit; the old one stops
    working after ``grace``.

    Only a usable key can be rotated (an expired or revoked one is replaced by creating a key).
    The new key must fit the tenant's ``max_api_keys`` beside the tenant's other usable keys,
    those still in a grace period included; the key it replaces is not counted, so for its
    grace period the tenant may hold one key more than its limit, never more. A ``form_token``
    already used by this actor raises ``AlreadyIssued``.
    """
    _require_capability(actor, AuditAction.API_KEY_ROTATE)
    if not dt.timedelta(0) <= grace <= max(GRACE_PERIODS.values()):
        raise Invalid("Choose a grace period between now and 7 days.")
    expires_at = inputs.clean_expiry(expires_at)
    with audited_change():
        claim = _claim_form(actor, form_token, purpose=f"rotate:{key_id}")
        tenant, old = _locked_tenant_and_key(actor, key_id)
        if (refusal := rotate_refusal(old)) is not None:
            raise Invalid(refusal)
        refusal = new_key_refusal(tenant, excluding=old.pk)
        if refusal is not None:
            raise Invalid(f"{old.key_prefix} cannot be rotated now. {refusal}")
        before = snapshot(old)
        now = timezone.now()
        old_ends = now + grace
        # The grace period never lengthens the old key's life.
        if old.expires_at is None or old.expires_at > old_ends:
            old.expires_at = old_ends
            old.updated_at = now
            old.save(update_fields=["expires_at", "updated_at"])
        issued = _insert_key(
            actor=actor,
            tenant_id=old.tenant_id,
            name=old.name,
            scopes=list(old.scopes),
            expires_at=expires_at,
            rate_limit_per_minute=old.rate_limit_per_minute,
        )
        _settle_claim(claim, issued.key)
        KeyRotation.objects.create(
            old_key_id=old.pk,
            new_key_id=issued.key.pk,
            new_key_prefix=issued.key.key_prefix,
            rotated_at=now,
        )
        record_staff_action(
            actor=actor,
            action=AuditAction.API_KEY_ROTATE,
            resource_type="api_key",
            resource_id=old.pk,
            tenant_id=old.tenant_id,
            before=before,
            after=snapshot(old),
            details={
                "grace_seconds": int(grace.total_seconds()),
                "replaced_by": str(issued.key.pk),
                "replaced_by_prefix": issued.key.key_prefix,
            },
        )
        record_staff_action(
            actor=actor,
            action=AuditAction.API_KEY_CREATE,
            resource_type="api_key",
            resource_id=issued.key.pk,
            tenant_id=issued.key.tenant_id,
            after=snapshot(issued.key),
            details={"rotated_from": str(old.pk), "rotated_from_prefix": old.key_prefix},
        )
    return issued


def change_refusal(key: ApiKey) -> str | None:
    """Why this key's settings cannot be changed (it can never work again), or None.

    The edit page asks before showing its form; ``update_api_key`` asks again under the lock.
    """
    if _is_revoked(key):
        return f"{key.key_prefix} is {_ended(key)}: a {_ended(key)} key cannot be changed."
    return None


def rotate_refusal(key: ApiKey) -> str | None:
    """Why this key cannot be rotated (only a usable key can), or None.

    The rotate page asks before showing its form; ``rotate_api_key`` asks again under the lock.
    """
    if _is_revoked(key):
        return f"{key.key_prefix} is {_ended(key)}: create a new key instead of rotating it."
    if not _is_usable(key):
        return f"{key.key_prefix} has expired: create a new key instead of rotating it."
    successor = KeyRotation.objects.filter(old_key_id=key.pk).first()
    if successor is not None:
        return (
            f"{key.key_prefix} was already replaced by {successor.new_key_prefix}, and stops at "
            f"the end of its grace period: rotate {successor.new_key_prefix} instead."
        )
    return None


def revoke_refusal(key: ApiKey) -> str | None:
    """Why the revoke page offers nothing: the key is already revoked or deactivated.

    ``revoke_api_key`` itself answers such a key with False (nothing changed), so that two
    identical requests at once both succeed.
    """
    if _is_revoked(key):
        return f"{key.key_prefix} is {_ended(key)}: a {_ended(key)} key cannot be revoked again."
    return None


def snapshot(key: ApiKey) -> dict[str, Any]:
    """What an audit row records of a key: its settings and prefix, never its hash."""
    return {
        "name": key.name,
        "key_prefix": key.key_prefix,
        "scopes": list(key.scopes),
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "rate_limit_per_minute": key.rate_limit_per_minute,
        "is_active": key.is_active,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


# --- Rules shared by every operation --------------------------------------------------------


def _require_capability(actor: Actor, action: AuditAction) -> None:
    require(actor, Capability.MANAGE_API_KEYS, action, resource_type="api_key")


def _locked_key(actor: Actor, key_id: uuid.UUID) -> ApiKey:
    key = (
        ApiKey.objects.visible_to(actor, Capability.MANAGE_API_KEYS)
        .select_for_update()
        .filter(pk=key_id)
        .first()
    )
    if key is None:
        raise NotFound("No such API key among those you may manage.")
    return key


def _locked_tenant(actor: Actor, tenant_id: uuid.UUID) -> Tenant | None:
    return (
        Tenant.objects.visible_to(actor, Capability.MANAGE_API_KEYS)
        .select_for_update()
        .filter(pk=tenant_id)
        .first()
    )


def _locked_tenant_and_key(actor: Actor, key_id: uuid.UUID) -> tuple[Tenant, ApiKey]:
    """Lock a key's tenant row, then the key: the order creation takes too, so creations,
    rotations and edits of one tenant's keys queue behind each other and never deadlock."""
    tenant_id = (
        ApiKey.objects.visible_to(actor, Capability.MANAGE_API_KEYS)
        .filter(pk=key_id)
        .values_list("tenant_id", flat=True)
        .first()
    )
    tenant = None if tenant_id is None else _locked_tenant(actor, tenant_id)
    if tenant is None:
        raise NotFound("No such API key among those you may manage.")
    return tenant, _locked_key(actor, key_id)


def _is_revoked(key: ApiKey) -> bool:
    return not key.is_active or key.revoked_at is not None


def _ended(key: ApiKey) -> str:
    """How a key that can never work again ended, in the users' words."""
    return "revoked" if key.revoked_at is not None else "deactivated"


def _is_usable(key: ApiKey) -> bool:
    """What ``selectors.usable`` decides in SQL, for a key in hand: the gateway accepts it."""
    return not _is_revoked(key) and (key.expires_at is None or key.expires_at > timezone.now())


def _lengthened(expires_at_before: str | None, key: ApiKey) -> bool:
    """Whether an edit moved the key's expiry later (or removed it)."""
    if expires_at_before is None:
        return False
    return key.expires_at is None or key.expires_at > dt.datetime.fromisoformat(expires_at_before)


def _claim_form(actor: Actor, form_token: str | None, *, purpose: str) -> IssuingFormClaim | None:
    """Claim a key-issuing form's one-time token for this actor, or raise ``AlreadyIssued``.

    Call inside the issuing transaction: an identical request running at the same time waits on
    the claim's primary key until this transaction ends, then fails on it (or, when this one
    rolled back, claims the token itself).
    """
    if form_token is None:
        return None
    now = timezone.now()
    _prune_form_claims(now)
    material = f"{purpose}\n{actor.actor_id}\n{form_token}".encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(material).hexdigest()
    try:
        # A savepoint: a duplicate's unique violation leaves the outer transaction usable.
        with transaction.atomic():
            return IssuingFormClaim.objects.create(token_digest=digest, claimed_at=now)
    except IntegrityError:
        key_id = IssuingFormClaim.objects.filter(pk=digest).values_list("key_id", flat=True).first()
        raise AlreadyIssued(key_id) from None


def _settle_claim(claim: IssuingFormClaim | None, key: ApiKey) -> None:
    if claim is not None:
        claim.key_id = key.pk
        claim.save(update_fields=["key_id"])


def _prune_form_claims(now: dt.datetime) -> None:
    # SKIP LOCKED: two requests pruning at once take different rows and never wait on each other.
    stale = list(
        IssuingFormClaim.objects.filter(claimed_at__lt=now - FORM_CLAIMS_KEPT_FOR)
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:FORM_CLAIMS_PRUNED_AT_ONCE]
    )
    if stale:
        IssuingFormClaim.objects.filter(pk__in=stale).delete()


def _insert_key(
    *,
    actor: Actor,
    tenant_id: uuid.UUID,
    name: str,
    scopes: list[str],
    expires_at: dt.datetime | None,
    rate_limit_per_minute: int,
) -> IssuedKey:
    for _attempt in range(PREFIX_ATTEMPTS):
        material = generate_api_key()
        now = timezone.now()
        try:
            # A savepoint: a prefix clash rolls back this insert only, and we try a fresh key.
            with transaction.atomic():
                key = ApiKey.unscoped.create(
                    tenant_id=tenant_id,
                    created_by_id=actor.gateway_user_id,
                    name=name,
                    key_prefix=material.prefix,
                    key_hash=material.hash,
                    scopes=scopes,
                    is_active=True,
                    expires_at=expires_at,
                    rate_limit_per_minute=rate_limit_per_minute,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            if ApiKey.unscoped.filter(key_prefix=material.prefix).exists():
                continue
            raise
        return IssuedKey(key=key, plaintext=material.plaintext)
    raise Invalid("Could not make a key with a unique prefix; please try again.")
