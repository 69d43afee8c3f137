"""A four-eyes request: an operation one staff member asked for, waiting for a second one.

A back-office-only table, in the back office's own schema like every managed model here.
"""

from __future__ import annotations

from django.db import models


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    # Approving and carrying out are one transaction: there is no "approved, not yet done".
    CARRIED_OUT = "carried_out", "Approved and carried out"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class ApprovalRequest(models.Model):
    """What was asked (the operation, its targets and its validated parameters, never a secret),
    by whom and until when, and how it was decided."""

    operation = models.CharField(max_length=64)  # an AuditAction code: "user.ban", ...
    target_ids = models.JSONField(default=list)
    params = models.JSONField(default=dict)
    # The confirmation page's title and "What will happen" lines, as the requester saw them.
    title = models.TextField()
    preview = models.JSONField(default=list)
    why = models.TextField()  # why the operation needs a second person
    tenant_id = models.UUIDField(null=True)  # the targets' tenant when they share one
    requested_by_id = models.TextField()  # Actor.actor_id: a gateway user id or "local:<name>"
    requested_by_name = models.TextField()
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    decided_by_id = models.TextField(blank=True, default="")
    decided_by_name = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField(null=True)
    outcome = models.TextField(blank=True, default="")

    class Meta:
        db_table = "approval_requests"
        indexes = [models.Index(fields=["status", "expires_at"], name="approval_requests_pending")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def status_label(self) -> str:
        return ApprovalStatus(self.status).label
