"""Reads of API keys that pages, the admin and commands share, already scoped to the actor.

A key's status (active, expiring within 7 days, expired, revoked, deactivated) is computed in
one place, as a SQL expression: lists annotate it, filters filter on it in the database, and
pages show the annotated value, so the list, its filter and a key's page can never disagree.
Whether a tenant may get one more usable key (``new_key_refusal``) is decided here too, for pages
to say up front and for services to check under the tenant's row lock. A key's history is read
from its own audit rows, within the actor's tenant.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Now
from django.http import Http404

from audit.models import AuditLog, AuditOutcome
from backoffice import presentation
from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor, Capability
from backoffice.tenancy import record_out_of_scope_attempt
from security.api_key_secrets import KEY_ID_LENGTH, PRODUCT_PREFIX
from security.api_keys import scopes as scope_catalog
from security.models import ApiKey, GatewayUser, KeyRotation
from security.selectors import user_emails
from tenants.models import Tenant, TenantStatus

# A key this close to its expiry is flagged so that someone rotates it in time.
EXPIRING_WITHIN = dt.timedelta(days=7)


class ApiKeyStatus(models.TextChoices):
    ACTIVE = "active", "active"
    EXPIRING = "expiring", "expiring within 7 days"
    # Rotated: the successor is issued, this one works until its grace period ends. Routine,
    # not an alarm, unlike EXPIRING.
    REPLACED = "replaced", "replaced by a rotation"
    EXPIRED = "expired", "expired"
    REVOKED = "revoked", "revoked"
    # Switched off by the gateway (is_active false) without a revocation: no time, no reason.
    DEACTIVATED = "deactivated", "deactivated by the gateway"


# Statuses in which a key can never work again: no edit, rotation or revocation applies.
ENDED_STATUSES = frozenset({ApiKeyStatus.REVOKED, ApiKeyStatus.DEACTIVATED})


def status_expression() -> Case:
    """The SQL that decides a key's status: revoked or deactivated first, then its expiry."""
    return Case(
        When(revoked_at__isnull=False, then=Value(ApiKeyStatus.REVOKED)),
        When(is_active=False, then=Value(ApiKeyStatus.DEACTIVATED)),
        When(expires_at__lte=Now(), then=Value(ApiKeyStatus.EXPIRED)),
        When(Exists(rotation_of()), then=Value(ApiKeyStatus.REPLACED)),
        When(expires_at__lte=Now() + EXPIRING_WITHIN, then=Value(ApiKeyStatus.EXPIRING)),
        default=Value(ApiKeyStatus.ACTIVE),
        output_field=models.TextField(),
    )


def describe_status(key: ApiKey) -> str:
    """A key's status in words, naming the successor of a rotated key (``replaced by mcp_ab``).

    ``key`` comes from ``api_keys_visible_to``, which annotates ``status`` and the successor.
    """
    status = ApiKeyStatus(key.status)  # type: ignore[attr-defined]
    if status == ApiKeyStatus.REPLACED:
        return f"replaced by {key.successor_prefix}"  # type: ignore[attr-defined]
    return str(status.label)


def rotation_of(key: str = "pk") -> models.QuerySet[KeyRotation]:
    """The rotation that replaced the outer query's key, if any (by primary key: one row)."""
    return KeyRotation.objects.filter(old_key_id=OuterRef(key))


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
        successor_prefix=Subquery(rotation_of().values("new_key_prefix")[:1]),
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
    """The tenants whose keys ``actor`` manages: their own, or every tenant for an admin.

    Some of them may be unable to get a key now (suspended, archived, at the limit): the create
    service refuses those with ``new_key_refusal``'s message. Choices use
    ``tenants_offered_for_new_keys``.
    """
    return Tenant.objects.visible_to(actor, Capability.MANAGE_API_KEYS).order_by("name")


# A suspended or archived tenant keeps its keys' history but gets no new usable key.
STATUSES_THAT_GET_KEYS = (TenantStatus.ACTIVE, TenantStatus.TRIAL)


def tenants_offered_for_new_keys(actor: Actor | None) -> models.QuerySet[Tenant]:
    """The tenants a form offers for a new key: the actor's, among those whose status allows it."""
    return tenants_for_new_keys(actor).filter(status__in=STATUSES_THAT_GET_KEYS)


def live_key_count(tenant_id: uuid.UUID, *, excluding: uuid.UUID | None = None) -> int:
    """How many of a tenant's keys count against its ``max_api_keys``: the usable ones (a key in
    a rotation's grace period is usable), leaving out the key ``excluding``."""
    # Uses index: idx_api_keys_tenant_active (tenant_id, is_active)
    keys = ApiKey.unscoped.filter(usable(), tenant_id=tenant_id)
    if excluding is not None:
        keys = keys.exclude(pk=excluding)
    return keys.count()


def new_key_refusal(tenant: Tenant, *, excluding: uuid.UUID | None = None) -> str | None:
    """Why ``tenant`` cannot get one more usable key now, or None when it can.

    ``excluding`` leaves a key out of the count (the key a rotation replaces). Services call this
    under the tenant's row lock, so the answer holds until their transaction ends; pages call it
    to say so before the form is filled in.
    """
    if tenant.status not in STATUSES_THAT_GET_KEYS:
        return (
            f"{tenant.name} is {tenant.status}: a suspended or archived tenant gets no new or "
            f"renewed API keys. Reactivate the tenant first."
        )
    limit = tenant.max_api_keys
    if limit <= 0:
        return f"{tenant.name} may hold no API keys: its limit is 0."
    in_use = live_key_count(tenant.pk, excluding=excluding)
    if in_use < limit:
        return None
    counted = "other usable API key" if excluding is not None else "usable API key"
    return (
        f"{tenant.name} already has {in_use} {counted}{pluralize(in_use)} (keys still in a "
        f"rotation's grace period count), its limit of {limit}. Revoke a key it no longer "
        f"needs, or wait for a grace period to end, then try again."
    )


def pluralize(count: int) -> str:
    return "" if count == 1 else "s"


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
    """Record ``attempt`` on a key that exists but lies outside the actor's scope."""
    record_out_of_scope_attempt(
        ApiKey.objects,
        actor,
        Capability.MANAGE_API_KEYS,
        key_id,
        action=attempt,
        resource_type="api_key",
    )


def as_key_id(value: object) -> uuid.UUID | None:
    """A key id from a URL or a command line, or None for anything that is not a UUID."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def scopes_outside_catalog(actor: Actor | None) -> list[str]:
    """Scopes that the actor's keys hold but the catalog does not document (set by the gateway
    or by hand), so the scope filter can offer them too."""
    keys = ApiKey.objects.visible_to(actor, Capability.MANAGE_API_KEYS).exclude(
        scopes__contained_by=sorted(scope_catalog.SCOPE_VALUES)
    )
    found: set[str] = set()
    for scopes in keys.values_list("scopes", flat=True).iterator():
        found.update(scope_catalog.unknown_scopes(scopes))
    return sorted(found)


# ``mcpgw_<id>_...``: a whole (or partly pasted) key, whose prefix is the part people may see.
_PASTED_KEY = re.compile(
    rf"\s*({re.escape(PRODUCT_PREFIX)}[a-z0-9]{{{KEY_ID_LENGTH}}})_\S*\s*", re.ASCII
)


def prefix_in_pasted_key(term: str) -> str | None:
    """The ``key_prefix`` of a key pasted whole into a search box, or None for other text."""
    match = _PASTED_KEY.fullmatch(term or "")
    return match.group(1) if match else None


# --- A key's history, from its audit rows ----------------------------------------------------

HISTORY_ACTIONS = {
    AuditAction.API_KEY_CREATE: "created",
    AuditAction.API_KEY_UPDATE: "edited",
    AuditAction.API_KEY_ROTATE: "rotated",
    AuditAction.API_KEY_REVOKE: "revoked",
}
HISTORY_SHOWN = 200
# Settings an edit may change, as the history names them.
EDITED_SETTINGS = {
    "name": "name",
    "scopes": "scopes",
    "expires_at": "expiry",
    "rate_limit_per_minute": "rate limit",
}


@dataclass(frozen=True)
class KeyEvent:
    """One change to a key, as its page lists it: never a secret, only what the row recorded."""

    at: dt.datetime
    what: str
    by: str
    notes: list[str]


def key_history(actor: Actor | None, key: ApiKey) -> list[KeyEvent]:
    """The key's create, edit, rotate and revoke audit rows (newest first), read within the
    actor's tenant, with who made each change named as on the key's page."""
    # Uses index: idx_audit_logs_action_resource (action, resource_type, resource_id)
    rows = list(
        AuditLog.objects.visible_to(actor, Capability.MANAGE_API_KEYS)
        .filter(
            tenant_id=key.tenant_id,
            action__in=[str(action) for action in HISTORY_ACTIONS],
            resource_type="api_key",
            resource_id=str(key.pk),
            outcome=AuditOutcome.SUCCESS,
        )
        .order_by("-created_at", "-id")
        .values("created_at", "action", "actor_id", "details")[:HISTORY_SHOWN]
    )
    names = _actor_names(actor, key, {row["actor_id"] for row in rows if row["actor_id"]})
    return [
        KeyEvent(
            at=row["created_at"],
            what=HISTORY_ACTIONS[AuditAction(row["action"])],
            by=names.get(row["actor_id"] or "", PLATFORM_STAFF),
            notes=_event_notes(row["action"], row["details"] or {}),
        )
        for row in rows
    ]


def _actor_names(actor: Actor | None, key: ApiKey, actor_ids: set[str]) -> dict[str, str]:
    platform_wide = actor is not None and actor.is_platform_wide(Capability.MANAGE_API_KEYS)
    # A tenant admin sees their own tenant's people, the key's tenant (the key is theirs);
    # platform staff who acted on it stay "platform staff" to them.
    names = user_emails(actor, Capability.MANAGE_API_KEYS, actor_ids)
    if platform_wide:
        # A local break-glass superuser ("local:<name>") has no gateway row.
        names.update({actor_id: actor_id for actor_id in actor_ids if actor_id not in names})
    return names


def _event_notes(action: str, details: dict[str, Any]) -> list[str]:
    if action == AuditAction.API_KEY_REVOKE:
        return [f"Reason: {details.get('reason') or '—'}"]
    if action == AuditAction.API_KEY_ROTATE:
        grace = dt.timedelta(seconds=int(details.get("grace_seconds") or 0))
        return [
            f"Replaced by {details.get('replaced_by_prefix') or 'a new key'}; this key's grace "
            f"period: {_duration(grace)}."
        ]
    if action == AuditAction.API_KEY_UPDATE:
        before, after = details.get("before") or {}, details.get("after") or {}
        return [
            f"{label}: {_setting(column, before.get(column))} → "
            f"{_setting(column, after.get(column))}"
            for column, label in EDITED_SETTINGS.items()
            if column in after
        ]
    after = details.get("after") or {}
    notes = []
    if details.get("rotated_from_prefix"):
        notes.append(f"Issued by rotating {details['rotated_from_prefix']}.")
    notes.append(f"Scopes: {_setting('scopes', after.get('scopes'))}.")
    notes.append(f"Expiry: {_setting('expires_at', after.get('expires_at'))}.")
    return notes


def _setting(column: str, value: Any) -> str:
    if column == "scopes":
        return ", ".join(str(scope) for scope in value or []) or "—"
    if column == "expires_at":
        if not value:
            return "never"
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return presentation.when(moment)
    if column == "rate_limit_per_minute":
        return f"{value} requests per minute"
    return "—" if value is None else str(value)


def _duration(grace: dt.timedelta) -> str:
    if not grace:
        return "none, it stopped at once"
    if grace % dt.timedelta(days=1) == dt.timedelta(0):
        days = grace.days
        return f"{days} day{pluralize(days)}"
    hours = int(grace.total_seconds() // 3600)
    return f"{hours} hour{pluralize(hours)}"
