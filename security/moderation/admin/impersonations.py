"""The impersonation review list and detail page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from audit.models import AuditLog, RequestLog
from backoffice import presentation
from backoffice.admin_base import ScopedModelAdmin, actor_of, tenant_filter
from backoffice.roles import Capability
from registry.models import McpServer
from security.models import ImpersonationRecord, ImpersonationStatus
from security.moderation import filters, impersonation_capture, selectors
from security.moderation.admin import cells
from security.moderation.devices import device_summary
from security.moderation.onward_links import admin_page_url
from tenants.models import Tenant

# --- Impersonation review ---------------------------------------------------------------------


@admin.register(ImpersonationRecord)
class ImpersonationRecordAdmin(ScopedModelAdmin):
    capability = Capability.REVIEW_IMPERSONATIONS
    # Five columns fit beside the admin's sidebar at 1400px: both people in one, the end under
    # the status, the device under the IP address (the full user agent in its tooltip).
    list_display = (
        "started",
        "who",
        "tenant",
        "status_summary",
        "where_from",
        "reviewed",
    )
    list_display_links = ("started",)
    ordering = ("-started_at",)
    search_fields = (
        "impersonator_email",
        "impersonated_email",
        "=impersonator_id",
        "=impersonated_user_id",
        "ip_address",
    )
    search_help_text = "Search by email or exact user id of either person, or by IP address."
    list_filter = (
        filters.ImpersonationStatusFilter,
        filters.ReviewedFilter,
        filters.ImpersonatorFilter,
        filters.ImpersonatedUserFilter,
        tenant_filter("tenant_id"),
        filters.StartedRangeFilter,
    )
    list_per_page = 50
    actions = None
    change_list_template = "security/moderation/impersonation_change_list.html"
    change_form_template = "security/moderation/impersonation_change_form.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "impersonator",
                    "impersonated",
                    "tenant",
                    "status_label",
                    "started_at",
                    "expires_at",
                    "ended_at",
                    "ended_by",
                )
            },
        ),
        ("Where from", {"fields": ("ip_address_shown", "user_agent", "session_id")}),
        ("Review", {"fields": ("reviewed_at", "reviewed_by", "review_note")}),
        ("Record", {"fields": ("first_seen_at", "last_seen_at")}),
    )
    readonly_fields = ("impersonator", "impersonated", "tenant", "status_label", "ip_address_shown")

    class Media:
        css = {"all": ("security/moderation.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImpersonationRecord]:
        # The tenant of a record already in scope; ``tenants`` has its own scoping for lists.
        tenant_names = Tenant.unscoped.filter(pk=OuterRef("tenant_id")).values("name")[:1]
        records: QuerySet[ImpersonationRecord] = super().get_queryset(request)
        return records.annotate(tenant_name=Subquery(tenant_names))

    @admin.display(description="started", ordering="started_at")
    def started(self, record: ImpersonationRecord) -> str:
        return presentation.when_html(record.started_at)

    @admin.display(description="who, as whom", ordering="impersonator_email")
    def who(self, record: ImpersonationRecord) -> str:
        return format_html(
            '<span class="moderation-primary">{}</span>'
            '<span class="moderation-secondary">as {}</span>',
            self.impersonator(record),
            self.impersonated(record),
        )

    @admin.display(description="status")
    def status_summary(self, record: ImpersonationRecord) -> str:
        # The label says what happened; beneath it, when (or until when, while active).
        if record.ended_at is not None:
            when = presentation.when(record.ended_at)
        elif record.status == ImpersonationStatus.EXPIRED:
            when = presentation.when(record.expires_at)
        else:
            when = f"until {presentation.when(record.expires_at)}"
        return format_html(
            '{}<span class="moderation-secondary moderation-date">{}</span>',
            self.status_label(record),
            when,
        )

    @admin.display(description="IP address")
    def ip_address_shown(self, record: ImpersonationRecord) -> str:
        return record.ip_address or "unknown"

    @admin.display(description="from", ordering="ip_address")
    def where_from(self, record: ImpersonationRecord) -> str:
        return format_html(
            '<span class="moderation-primary">{}</span>'
            '<span class="moderation-secondary" title="{}">{}</span>',
            record.ip_address or "unknown address",
            record.user_agent,
            device_summary(record.user_agent),
        )

    @admin.display(description="impersonator", ordering="impersonator_email")
    def impersonator(self, record: ImpersonationRecord) -> str:
        label = presentation.breakable(record.impersonator_email or record.impersonator_id)
        if not record.impersonator_id:
            return label
        url = reverse("admin:security_gatewayuser_change", args=[quote(record.impersonator_id)])
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="impersonated user", ordering="impersonated_email")
    def impersonated(self, record: ImpersonationRecord) -> str:
        url = reverse(
            "admin:security_gatewayuser_change", args=[quote(record.impersonated_user_id)]
        )
        return format_html(
            '<a href="{}">{}</a>',
            url,
            presentation.breakable(record.impersonated_email or "(no email)"),
        )

    @admin.display(description="tenant", ordering="tenant_name")
    def tenant(self, record: ImpersonationRecord) -> str:
        if record.tenant_id is None:
            return "—"
        return getattr(record, "tenant_name", None) or f"missing tenant {record.tenant_id}"

    @admin.display(description="status")
    def status_label(self, record: ImpersonationRecord) -> str:
        status = record.status
        return format_html('<span class="impersonation-{}">{}</span>', status, status.label)

    @admin.display(description="reviewed", boolean=True)
    def reviewed(self, record: ImpersonationRecord) -> bool:
        return record.reviewed_at is not None

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        actor = actor_of(request)
        if actor is None or not actor.can(self.capability):
            raise self.deny(request, "list")
        # Every view of the page records what the gateway has now, before it is gone.
        impersonation_capture.capture_impersonations()
        since, until = filters.started_range(request.GET)
        events = selectors.impersonation_audit_events(actor, since, until)
        for event in events:
            event.url = admin_page_url(request, AuditLog, event.pk)  # type: ignore[attr-defined]
        cells.name_people(actor, self.capability, events)
        context = {
            **(extra_context or {}),
            "impersonation_events": events,
            # What the panel's window really is, so the page can say it beside the list's count.
            "events_since": since or timezone.now() - selectors.DEFAULT_EVENTS_WINDOW,
            "events_until": until,
            "events_range_chosen": since is not None or until is not None,
            "events_limit": selectors.IMPERSONATION_EVENTS_LIMIT,
        }
        return super().changelist_view(request, context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        actor = actor_of(request)
        if actor is None or not actor.can(self.capability):
            raise self.deny(request, "view")
        impersonation_capture.capture_impersonations()
        record = selectors.access_impersonation(actor, unquote(object_id))
        audit_entries = selectors.impersonation_audit_activity(actor, record)
        for entry in audit_entries:
            entry.url = admin_page_url(request, AuditLog, entry.pk)  # type: ignore[attr-defined]
        cells.name_people(actor, self.capability, audit_entries)
        requests = selectors.impersonation_request_activity(actor, record)
        for row in requests:
            row.url = admin_page_url(request, RequestLog, row.pk)  # type: ignore[attr-defined]
            row.server_url = (  # type: ignore[attr-defined]
                admin_page_url(request, McpServer, row.server_id) if row.server_id else None
            )
        start, end = selectors.impersonation_window(record)
        context = {
            **(extra_context or {}),
            "record": record,
            "window_start": start,
            "window_end": end,
            "audit_entries": audit_entries,
            "request_entries": requests,
            "activity_limit": selectors.ACTIVITY_LIMIT,
            "can_end": record.status == ImpersonationStatus.ACTIVE,
            "end_url": reverse("security:impersonation_end", args=[record.pk]),
            "review_url": reverse("security:impersonation_review", args=[record.pk]),
            "impersonated_url": reverse(
                "admin:security_gatewayuser_change", args=[quote(record.impersonated_user_id)]
            ),
        }
        return super().change_view(request, object_id, form_url, context)
