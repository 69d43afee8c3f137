"""The four-eyes pages: requests waiting for the viewer, and one request with its decision.

The list shows the pending requests of others that the viewer may approve (the operation's
capability, its targets within reach, never their own) and the viewer's own pending requests,
which they may withdraw. A request's page shows the preview its requester saw; a POST decides it
through ``approvals.services`` (approve, refuse, withdraw), mapped by ``Attempt``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from approvals import selectors, services
from approvals.models import ApprovalRequest, ApprovalStatus
from backoffice.access import staff_view
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.roles import Capability
from backoffice.staff_request import StaffRequest
from security.second_factor.step_up import step_up


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("refuse", "Refuse"), ("withdraw", "Withdraw")]
    )
    note = forms.CharField(
        required=False,
        max_length=services.MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Why you refuse (optional; kept with the request and in the audit log).",
    )


@staff_view(Capability.DECIDE_APPROVALS)
@require_http_methods(["GET"])
def pending(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    context = {
        **admin.site.each_context(request),
        "title": "Requests waiting for approval",
        "to_approve": selectors.pending_for_approver(actor),
        "mine": selectors.pending_of_requester(actor),
    }
    return TemplateResponse(request, "approvals/pending.html", context)


@staff_view(Capability.DECIDE_APPROVALS)
@step_up(AuditAction.APPROVAL_APPROVE)
@require_http_methods(["GET", "POST"])
def detail(request: StaffRequest, approval_id: int) -> HttpResponse:
    actor = request.actor
    approval = selectors.access_request(actor, approval_id)
    if approval is None:
        raise Http404("No such approval request.")
    form = DecisionForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[services.Decision](form)
    if request.method == "POST" and form.is_valid():
        decide = {
            "approve": lambda: services.approve(actor=actor, approval_id=approval.pk),
            "refuse": lambda: services.refuse_request(
                actor=actor, approval_id=approval.pk, note=form.cleaned_data["note"]
            ),
            "withdraw": lambda: services.withdraw(actor=actor, approval_id=approval.pk),
        }[form.cleaned_data["decision"]]
        decision = attempt(decide)
        if decision is not None:
            (messages.success if decision.done else messages.warning)(request, decision.message)
            return redirect("approvals:detail", approval.pk)
        approval.refresh_from_db()
    return TemplateResponse(
        request,
        "approvals/detail.html",
        _detail_context(request, approval, form),
        status=attempt.status,
    )


def _detail_context(
    request: StaffRequest, approval: ApprovalRequest, form: DecisionForm
) -> dict[str, Any]:
    actor = request.actor
    waiting = approval.status == ApprovalStatus.PENDING
    own = approval.requested_by_id == actor.actor_id
    return {
        **admin.site.each_context(request),
        "title": f"Request #{approval.pk}: {approval.title}",
        "approval": approval,
        "form": form,
        "can_decide": waiting and not own and services.may_decide(actor, approval) is None,
        "can_withdraw": waiting and own,
        "own": own,
    }
