"""The tenant list and a tenant's page: its lifecycle buttons and the way to everything it owns."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from audit.history import AuditHistoryMixin
from backoffice.admin_base import ScopedModelAdmin, actor_of
from backoffice.roles import Actor, Capability
from tenants import selectors
from tenants.models import Tenant, TenantStatus


@admin.register(Tenant)
class TenantAdmin(AuditHistoryMixin, ScopedModelAdmin):
    capability = Capability.VIEW_TENANTS
    history_resource_type = "tenant"
    list_display = ["name", "slug", "status", "plan", "max_servers", "max_api_keys", "created_at"]
    list_filter = ["status", "plan"]
    search_fields = ["name", "slug"]
    readonly_fields = [f.name for f in Tenant._meta.fields]
    change_form_template = "tenants/tenant_change_form.html"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        actor = actor_of(request)
        extra = dict(extra_context or {})
        if actor is not None and self._can(request):
            tenant = self.get_object(request, object_id)
            if tenant is not None:
                extra["lifecycle_links"] = lifecycle_links(actor, tenant)
                extra["tenant_links"] = tenant_links(actor, tenant)
        return super().change_view(request, object_id, form_url, extra)


def lifecycle_links(actor: Actor, tenant: Tenant) -> list[dict[str, Any]]:
    """The status changes and the edit page offered on a tenant's page (admins only)."""
    if not actor.can(Capability.MANAGE_TENANTS):
        return []
    links: list[dict[str, Any]] = [
        {"label": "Edit plan, limits, settings", "name": "tenant_edit", "danger": False}
    ]
    if tenant.status in (TenantStatus.ACTIVE, TenantStatus.TRIAL):
        links.append({"label": "Suspend", "name": "tenant_suspend", "danger": True})
    else:
        links.append({"label": "Reactivate", "name": "tenant_reactivate", "danger": False})
    if tenant.status != TenantStatus.ARCHIVED:
        links.append({"label": "Archive", "name": "tenant_archive", "danger": True})
    for link in links:
        link["url"] = reverse(f"tenants:{link['name']}", args=[tenant.pk])
        link["id"] = str(link["name"]).replace("_", "-")
    return links


def tenant_links(actor: Actor, tenant: Tenant) -> list[dict[str, Any]]:
    """Links to the tenant's users, keys, servers, usage and audit entries: those the actor may
    open, each list filtered to this tenant (a tenant admin's lists hold only it already)."""
    impact = selectors.tenant_impact(tenant)
    in_tenant = "?" + urlencode({"tenant": tenant.pk})
    candidates = [
        (
            Capability.MODERATE_USERS,
            "users",
            "Users",
            reverse("admin:security_gatewayuser_changelist") + in_tenant,
            impact.users,
        ),
        (
            Capability.MANAGE_API_KEYS,
            "keys",
            "API keys",
            reverse("admin:security_apikey_changelist")
            + (in_tenant if actor.is_platform_wide(Capability.MANAGE_API_KEYS) else ""),
            impact.keys,
        ),
        (
            Capability.VIEW_REGISTRY,
            "servers",
            "Servers",
            reverse("admin:registry_mcpserver_changelist") + in_tenant,
            impact.servers,
        ),
        (
            Capability.VIEW_ANALYTICS,
            "usage",
            "Usage",
            reverse("monitoring:tenant_usage", args=[tenant.pk]),
            None,
        ),
        (
            Capability.VIEW_AUDIT_LOGS,
            "audit",
            "Audit entries (in the explorer)",
            reverse("audit:audit_log_list") + in_tenant,
            None,
        ),
        (
            Capability.VIEW_TENANTS,
            "history",
            "Changes to this tenant (its history)",
            reverse("admin:tenants_tenant_history", args=[tenant.pk]),
            None,
        ),
    ]
    return [
        {"name": name, "label": label, "url": url, "count": count}
        for capability, name, label, url, count in candidates
        if actor.can(capability)
    ]
