"""What the user list's bulk actions share: four-eyes asks, refusals, hidden fields, reports."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest, HttpResponse

from approvals import gate
from approvals.policy import why_four_eyes
from backoffice.admin_base import actor_of
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.roles import parse_roles
from security.models import GatewayUser
from security.moderation import confirm_pages, rules, services


def why(action: AuditAction, users: list[GatewayUser]) -> str | None:
    """Why acting on this selection needs a second person (approvals.policy), or None."""
    return why_four_eyes(action, target_roles=[parse_roles(user.role) for user in users])


def ask(
    request: HttpRequest,
    attempt: Attempt[Any],
    action: AuditAction,
    users: list[GatewayUser],
    params: dict[str, Any],
    title: str,
    why: str,
) -> HttpResponse | None:
    """Record the confirmed bulk action as a four-eyes request instead of carrying it out."""
    consequences = {
        AuditAction.USER_BAN: confirm_pages.ban_consequences,
        AuditAction.USER_UNBAN: confirm_pages.unban_consequences,
        AuditAction.SESSION_REVOKE_ALL: confirm_pages.revoke_consequences,
    }[action]
    return gate.ask(
        request,
        attempt,
        actor=actor_of(request),  # type: ignore[arg-type]
        operation=action,
        params={"user_ids": [user.pk for user in users], **params},
        target_ids=[user.pk for user in users],
        title=title,
        preview=consequences(users),
        why=why,
        tenant_id=gate.one_tenant([user.tenant_id for user in users]),
    )


def refusals(actor: Any, users: list[GatewayUser], action: AuditAction) -> str | None:
    """Why the selection may not be acted on, said before the form: one refused user stops all."""
    refusals = [
        refusal
        for user in users
        if (refusal := rules.moderation_refusal(actor, user, action)) is not None
    ]
    return " ".join(refusals) or None


def hidden(action: str, users: list[GatewayUser]) -> list[tuple[str, str]]:
    return [
        ("action", action),
        ("post", "yes"),
        *((ACTION_CHECKBOX_NAME, str(user.pk)) for user in users),
    ]


def report(request: HttpRequest, outcome: services.Outcome, done: str, already: str) -> None:
    if outcome.changed:
        text = f"{done} {len(outcome.changed)} user(s): {', '.join(outcome.changed[:10])}"
        if len(outcome.changed) > 10:
            text += ", …"
        if outcome.sessions_deleted:
            text += f"; {outcome.sessions_deleted} session(s) deleted"
        messages.success(request, text + ".")
    if outcome.amended:
        messages.success(
            request,
            f"Changed the ban of {len(outcome.amended)} user(s), still in force: "
            f"{', '.join(outcome.amended[:10])}"
            + (", …" if len(outcome.amended) > 10 else "")
            + ".",
        )
    if outcome.unchanged:
        messages.info(
            request,
            f"Left alone, {already}: {', '.join(outcome.unchanged[:10])}"
            + (", …" if len(outcome.unchanged) > 10 else "")
            + ".",
        )
