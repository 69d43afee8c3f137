"""What a page answers once a confirmed operation was recorded as a four-eyes request."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalRequest
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.roles import Actor

Outcome = TypeVar("Outcome")


def sent_for_approval(request: HttpRequest, approval: ApprovalRequest) -> HttpResponse:
    """Say that nothing changed yet and who must approve, then show the request's page."""
    expires = timezone.localtime(approval.expires_at).strftime("%Y-%m-%d %H:%M %Z")
    messages.success(
        request,
        f"Sent for approval as request #{approval.pk}: {approval.why} Nothing has changed yet; "
        f"the request expires {expires}.",
    )
    return redirect("approvals:detail", approval.pk)


def ask(
    request: HttpRequest,
    attempt: Attempt[Any],
    *,
    actor: Actor,
    operation: AuditAction,
    params: dict[str, Any],
    target_ids: Sequence[object],
    title: str,
    preview: Sequence[str],
    why: str,
    tenant_id: uuid.UUID | None = None,
) -> HttpResponse | None:
    """Record a confirmed operation as a request; the redirect to it, or None once the reason it
    was refused is on the form (``Attempt``)."""
    approval = attempt(
        lambda: services.request_approval(
            actor=actor,
            operation=operation,
            params=params,
            target_ids=[str(pk) for pk in target_ids],
            title=title,
            preview=list(preview),
            why=why,
            tenant_id=tenant_id,
        )
    )
    return None if approval is None else sent_for_approval(request, approval)


def ask_or_carry_out(
    request: HttpRequest,
    attempt: Attempt[Any],
    *,
    actor: Actor,
    why: str | None,
    operation: AuditAction,
    params: dict[str, Any],
    target_ids: Sequence[object],
    title: str,
    preview: Callable[[], Sequence[str]],
    tenant_id: uuid.UUID | None,
    carry_out: Callable[[], Outcome],
    done: Callable[[Outcome], HttpResponse],
) -> HttpResponse | None:
    """A confirmed operation: sent for approval when ``why`` says it needs a second person,
    otherwise carried out and reported by ``done``. The response, or None once the reason it
    was refused is on the form (``Attempt``), for the page to show again. ``preview`` is only
    worded for a request."""
    if why:
        return ask(
            request,
            attempt,
            actor=actor,
            operation=operation,
            params=params,
            target_ids=target_ids,
            title=title,
            preview=preview(),
            why=why,
            tenant_id=tenant_id,
        )
    outcome = attempt(carry_out)
    return None if outcome is None else done(outcome)


def one_tenant(tenant_ids: Sequence[uuid.UUID | None]) -> uuid.UUID | None:
    """The tenant the targets share, or None when they are in several (or none)."""
    distinct = set(tenant_ids)
    return distinct.pop() if len(distinct) == 1 else None
