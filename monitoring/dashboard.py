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
from audit.time_blocks import id_ranges
from backoffice.roles import Actor, Capability
from monitoring import result_cache, selectors
from monitoring.result_cache import Result
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
COUNT_CAP = result_cache.DASHBOARD_COUNT_CAP


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


def denied_actions_count(
    actor: Actor, denied: QuerySet[AuditLog]
) -> tuple[CappedCount, Result | None]:
    """How many of ``denied`` (the actor's denied actions of the last 24 hours) there are.

    Counting them reads a day of ``audit_logs`` on a column no index covers, too much for every
    home page under load, so a platform-wide reader's count comes from the shared result store
    (``monitoring.result_cache``), recomputed every minute by ``refresh_analytics``: exact for
    the 24 hours up to its ``computed_at``, which the card says. The panel's list is read live.
    """
    if not actor.is_platform_wide(Capability.VIEW_AUDIT_LOGS):
        # Only platform roles read the audit trail today; a tenant's reader would count live.
        return capped_count(denied), None
    result = result_cache.read("denied_actions", [])
    counted = int(result.rows[0]["denied"]) if result.rows else 0
    return CappedCount(min(counted, COUNT_CAP), more=counted > COUNT_CAP), result


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
    # The stored count of denied actions (as of its ``computed_at``): see ``denied_actions_count``.
    denied_count_source: Result | None = None
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
        since = now - DENIED_ACTIONS_WITHIN
        denied = AuditLog.objects.visible_to(actor, Capability.VIEW_AUDIT_LOGS).filter(
            outcome=AuditOutcome.DENIED, created_at__gte=since
        )
        board.counts["denied_actions"], board.denied_count_source = denied_actions_count(
            actor, denied
        )
        # The day's ids (audit.time_blocks, exact even for backfilled rows) bound the newest-first
        # walk: a quiet day with fewer than PANEL_SIZE denials never walks the whole table.
        # Uses index: audit_logs_pkey (a range of it)
        denied = denied.filter(id__gte=id_ranges(AuditLog._meta.db_table, since, None)[0].start)
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
