"""Admin pages of the MCP server registry: servers with their health, tools and resources.

Everyone with ``VIEW_REGISTRY`` reads (tenant admins only their own tenant's servers); only
``MANAGE_REGISTRY`` offers the deactivate/reactivate actions, which confirm first and then call
``registry.services`` like the buttons on a server's page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html

from approvals import gate
from approvals.policy import why_four_eyes
from audit.history import AuditHistoryMixin
from backoffice import presentation
from backoffice.access import staff_action
from backoffice.admin_base import ScopedModelAdmin, actor_of, tenant_filter
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.roles import Capability
from backoffice.staff_request import as_staff_request
from monitoring import charts
from registry import selectors, services, views
from registry.filters import ActiveFilter, HealthCheckFreshnessFilter
from registry.forms import ServerActivationForm
from registry.models import McpServer
from security.second_factor.step_up import step_up_action

# What a server's page shows, every field read-only: changes go through registry.services.
SERVER_FIELDS = (
    "name",
    "tenant",
    "description",
    "endpoint_url",
    "transport_type",
    "version",
    "is_active",
    "health_status",
    "last_health_check_at",
    "consecutive_failures",
    "response_time",
    "success",
    "requests",
    "errors",
    "tags",
    "capabilities",
    "created_at",
    "updated_at",
)


@admin.register(McpServer)
class McpServerAdmin(AuditHistoryMixin, ScopedModelAdmin):
    capability = Capability.VIEW_REGISTRY
    history_resource_type = "mcp_server"
    # Compact enough for 1400px with the nav sidebar open: "active" rides on the health badge,
    # success rate and response time share a cell.
    list_display = (
        "name",
        "tenant",
        "transport",
        "health",
        "last_check",
        "success_and_time",
        "requests",
    )
    list_filter = (
        tenant_filter("tenant_id"),
        "health_status",
        "transport_type",
        ("is_active", ActiveFilter),
        HealthCheckFreshnessFilter,
    )
    search_fields = ("name", "endpoint_url")
    list_select_related = ("tenant",)
    list_per_page = 50
    ordering = ("name",)
    fields = SERVER_FIELDS
    readonly_fields = SERVER_FIELDS
    actions = ("deactivate_selected", "reactivate_selected")
    change_form_template = "registry/server_change_form.html"

    class Media:
        css = {"all": ("monitoring/monitoring.css", "registry/registry.css")}

    # --- columns ---------------------------------------------------------------------------
    @admin.display(description="transport", ordering="transport_type")
    def transport(self, server: McpServer) -> str:
        return server.get_transport_type_display()

    @admin.display(description="health", ordering="health_status")
    def health(self, server: McpServer) -> str:
        badge = format_html(
            '<span class="health health-{}">{}</span>',
            server.health_status,
            server.get_health_status_display(),
        )
        if server.is_active:
            return badge
        return format_html('{} <span class="server-off">inactive</span>', badge)

    @admin.display(description="last check", ordering="last_health_check_at")
    def last_check(self, server: McpServer) -> str:
        stale = selectors.is_check_stale(server)
        if stale is None:
            return format_html('<span class="check-missing">{}</span>', "never")
        checked = server.last_health_check_at
        assert checked is not None  # is_check_stale said it was checked
        # Non-breaking spaces: a narrow column wraps after the dot, never inside "8 min ago".
        return format_html(
            '<span class="{}" title="{}">{}\u00a0· {}</span>',
            "check-stale" if stale else "check-fresh",
            presentation.when(checked),
            "stale" if stale else "fresh",
            presentation.ago(checked, compact=True).replace(" ", "\u00a0"),
        )

    @admin.display(description="success rate", ordering="success_rate")
    def success(self, server: McpServer) -> str:
        return f"{server.success_rate * 100:.1f}%"

    @admin.display(description="avg response", ordering="avg_response_time_ms")
    def response_time(self, server: McpServer) -> str:
        if server.avg_response_time_ms is None:
            return "—"
        return f"{server.avg_response_time_ms:,.0f} ms"

    @admin.display(description="success · avg time", ordering="success_rate")
    def success_and_time(self, server: McpServer) -> str:
        time = self.response_time(server).replace(" ", "\u00a0")
        return f"{self.success(server)}\u00a0· {time}"

    @admin.display(description="requests", ordering="request_count")
    def requests(self, server: McpServer) -> str:
        return f"{server.request_count:,}"

    @admin.display(description="errors", ordering="error_count")
    def errors(self, server: McpServer) -> str:
        return f"{server.error_count:,}"

    # --- the server's page -----------------------------------------------------------------
    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        actor = actor_of(request)
        extra = dict(extra_context or {})
        if self._can(request):
            server = self.get_object(request, object_id)
            if server is not None:
                checks = selectors.health_check_history(actor, server)
                extra.update(
                    health_chart=charts.timeline_chart(
                        f"Last {len(checks)} health checks of {server.name}",
                        [
                            charts.TimelinePoint(
                                check.checked_at, check.response_time_ms, check.status
                            )
                            for check in checks
                        ],
                    ),
                    health_checks=checks[:10],
                    tools=selectors.server_tools(actor, server),
                    resources=selectors.server_resources(actor, server),
                    check_stale=selectors.is_check_stale(server),
                    can_manage=actor is not None and actor.can(Capability.MANAGE_REGISTRY),
                )
        return super().change_view(request, object_id, form_url, extra)

    # --- actions ---------------------------------------------------------------------------
    def response_action(self, request: HttpRequest, queryset: QuerySet[McpServer]) -> Any:
        """Refuse a selection holding something other than server ids, with a message, not a 500."""
        self.refuse_unoffered_action(request)
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if selected and selectors.valid_server_ids(selected) is None:
            self.message_user(
                request, "The selection holds an id that is not a server's.", messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    @staff_action(capability=Capability.MANAGE_REGISTRY, description="Deactivate selected servers")
    @step_up_action(AuditAction.SERVER_DEACTIVATE)
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[McpServer]) -> Any:
        return self._confirm_then_apply(request, queryset, active=False)

    @staff_action(capability=Capability.MANAGE_REGISTRY, description="Reactivate selected servers")
    @step_up_action(AuditAction.SERVER_REACTIVATE)
    def reactivate_selected(self, request: HttpRequest, queryset: QuerySet[McpServer]) -> Any:
        return self._confirm_then_apply(request, queryset, active=True)

    def _confirm_then_apply(
        self, request: HttpRequest, queryset: QuerySet[McpServer], *, active: bool
    ) -> Any:
        actor = actor_of(request)
        assert actor is not None  # get_actions offered the action, so there is an actor
        servers = list(queryset.select_related("tenant").order_by("name"))
        verb = "reactivate" if active else "deactivate"
        form = ServerActivationForm(request.POST if request.POST.get("post") == "yes" else None)
        attempt = Attempt[Any](form, not_found_on_form=True)
        changed = None
        title = f"{verb.capitalize()} servers?"
        why = None if active else why_four_eyes(AuditAction.SERVER_DEACTIVATE)
        if form.is_bound and form.is_valid() and why and not any(s.is_active for s in servers):
            # A stale form: there is nothing to deactivate, so nothing to ask a second admin.
            self.message_user(request, f"{len(servers)} server(s) already inactive.")
            return None
        if form.is_bound and form.is_valid() and why:
            sent = gate.ask(
                request,
                attempt,
                actor=actor,
                operation=AuditAction.SERVER_DEACTIVATE,
                params={
                    "server_ids": [str(server.pk) for server in servers],
                    "reason": form.cleaned_data["reason"],
                },
                target_ids=[server.pk for server in servers],
                title=title,
                preview=views.activation_consequences(active=False),
                why=why,
                tenant_id=gate.one_tenant([server.tenant_id for server in servers]),
            )
            if sent is not None:
                return sent
        elif form.is_bound and form.is_valid():
            change = services.reactivate_servers if active else services.deactivate_servers
            changed = attempt(
                lambda: change(
                    actor=actor,
                    server_ids=[server.pk for server in servers],
                    reason=form.cleaned_data["reason"],
                )
            )
        if changed is not None:
            unchanged = len(servers) - len(changed)
            self.message_user(
                request,
                f"{len(changed)} server(s) {verb}d"
                + (
                    f"; {unchanged} already {'active' if active else 'inactive'}."
                    if unchanged
                    else "."
                ),
                messages.SUCCESS,
            )
            return None
        return views.activation_page(
            as_staff_request(request),
            servers,
            form=form,
            active=active,
            title=title,
            status=attempt.status,
            why=why,
            hidden=[
                ("action", f"{verb}_selected"),
                ("post", "yes"),
                *((helpers.ACTION_CHECKBOX_NAME, str(server.pk)) for server in servers),
            ],
        )
