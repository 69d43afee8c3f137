"""A tenant's lifecycle buttons (suspend, reactivate, archive) and its edit page.

Each status change shows what it touches first (users, keys, servers, counted) and what it does
and does not do to them, then a confirmed POST calls ``tenants.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from backoffice import confirmation
from backoffice.access import staff_view
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.roles import Capability
from backoffice.staff_request import StaffRequest
from tenants import selectors, services
from tenants.forms import TenantEditForm, TenantStatusForm
from tenants.models import Tenant
from tenants.selectors import TenantImpact

IMPACT_TEMPLATE = "tenants/_impact.html"
VERBS = {
    AuditAction.TENANT_SUSPEND: ("Suspend", "suspended", services.suspend_tenant),
    AuditAction.TENANT_REACTIVATE: ("Reactivate", "reactivated", services.reactivate_tenant),
    AuditAction.TENANT_ARCHIVE: ("Archive", "archived", services.archive_tenant),
}


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_TENANTS)
def tenant_suspend(request: StaffRequest, tenant_id: str) -> HttpResponse:
    """Ask for confirmation and a reason (GET), then suspend the tenant (POST)."""
    return _change_status(request, tenant_id, AuditAction.TENANT_SUSPEND)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_TENANTS)
def tenant_reactivate(request: StaffRequest, tenant_id: str) -> HttpResponse:
    """Ask for confirmation (GET), then make the tenant active again (POST)."""
    return _change_status(request, tenant_id, AuditAction.TENANT_REACTIVATE)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_TENANTS)
def tenant_archive(request: StaffRequest, tenant_id: str) -> HttpResponse:
    """Ask for confirmation and a reason (GET), then archive the tenant (POST)."""
    return _change_status(request, tenant_id, AuditAction.TENANT_ARCHIVE)


def _change_status(request: StaffRequest, tenant_id: str, action: AuditAction) -> HttpResponse:
    actor = request.actor
    tenant = selectors.access_tenant(actor, tenant_id, Capability.MANAGE_TENANTS)
    label, done, operation = VERBS[action]
    form = TenantStatusForm(
        request.POST if request.method == "POST" else None,
        reason_required=action is not AuditAction.TENANT_REACTIVATE,
    )
    attempt = Attempt[Tenant](form, invalid_status=400)
    if form.is_bound and form.is_valid():
        changed = attempt(
            lambda: operation(actor=actor, tenant_id=tenant.pk, reason=form.cleaned_data["reason"])
        )
        if changed is not None:
            messages.success(request, f"{tenant.name} was {done}.")
            return redirect("admin:tenants_tenant_change", tenant.pk)
    status = attempt.status if attempt.status != 200 else (400 if form.is_bound else 200)
    impact = selectors.tenant_impact(tenant)
    return confirmation.confirmation_page(
        request,
        title=f"{label} {tenant.name}?",
        form=form,
        submit_label=f"Yes, {label.lower()}",
        submit_id=f"confirm-{label.lower()}",
        submit_class="default" if action is AuditAction.TENANT_REACTIVATE else "",
        opts=Tenant._meta,
        original=tenant,
        consequences=consequences(tenant, action, impact),
        refusal=services.status_refusal(tenant, action),
        refusal_id="nothing-to-change",
        status=status,
        subjects_template=IMPACT_TEMPLATE,
        impact=impact,
        tenant=tenant,
        body_class="reactivate-confirmation"
        if action is AuditAction.TENANT_REACTIVATE
        else "delete-confirmation",
    )


def consequences(tenant: Tenant, action: AuditAction, impact: TenantImpact) -> list[str]:
    """What a status change does, and what it leaves alone, in numbers."""
    target, _sources = services.TRANSITIONS[action]
    lines = [f"{tenant.name} becomes {target} (it is {tenant.status} now)."]
    keys = (
        f"Its {impact.usable_keys} usable API key(s) (of {impact.keys}) are not revoked: they "
        "stay active in the database. "
    )
    if action is AuditAction.TENANT_REACTIVATE:
        lines.append(
            "It can get new and renewed API keys again, up to its limit of "
            f"{tenant.max_api_keys}. {keys}The suspension reason is removed from its settings."
        )
    else:
        lines.append(
            keys + "While it is " + str(target) + " the back office creates, rotates or renews "
            "no key for it. The contract does not say whether the gateway refuses a key of a "
            f"{target} tenant: if its keys must stop working now, revoke them on its keys page."
        )
        lines.append(
            f"Its {impact.users} user(s) ({impact.active_users} active) are not banned and keep "
            f"their sessions; its {impact.active_servers} active server(s) (of "
            f"{impact.servers}) stay in routing. Deactivate servers or ban users separately if "
            "needed."
        )
    if action is AuditAction.TENANT_SUSPEND:
        lines.append("The reason is kept in its settings (suspension_reason) and the audit log.")
    if action is AuditAction.TENANT_ARCHIVE:
        lines.append("Nothing is deleted: its rows and history stay; Reactivate undoes it.")
    return lines


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_TENANTS)
def tenant_edit(request: StaffRequest, tenant_id: str) -> HttpResponse:
    """The tenant's plan, limits and settings; saved with before and after in the audit log."""
    actor = request.actor
    tenant = selectors.access_tenant(actor, tenant_id, Capability.MANAGE_TENANTS)
    current = dict(tenant.settings or {})
    if request.method == "POST":
        form = TenantEditForm(request.POST, current_settings=current)
    else:
        form = TenantEditForm(initial=TenantEditForm.initial_for(tenant), current_settings=current)
    attempt = Attempt[dict[str, Any]](form, invalid_status=400)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        changes = attempt(
            lambda: services.update_tenant(
                actor=actor,
                tenant_id=tenant.pk,
                plan=data["plan"],
                max_api_keys=data["max_api_keys"],
                max_servers=data["max_servers"],
                settings=data["settings"],
            )
        )
        if changes is not None:
            if changes:
                messages.success(request, f"{tenant.name}: changed {', '.join(changes)}.")
            else:
                messages.info(request, f"{tenant.name}: nothing changed.")
            return redirect("admin:tenants_tenant_change", tenant.pk)
    status = attempt.status if attempt.status != 200 else (400 if form.is_bound else 200)
    context = {
        **admin.site.each_context(request),
        "title": f"Edit {tenant.name}",
        "opts": Tenant._meta,
        "tenant": tenant,
        "form": form,
    }
    return TemplateResponse(request, "tenants/tenant_edit.html", context, status=status)
