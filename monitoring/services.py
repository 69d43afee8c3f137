"""Audited operations of the analytics pages: an export of numbers leaves a trace."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor
from backoffice.staff_audit import record_staff_action


def record_analytics_export(
    *,
    actor: Actor,
    report: str,
    row_count: int,
    parameters: dict[str, Any] | None = None,
    tenant_id: object = None,
) -> None:
    """Record that ``actor`` downloaded ``report`` as CSV: auditors see who took which numbers."""
    with transaction.atomic():
        record_staff_action(
            actor=actor,
            action=AuditAction.ANALYTICS_EXPORT,
            resource_type="analytics",
            resource_id=report,
            tenant_id=tenant_id,  # type: ignore[arg-type]
            details={"report": report, "rows": row_count, **(parameters or {})},
        )
