"""Reads of four-eyes requests, already narrowed to what the viewer may see.

A request is visible to the person who asked for it, to the one who decided it, and to anyone who
could decide it (the operation's capability and its targets within their reach, which is also
the tenant scoping: a target outside the viewer's tenant scope is out of reach).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from approvals.kinds import KINDS
from approvals.models import ApprovalRequest, ApprovalStatus
from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor
from backoffice.staff_audit import record_denied

# The page lists at most this many pending requests; four-eyes operations are rare by design.
PENDING_LIMIT = 200


def _pending() -> QuerySet[ApprovalRequest]:
    # Uses index: approval_requests_pending (status, expires_at)
    return ApprovalRequest.objects.filter(
        status=ApprovalStatus.PENDING, expires_at__gt=timezone.now()
    ).order_by("expires_at")


def pending_for_approver(actor: Actor) -> list[ApprovalRequest]:
    """Pending requests of others that ``actor`` may approve now."""
    return [
        approval
        for approval in _pending().exclude(requested_by_id=actor.actor_id)[:PENDING_LIMIT]
        if KINDS[approval.operation].refusal(actor, approval.params) is None
    ]


def pending_of_requester(actor: Actor) -> list[ApprovalRequest]:
    """The pending requests ``actor`` asked for, which they may withdraw."""
    return list(_pending().filter(requested_by_id=actor.actor_id)[:PENDING_LIMIT])


def may_see(actor: Actor, approval: ApprovalRequest) -> bool:
    if actor.actor_id in (approval.requested_by_id, approval.decided_by_id):
        return True
    return KINDS[approval.operation].refusal(actor, approval.params) is None


def access_request(actor: Actor, approval_id: int) -> ApprovalRequest | None:
    """The request if ``actor`` may see it; None (a 404, recorded as denied) otherwise."""
    approval = ApprovalRequest.objects.filter(pk=approval_id).first()
    if approval is not None and may_see(actor, approval):
        return approval
    record_denied(
        actor=actor,
        action=AuditAction.STAFF_ACCESS,
        resource_type="approval_request",
        resource_id=approval_id,
        details={"reason": "not found or out of reach"},
    )
    return None
