"""The one family of errors every staff operation raises, and the one way it is run.

Every change a page, an admin action or a management command asks for goes through a service;
the service answers with a result or with one of three errors, and callers map them once:

- ``Refused``: the actor may not do this (their role, or who the target is). Nothing changed and
  exactly one ``denied`` audit row per refused subject was written. A page answers 403 (its
  form shown again with the reason), a command "Refused: ...".
- ``Invalid``: the request cannot be done as asked (bad input, a state that forbids it). Nothing
  changed; a page shows it as a form error, a command as its message.
- ``NotFound``: the subject is not there, or not visible to the actor. A page answers 404.

A service runs its change inside ``audited_change()``: the change and its audit row commit or
roll back together, and a ``Refused`` raised inside is recorded once the rollback is done, so
its denied row stays.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import record_denied

ROLE_REFUSAL = "Your role does not allow this."


@dataclass
class Denial:
    """One denied audit row to write: who tried what on which subject, and why not."""

    actor: Actor
    action: AuditAction
    resource_type: str = ""
    resource_id: object = None
    tenant_id: uuid.UUID | str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Refused(PermissionDenied):
    """The actor may not do this; nothing changed, and the attempt is audited exactly once.

    A ``PermissionDenied``, so a caller that does not catch it still answers 403.
    """

    def __init__(self, message: str, denials: Sequence[Denial] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.denials = list(denials)
        self.recorded = not self.denials

    def __str__(self) -> str:
        return self.message

    def record(self) -> None:
        """Write the denied rows, once, outside any transaction that is about to roll back."""
        if self.recorded:
            return
        self.recorded = True
        for denial in self.denials:
            record_denied(
                actor=denial.actor,
                action=denial.action,
                resource_type=denial.resource_type,
                resource_id=denial.resource_id,
                tenant_id=denial.tenant_id,
                details=denial.details,
            )


class Invalid(ValueError):
    """The request cannot be done as asked; nothing changed. Shown as a form error."""


class NotFound(LookupError):
    """The subject is not there, or not visible to the actor: a 404, never a hint."""


def refuse(
    actor: Actor,
    action: AuditAction,
    reason: str,
    *,
    resource_type: str = "",
    resource_id: object = None,
    tenant_id: uuid.UUID | str | None = None,
    **details: Any,
) -> Refused:
    """The ``Refused`` to raise for one subject; its denied row is written when it is recorded."""
    denial = Denial(
        actor, action, resource_type, resource_id, tenant_id, {"reason": reason, **details}
    )
    return Refused(reason, [denial])


def require(
    actor: Actor,
    capability: Capability,
    action: AuditAction,
    *,
    resource_type: str = "",
    resource_ids: Sequence[object] = (),
) -> None:
    """Refuse (and record) an actor whose role lacks ``capability``: the first check of all."""
    if actor.can(capability):
        return
    details: dict[str, Any] = {"reason": "role"}
    if resource_ids:
        details["resource_ids"] = [str(pk) for pk in resource_ids][:50]
    refused = Refused(ROLE_REFUSAL, [Denial(actor, action, resource_type, None, None, details)])
    refused.record()
    raise refused


@contextmanager
def audited_change() -> Iterator[None]:
    """The transaction of one operation: its change and its audit row, or neither.

    A ``Refused`` raised inside rolls the transaction back first, then its denied rows are
    written, so they are kept.
    """
    try:
        with transaction.atomic():
            yield
    except Refused as refused:
        refused.record()
        raise
