"""What the home dashboard shows each role: the few things that need attention first.

Every panel is built only when the actor holds the capability behind it, and every list is read
through ``visible_to``, so a tenant admin's dashboard can only hold their own tenant's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from audit.models import AuditLog, AuditOutcome
from backoffice.roles import Actor, Capability
from monitoring import selectors
from registry.models import McpServer, ServerHealth
from security.models import ApiKey, GatewaySession, GatewayUser, KeyRotation, ban_in_force
from security.selectors import user_emails
from tenants.models import Tenant

PANEL_SIZE = 10
KEYS_EXPIRING_WITHIN = dt.timedelta(days=7)
# The explorer's own bound for a filter no index covers (outcome): the panel's link opens it.
DENIED_ACTIONS_WITHIN = dt.timedelta(hours=24)
# A dashboard count stops here: past it the exact number tells nobody more, and counting every
# denied action of a day on audit_logs grows with the table on every home page load.
COUNT_CAP = 1000


@dataclass(frozen=True)
class CappedCount:
    """A count that stopped at the cap: ``1,000+`` when more rows matched than were counted."""

    value: int
    more: bool = False

    def __str__(self) -> str:
        return f"{self.value:,}+" if self.more else f"{self.value:,}"

    def __bool__(self) -> bool:
        return self.value > 0

    def __float__(self) -> float:
        # What ``|pluralize`` reads: "1 banned user", "2 banned users", "1,000+ banned users".
        return float(self.value)


def capped_count(queryset: QuerySet[Any], cap: int | None = None) -> CappedCount:
    """Count at most ``cap`` + 1 rows, through a LIMITed subquery, never the whole match."""
    cap = COUNT_CAP if cap is None else cap
    counted = queryset.order_by().values("pk")[: cap + 1].count()
    return CappedCount(min(counted, cap), more=counted > cap)


@dataclass
class Dashboard:
    """The panels of one actor's home page; a panel left as None is not shown."""

    banned_users: list[GatewayUser] | None = None
    active_impersonations: list[GatewaySession] | None = None
    keys_expiring_soon: list[ApiKey] | None = None
    own_tenant_usage: selectors.TenantUsage | None = None
    own_tenant: Tenant | None = None
    denied_actions: list[AuditLog] | None = None
    unhealthy_servers: list[McpServer] | None = None
    health_summary: selectors.Report[selectors.HealthStatusRow] = field(
        default_factory=lambda: selectors.Report([], None)
    )
    counts: dict[str, CappedCount] = field(default_factory=dict)
    # Whether people in the panels link to their moderation page (support staff and admins).
    links_to_users: bool = False
    # Gateway user id -> email, for every person the panels name by id.
    people: dict[str, str] = field(default_factory=dict)


def dashboard_for(actor: Actor) -> Dashboard:
    """The dashboard panels ``actor``'s role calls for (an admin gets every panel)."""
    now = timezone.now()
    board = Dashboard(links_to_users=actor.can(Capability.MODERATE_USERS))
    if actor.can(Capability.MODERATE_USERS):
        # Uses index: idx_users_banned
        banned = GatewayUser.objects.visible_to(actor, Capability.MODERATE_USERS).filter(
            ban_in_force(now)
        )
        board.counts["banned_users"] = capped_count(banned)
        board.banned_users = list(banned.order_by("-updated_at")[:PANEL_SIZE])
    if actor.can(Capability.REVIEW_IMPERSONATIONS):
        # Uses index: idx_sessions_impersonated_by
        impersonations = GatewaySession.objects.visible_to(
            actor, Capability.REVIEW_IMPERSONATIONS
        ).filter(impersonated_by__isnull=False, expires_at__gt=now)
        board.counts["active_impersonations"] = capped_count(impersonations)
        board.active_impersonations = list(
            impersonations.select_related("user").order_by("-created_at")[:PANEL_SIZE]
        )
        # ``impersonated_by`` holds only a user id: people are named by email, in one lookup.
        board.people.update(
            user_emails(
                actor,
                Capability.REVIEW_IMPERSONATIONS,
                {s.impersonated_by for s in board.active_impersonations if s.impersonated_by},
            )
        )
    if actor.can(Capability.MANAGE_API_KEYS):
        # Uses index: idx_api_keys_expiration
        expiring = (
            ApiKey.objects.visible_to(actor, Capability.MANAGE_API_KEYS)
            .filter(
                is_active=True,
                revoked_at__isnull=True,
                expires_at__gt=now,
                expires_at__lte=now + KEYS_EXPIRING_WITHIN,
            )
            .exclude(
                # A rotated key's grace period is routine: it has a successor, nobody must act.
                Exists(KeyRotation.objects.filter(old_key_id=OuterRef("pk")))
            )
        )
        board.counts["keys_expiring_soon"] = capped_count(expiring)
        board.keys_expiring_soon = list(
            expiring.select_related("tenant").order_by("expires_at")[:PANEL_SIZE]
        )
    if actor.can(Capability.VIEW_ANALYTICS) and not actor.is_platform_wide(
        Capability.VIEW_ANALYTICS
    ):
        own = selectors.analytics_tenants(actor).first()
        if own is not None:
            board.own_tenant = own
            usage = selectors.tenant_usage(own, selectors.DEFAULT_WINDOW_HOURS).rows
            board.own_tenant_usage = usage[0] if usage else None
    if actor.can(Capability.VIEW_AUDIT_LOGS):
        # Uses index: idx_audit_logs_created_brin (the week), then the primary key (newest first)
        denied = AuditLog.objects.visible_to(actor, Capability.VIEW_AUDIT_LOGS).filter(
            outcome=AuditOutcome.DENIED, created_at__gte=now - DENIED_ACTIONS_WITHIN
        )
        board.counts["denied_actions"] = capped_count(denied)
        board.denied_actions = list(denied.order_by("-id")[:PANEL_SIZE])
        board.people.update(
            user_emails(
                actor,
                Capability.VIEW_AUDIT_LOGS,
                {entry.actor_id for entry in board.denied_actions if entry.actor_id}
                | {
                    entry.resource_id
                    for entry in board.denied_actions
                    if entry.resource_type == "user" and entry.resource_id
                },
            )
        )
    if actor.can(Capability.VIEW_REGISTRY):
        # Uses index: idx_mcp_servers_tenant_status
        unhealthy = McpServer.objects.visible_to(actor, Capability.VIEW_REGISTRY).filter(
            is_active=True, health_status=ServerHealth.UNHEALTHY
        )
        board.counts["unhealthy_servers"] = capped_count(unhealthy)
        board.unhealthy_servers = list(
            unhealthy.select_related("tenant").order_by("-consecutive_failures", "name")[
                :PANEL_SIZE
            ]
        )
    board.health_summary = selectors.server_health_summary(actor)
    return board
