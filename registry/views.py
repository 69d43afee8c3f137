"""The buttons on a server's page: deactivate and reactivate, confirmed first, then audited."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from backoffice.access import staff_view
from backoffice.confirmation import Attempt
from backoffice.roles import Capability
from backoffice.tenancy import access
from registry import services
from registry.forms import ServerActivationForm
from registry.models import McpServer


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_REGISTRY)
def server_deactivate(request: HttpRequest, server_id: str) -> HttpResponse:
    """Ask for confirmation (GET), then take the server out of routing (POST)."""
    return _set_active(request, server_id, active=False)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_REGISTRY)
def server_reactivate(request: HttpRequest, server_id: str) -> HttpResponse:
    """Ask for confirmation (GET), then put the server back into routing (POST)."""
    return _set_active(request, server_id, active=True)


def _set_active(request: HttpRequest, server_id: str, *, active: bool) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    server = access(McpServer.objects, actor, Capability.MANAGE_REGISTRY, server_id)
    verb = "reactivate" if active else "deactivate"
    form = ServerActivationForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[bool](form, invalid_status=400)
    if form.is_bound and form.is_valid():
        change = services.reactivate_server if active else services.deactivate_server
        changed = attempt(
            lambda: change(actor=actor, server_id=server.pk, reason=form.cleaned_data["reason"])
        )
        if changed is not None:
            if changed:
                messages.success(request, f"{server.name} was {verb}d.")
            else:
                messages.info(
                    request, f"{server.name} was already {'active' if active else 'inactive'}."
                )
            return redirect("admin:registry_mcpserver_change", server.pk)
    context = {
        **admin.site.each_context(request),
        "title": f"{verb.capitalize()} {server.name}?",
        "opts": McpServer._meta,
        "servers": [server],
        "single": True,
        "form": form,
        "verb": verb,
        "active": active,
    }
    status = attempt.status if attempt.status != 200 else (400 if form.is_bound else 200)
    return TemplateResponse(
        request, "registry/server_activation_confirm.html", context, status=status
    )
