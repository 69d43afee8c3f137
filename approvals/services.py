"""Four-eyes requests: asked by one staff member, carried out when a different one approves.

Every change here runs in one transaction with its audit row (``approval.request``,
``approval.approve``, ``approval.refuse``, ``approval.withdraw``, ``approval.expire``), and every
decision locks the request's row first, so two approvers at once carry it out once.

Approving re-checks both people, under the same rules as the operation done directly:

- the approver: they must hold the operation's capability and have its targets within reach
  (``backoffice.roles.person_refusal``), and not be the requester. If not, nothing changes (the
  request stays pending for someone who may) and the attempt is recorded as ``denied``;
- the requester, as they are now (their current roles, not banned or switched off): a request
  whose author lost the power to ask for it is refused with the reason. Four-eyes means two
  people who may each do it agree; a demoted requester's request must not outlive the demotion;
- then the operation runs through its own service with the approver as the actor, which checks
  the approver again under the service's row locks. A refusal or an error there marks the
  request refused with its reason, and the service's denied rows are kept.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from approvals.kinds import KINDS
from approvals.models import ApprovalRequest, ApprovalStatus
from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, NotFound, Refused, audited_change, refuse
from backoffice.roles import Actor, Role, parse_roles
from backoffice.staff_audit import record_staff_action
from security.authentication import refusal_for
from security.models import GatewayUser

OWN_REQUEST = "You asked for this: a different staff member must approve or refuse it."
MAX_NOTE_LENGTH = 500
RESOURCE = "approval_request"


@dataclass
class Decision:
    """What a decision did, for the page's message: ``done`` is False when it could not be made
    as asked (the request had expired, or the re-check refused it)."""

    approval: ApprovalRequest
    message: str
    done: bool


def lifetime() -> dt.timedelta:
    return dt.timedelta(hours=settings.FOUR_EYES_REQUEST_HOURS)


def request_approval(
    *,
    actor: Actor,
    operation: AuditAction,
    params: dict[str, Any],
    target_ids: list[str],
    title: str,
    preview: list[str],
    why: str,
    tenant_id: uuid.UUID | None = None,
) -> ApprovalRequest:
    """Record ``operation`` as a request for a second staff member; nothing else changes.

    The requester must be allowed to do it now (``Refused`` otherwise, recorded).
    """
    kind = KINDS[operation.value]
    refusal = kind.refusal(actor, params)
    if refusal is not None:
        # Refused as the operation itself would be: the denied row names the operation.
        raise refuse(
            actor,
            operation,
            f"{refusal} Nothing was changed.",
            resource_type=kind.resource_type,
            resource_id=target_ids[0] if len(target_ids) == 1 else None,
            tenant_id=tenant_id,
            target_ids=target_ids[:50],
            four_eyes_request=True,
        )
    now = timezone.now()
    with audited_change():
        approval = ApprovalRequest.objects.create(
            operation=operation.value,
            target_ids=target_ids,
            params=params,
            title=title,
            preview=list(preview),
            why=why,
            tenant_id=tenant_id,
            requested_by_id=actor.actor_id,
            requested_by_name=actor.display_name,
            requested_at=now,
            expires_at=now + lifetime(),
        )
        _record(actor, AuditAction.APPROVAL_REQUEST, approval, why=why, params=params)
    return approval


def approve(*, actor: Actor, approval_id: int) -> Decision:
    """Carry out a pending request as ``actor``, after the checks in the module's docstring."""
    with audited_change():
        approval = _lock(approval_id)
        _refuse_unless_decider(actor, approval, AuditAction.APPROVAL_APPROVE)
        now = timezone.now()
        if approval.expires_at <= now:
            return _expire(actor, approval, now)
        kind = KINDS[approval.operation]
        requester = requester_now(approval)
        requester_refusal = (
            "The requester no longer has a back-office role."
            if requester is None
            else kind.refusal(requester, approval.params)
        )
        if requester_refusal is not None:
            return _refuse_request(
                actor, approval, now, f"The requester may no longer do this: {requester_refusal}"
            )
        try:
            # The service's own ``audited_change`` is a savepoint here: a refusal rolls back its
            # change only, and its denied rows, written after that rollback, commit with ours.
            outcome = kind.carry_out(actor, approval.params)
        except Refused as refused:
            refused.record()
            return _refuse_request(actor, approval, now, str(refused))
        except (Invalid, NotFound) as problem:
            return _refuse_request(actor, approval, now, str(problem))
        _decide(approval, actor, ApprovalStatus.CARRIED_OUT, now, outcome)
        _record(
            actor,
            AuditAction.APPROVAL_APPROVE,
            approval,
            requested_by=approval.requested_by_id,
            outcome=outcome,
        )
        return Decision(approval, f"Approved and carried out: {outcome}", True)


def refuse_request(*, actor: Actor, approval_id: int, note: str = "") -> Decision:
    """Refuse a pending request: someone who could approve it says no (with an optional note)."""
    note = _clean_note(note)
    with audited_change():
        approval = _lock(approval_id)
        _refuse_unless_decider(actor, approval, AuditAction.APPROVAL_REFUSE)
        now = timezone.now()
        if approval.expires_at <= now:
            return _expire(actor, approval, now)
        reason = f"Refused by {actor.display_name}" + (f": {note}" if note else ".")
        decision = _refuse_request(actor, approval, now, reason)
        decision.done = True
        return decision


def withdraw(*, actor: Actor, approval_id: int) -> Decision:
    """The requester takes back a pending request; nobody else may."""
    with audited_change():
        approval = _lock(approval_id)
        if approval.requested_by_id != actor.actor_id:
            raise refuse(
                actor,
                AuditAction.APPROVAL_WITHDRAW,
                "Only the staff member who asked for it may withdraw a request.",
                resource_type=RESOURCE,
                resource_id=approval.pk,
                tenant_id=approval.tenant_id,
            )
        _require_pending(approval)
        now = timezone.now()
        _decide(approval, actor, ApprovalStatus.WITHDRAWN, now, "Withdrawn by the requester.")
        _record(actor, AuditAction.APPROVAL_WITHDRAW, approval)
        return Decision(approval, f"Withdrew request #{approval.pk}.", True)


def expire_overdue(*, actor: Actor, now: dt.datetime | None = None) -> list[ApprovalRequest]:
    """Mark every pending request past its end expired, each with its audit row, in one
    transaction; rows another transaction is deciding are left to it."""
    now = now or timezone.now()
    with audited_change():
        overdue = list(
            ApprovalRequest.objects.select_for_update(skip_locked=True)
            .filter(status=ApprovalStatus.PENDING, expires_at__lte=now)
            .order_by("pk")
        )
        for approval in overdue:
            _expire(actor, approval, now)
    return overdue


def may_decide(actor: Actor, approval: ApprovalRequest) -> str | None:
    """Why ``actor`` may not approve or refuse this request, or None when they may."""
    if approval.requested_by_id == actor.actor_id:
        return OWN_REQUEST
    return KINDS[approval.operation].refusal(actor, approval.params)


def requester_now(approval: ApprovalRequest) -> Actor | None:
    """The requester as they are now (current roles), or None when they may no longer sign in."""
    requested_by = approval.requested_by_id
    if requested_by.startswith("local:"):
        name = requested_by.removeprefix("local:")
        local = get_user_model().objects.filter(username=name, is_active=True, is_superuser=True)
        if not local.exists():
            return None
        return Actor(
            display_name=approval.requested_by_name,
            roles=frozenset({Role.ADMIN}),
            local_username=name,
        )
    user = GatewayUser.unscoped.filter(pk=requested_by).first()
    if user is None or refusal_for(user) is not None:
        return None
    return Actor(
        display_name=user.email,
        roles=parse_roles(user.role),
        tenant_id=user.tenant_id,
        gateway_user_id=user.pk,
    )


# --- The parts every decision shares -----------------------------------------------------------


def _lock(approval_id: int) -> ApprovalRequest:
    approval = ApprovalRequest.objects.select_for_update().filter(pk=approval_id).first()
    if approval is None:
        raise NotFound(f"No approval request {approval_id}.")
    return approval


def _refuse_unless_decider(actor: Actor, approval: ApprovalRequest, action: AuditAction) -> None:
    refusal = may_decide(actor, approval)
    if refusal is not None:
        raise refuse(
            actor,
            action,
            refusal,
            resource_type=RESOURCE,
            resource_id=approval.pk,
            tenant_id=approval.tenant_id,
            operation=approval.operation,
        )
    _require_pending(approval)


def _require_pending(approval: ApprovalRequest) -> None:
    if approval.status != ApprovalStatus.PENDING:
        label = ApprovalStatus(approval.status).label.lower()
        raise Invalid(f"This request is no longer waiting: it was {label}.")


def _expire(actor: Actor, approval: ApprovalRequest, now: dt.datetime) -> Decision:
    _decide(
        approval,
        None,
        ApprovalStatus.EXPIRED,
        now,
        f"Expired at {approval.expires_at:%Y-%m-%d %H:%M %Z} without a decision.",
    )
    _record(actor, AuditAction.APPROVAL_EXPIRE, approval, expires_at=approval.expires_at)
    return Decision(approval, f"Nothing changed: {approval.outcome}", False)


def _refuse_request(
    actor: Actor, approval: ApprovalRequest, now: dt.datetime, reason: str
) -> Decision:
    _decide(approval, actor, ApprovalStatus.REFUSED, now, reason)
    _record(actor, AuditAction.APPROVAL_REFUSE, approval, reason=reason)
    return Decision(approval, f"Nothing changed: the request was refused. {reason}", False)


def _decide(
    approval: ApprovalRequest,
    actor: Actor | None,
    status: ApprovalStatus,
    now: dt.datetime,
    outcome: str,
) -> None:
    approval.status = status
    approval.decided_at = now
    approval.decided_by_id = actor.actor_id if actor else ""
    approval.decided_by_name = actor.display_name if actor else ""
    approval.outcome = outcome
    approval.save(
        update_fields=["status", "decided_at", "decided_by_id", "decided_by_name", "outcome"]
    )


def _record(actor: Actor, action: AuditAction, approval: ApprovalRequest, **details: Any) -> None:
    record_staff_action(
        actor=actor,
        action=action,
        resource_type=RESOURCE,
        resource_id=approval.pk,
        tenant_id=approval.tenant_id,
        details={
            "operation": approval.operation,
            "target_ids": approval.target_ids[:50],
            "title": approval.title,
            **details,
        },
    )


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if "\x00" in note:
        raise Invalid("The note cannot contain NUL characters.")
    if len(note) > MAX_NOTE_LENGTH:
        raise Invalid(f"The note is too long (at most {MAX_NOTE_LENGTH} characters).")
    return note
