"""The buttons on a server's page: deactivate and reactivate, confirmed first, then audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from approvals import gate
from approvals.policy import sent_note, why_four_eyes
from backoffice import confirmation
from backoffice.access import staff_view
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.roles import Capability
from backoffice.staff_request import StaffRequest
from backoffice.tenancy import access
from registry import services
from registry.forms import ServerActivationForm
from registry.models import McpServer
from security.second_factor.step_up import step_up

SERVERS_TEMPLATE = "registry/_activation_servers.html"


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_REGISTRY)
@step_up(AuditAction.SERVER_DEACTIVATE)
def server_deactivate(request: StaffRequest, server_id: str) -> HttpResponse:
    """Ask for confirmation (GET), then take the server out of routing (POST)."""
    return _set_active(request, server_id, active=False)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_REGISTRY)
def server_reactivate(request: StaffRequest, server_id: str) -> HttpResponse:
    """Ask for confirmation (GET), then put the server back into routing (POST)."""
    return _set_active(request, server_id, active=True)


def _set_active(request: StaffRequest, server_id: str, *, active: bool) -> HttpResponse:
    actor = request.actor
    server = access(McpServer.objects, actor, Capability.MANAGE_REGISTRY, server_id)
    verb = "reactivate" if active else "deactivate"
    form = ServerActivationForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[Any](form)
    title = f"{verb.capitalize()} {server.name}?"
    why = None if active else why_four_eyes(AuditAction.SERVER_DEACTIVATE)
    if form.is_bound and form.is_valid() and why and not server.is_active:
        # A stale form: there is nothing to deactivate, so nothing to ask a second admin.
        messages.info(request, f"{server.name} was already inactive.")
        return redirect("admin:registry_mcpserver_change", server.pk)
    if form.is_bound and form.is_valid():
        change = services.reactivate_server if active else services.deactivate_server

        def done(changed: bool) -> HttpResponse:
            if changed:
                messages.success(request, f"{server.name} was {verb}d.")
            else:
                messages.info(
                    request, f"{server.name} was already {'active' if active else 'inactive'}."
                )
            return redirect("admin:registry_mcpserver_change", server.pk)

        response = gate.ask_or_carry_out(
            request,
            attempt,
            actor=actor,
            why=why,
            operation=AuditAction.SERVER_DEACTIVATE,
            params={"server_ids": [str(server.pk)], "reason": form.cleaned_data["reason"]},
            target_ids=[server.pk],
            title=title,
            preview=lambda: activation_consequences(active=False),
            tenant_id=server.tenant_id,
            carry_out=lambda: change(
                actor=actor, server_id=server.pk, reason=form.cleaned_data["reason"]
            ),
            done=done,
        )
        if response is not None:
            return response
    status = attempt.status if attempt.status != 200 else (400 if form.is_bound else 200)
    return activation_page(
        request,
        [server],
        form=form,
        active=active,
        title=title,
        status=status,
        original=server,
        why=why,
    )


def activation_page(
    request: StaffRequest,
    servers: list[McpServer],
    *,
    form: ServerActivationForm,
    active: bool,
    title: str,
    status: int = 200,
    original: McpServer | None = None,
    hidden: Sequence[tuple[str, str]] = (),
    why: str | None = None,
) -> HttpResponse:
    """The confirmation of a deactivation or reactivation, of one server or of a selection.

    Only taking servers out of routing is destructive, in the admin's red; a selection with
    nothing to change says so and offers no change that would be none. ``why`` (four-eyes,
    ``approvals.policy``) says that confirming sends a request for a second admin instead.
    """
    verb = "reactivate" if active else "deactivate"
    refusal = None
    if not any(server.is_active != active for server in servers):
        state = "active" if active else "inactive"
        refusal = (
            f"This server is already {state}: there is nothing to {verb}."
            if len(servers) == 1
            else f"All selected servers are already {state}: there is nothing to {verb}."
        )
    extra = {"note": sent_note(why)} if why else {}
    return confirmation.confirmation_page(
        request,
        title=title,
        form=form,
        submit_label=f"Yes, {verb}" + (" (send for approval)" if why else ""),
        submit_id=f"confirm-{verb}",
        submit_class="default" if active else "",
        opts=McpServer._meta,
        original=original,
        consequences=activation_consequences(active=active),
        refusal=refusal,
        refusal_id="nothing-to-change",
        status=status,
        hidden=hidden,
        subjects_template=SERVERS_TEMPLATE,
        servers=servers,
        active=active,
        stylesheets=("monitoring/monitoring.css", "registry/registry.css"),
        body_class="reactivate-confirmation" if active else "delete-confirmation",
        **extra,
    )


def activation_consequences(*, active: bool) -> list[str]:
    return [
        "Reactivating puts these servers back into the gateway's routing. Their health checks "
        "resume on the gateway's schedule."
        if active
        else "Deactivating takes these servers out of the gateway's routing: clients stop "
        "reaching their tools and resources until a staff member reactivates them."
    ]
