"""Confirmation pages for moderation: each says what will happen, then calls one service.

Every view declares its capability with ``@staff_view`` (signed in through the admin, 403 and an
audited denial for a role without it); another tenant's user or a malformed id gets 404. Who may
act on whom is ``backoffice.roles.person_refusal``: pages ask it before showing the form (so
nobody fills one in vain, and the roles form offers only grantable roles), the services ask it
again under the row lock. A confirmed POST runs through ``backoffice.confirmation.Attempt``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from approvals import gate
from approvals.policy import why_four_eyes
from backoffice import presentation
from backoffice.access import staff_view
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.operations import NotFound
from backoffice.roles import Actor, Capability, Role, grantable_roles, parse_roles, unknown_roles
from backoffice.staff_request import StaffRequest
from security.models import GatewayUser, ImpersonationRecord, ImpersonationStatus
from security.moderation import rules, selectors, services
from security.moderation.blast_radius import still_alive
from security.moderation.confirm_pages import (
    BAN_SUBJECTS_TEMPLATE,
    ban_consequences,
    confirmation_page,
    impersonation_page_url,
    one_session_consequences,
    revoke_consequences,
    unban_consequences,
    user_page_url,
    when,
)
from security.moderation.forms import BanAndContainForm, ConfirmForm, ReviewForm, RolesForm
from security.moderation.reports import report_ban
from security.second_factor.step_up import step_up

SESSION_GONE = "Nothing changed: {email} has no such session any more (revoked, or it expired)."


# --- The user moderation pages ----------------------------------------------------------------


@staff_view(Capability.MODERATE_USERS)
@step_up(AuditAction.USER_BAN)
@require_http_methods(["GET", "POST"])
def ban_user(request: StaffRequest, user_id: str) -> HttpResponse:
    actor = request.actor
    user = selectors.access_user(actor, user_id)
    refusal = rules.moderation_refusal(actor, user, AuditAction.USER_BAN)
    alive = still_alive(actor, [user])
    form = BanAndContainForm(
        request.POST if request.method == "POST" else None,
        initial=BanAndContainForm.initial_for(user),
        offer_keys=bool(alive[user.pk].keys),
    )
    attempt = Attempt[Any](form)
    in_force = user.ban_in_force()
    title = f"Change the ban of {user.email}" if in_force else f"Ban {user.email}"
    why = why_four_eyes(AuditAction.USER_BAN, target_roles=[parse_roles(user.role)])
    if request.method == "POST" and form.is_valid():
        expires = form.ban_expires()

        def banned(outcome: services.Outcome) -> HttpResponse:
            report_ban(request, outcome)
            return redirect(user_page_url(user.pk))

        response = gate.ask_or_carry_out(
            request,
            attempt,
            actor=actor,
            why=why,
            operation=AuditAction.USER_BAN,
            params={
                "user_ids": [user.pk],
                "reason": form.cleaned_data["reason"],
                "expires_at": expires.isoformat() if expires else None,
            },
            target_ids=[user.pk],
            title=title,
            preview=lambda: ban_consequences([user]),
            tenant_id=user.tenant_id,
            carry_out=lambda: services.ban_user(
                actor=actor,
                user_id=user.pk,
                reason=form.cleaned_data["reason"],
                expires_at=form.ban_expires(),
                revoke_keys=form.revokes_keys(),
            ),
            done=banned,
        )
        if response is not None:
            return response
    return confirmation_page(
        request,
        title=title,
        users=[user],
        consequences=ban_consequences([user]),
        form=form,
        submit_label="Change the ban" if in_force else "Ban",
        refusal=refusal,
        status=attempt.status,
        why=why,
        subjects_template=BAN_SUBJECTS_TEMPLATE,
        alive=alive,
    )


def _report_unban(request: HttpRequest, user: GatewayUser, outcome: services.Outcome) -> None:
    if outcome.changed:
        messages.success(request, f"Lifted the ban of {user.email}.")
    else:
        messages.info(request, f"Nothing changed: {user.email} was not banned.")


def _report_sign_out(request: HttpRequest, user: GatewayUser, outcome: services.Outcome) -> None:
    if outcome.changed:
        deleted = _sessions(outcome.sessions_deleted)
        messages.success(request, f"Signed {user.email} out: {deleted} deleted.")
    else:
        messages.info(request, f"Nothing changed: {user.email} had no sessions.")


@dataclass(frozen=True)
class OneUserOperation:
    """An operation on one user whose page asks for nothing but a yes."""

    operation: AuditAction
    title: str  # formatted with the user's ``email``
    consequences: Callable[[Sequence[GatewayUser]], list[str]]
    submit_label: str
    carry_out: Callable[..., services.Outcome]  # called with ``actor`` and ``user_id``
    report: Callable[[HttpRequest, GatewayUser, services.Outcome], None]


UNBAN = OneUserOperation(
    AuditAction.USER_UNBAN, "Lift the ban of {email}", unban_consequences, "Lift the ban",
    services.unban_user, _report_unban,
)  # fmt: skip
REVOKE_ALL_SESSIONS = OneUserOperation(
    AuditAction.SESSION_REVOKE_ALL, "Revoke all sessions of {email}", revoke_consequences,
    "Revoke all sessions", services.revoke_all_sessions, _report_sign_out,
)  # fmt: skip


@staff_view(Capability.MODERATE_USERS)
@step_up(AuditAction.USER_UNBAN)
@require_http_methods(["GET", "POST"])
def unban_user(request: StaffRequest, user_id: str) -> HttpResponse:
    return _one_user_operation(request, user_id, UNBAN)


@staff_view(Capability.MODERATE_USERS)
@step_up(AuditAction.SESSION_REVOKE_ALL)
@require_http_methods(["GET", "POST"])
def revoke_all_sessions(request: StaffRequest, user_id: str) -> HttpResponse:
    return _one_user_operation(request, user_id, REVOKE_ALL_SESSIONS)


def _one_user_operation(request: StaffRequest, user_id: str, one: OneUserOperation) -> HttpResponse:
    """The confirmation page of ``one`` on the user, then the operation or its four-eyes ask."""
    operation, title, consequences = one.operation, one.title, one.consequences
    actor = request.actor
    user = selectors.access_user(actor, user_id)
    refusal = rules.moderation_refusal(actor, user, operation)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[Any](form)
    why = why_four_eyes(operation, target_roles=[parse_roles(user.role)])
    if request.method == "POST" and form.is_valid():

        def done(outcome: services.Outcome) -> HttpResponse:
            one.report(request, user, outcome)
            return redirect(user_page_url(user.pk))

        response = gate.ask_or_carry_out(
            request,
            attempt,
            actor=actor,
            why=why,
            operation=operation,
            params={"user_ids": [user.pk]},
            target_ids=[user.pk],
            title=title.format(email=user.email),
            preview=lambda: consequences([user]),
            tenant_id=user.tenant_id,
            carry_out=lambda: one.carry_out(actor=actor, user_id=user.pk),
            done=done,
        )
        if response is not None:
            return response
    return confirmation_page(
        request,
        title=title.format(email=user.email),
        users=[user],
        consequences=consequences([user]),
        form=form,
        submit_label=one.submit_label,
        refusal=refusal,
        status=attempt.status,
        why=why,
    )


@staff_view(Capability.MODERATE_USERS)
@require_http_methods(["GET", "POST"])
def revoke_session(request: StaffRequest, user_id: str, session_id: str) -> HttpResponse:
    actor = request.actor
    user = selectors.access_user(actor, user_id)
    if "\x00" in session_id:
        raise Http404("No session has this id.")
    session = next((s for s in selectors.user_sessions(actor, user) if s["id"] == session_id), None)
    if session is None:
        # A second click on "Revoke", or a page opened before the session ended.
        messages.info(request, SESSION_GONE.format(email=user.email))
        return redirect(user_page_url(user.pk))
    refusal = rules.moderation_refusal(actor, user, AuditAction.SESSION_REVOKE)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[Any](form)

    def revoke() -> bool:
        try:
            services.revoke_session(actor=actor, session_id=session_id)
        except NotFound:
            return False
        return True

    expired = bool(session.get("expired"))
    why = why_four_eyes(AuditAction.SESSION_REVOKE, target_roles=[parse_roles(user.role)])
    if request.method == "POST" and form.is_valid():

        def revoked(done: bool) -> HttpResponse:
            if done and expired:
                messages.info(
                    request,
                    f"That session of {user.email} had already expired "
                    f"({when(session['expires_at'])}): its leftover record was deleted; "
                    "nobody was signed out.",
                )
            elif done:
                messages.success(request, f"Revoked one session of {user.email}.")
            else:
                messages.info(request, SESSION_GONE.format(email=user.email))
            return redirect(user_page_url(user.pk))

        response = gate.ask_or_carry_out(
            request,
            attempt,
            actor=actor,
            why=why,
            operation=AuditAction.SESSION_REVOKE,
            params={"session_id": session_id, "user_id": user.pk},
            target_ids=[user.pk],
            title=f"Revoke a session of {user.email}",
            preview=lambda: one_session_consequences(user, session),
            tenant_id=user.tenant_id,
            carry_out=revoke,
            done=revoked,
        )
        if response is not None:
            return response
    return confirmation_page(
        request,
        title=f"Revoke a session of {user.email}",
        users=[user],
        consequences=one_session_consequences(user, session),
        form=form,
        submit_label="Revoke this session",
        refusal=refusal,
        status=attempt.status,
        session=session,
        why=why,
    )


@staff_view(Capability.MODERATE_USERS)
@step_up(AuditAction.USER_ROLE_CHANGE)
@require_http_methods(["GET", "POST"])
def change_roles(request: StaffRequest, user_id: str) -> HttpResponse:
    actor = request.actor
    user = selectors.access_user(actor, user_id)
    refusal = rules.moderation_refusal(actor, user, AuditAction.USER_ROLE_CHANGE)
    current = parse_roles(user.role)
    offered = grantable_roles(actor.roles)
    # Roles the actor may not grant nor remove stay as they are; the form offers the others.
    kept = current - offered
    form = RolesForm(
        request.POST if request.method == "POST" else None,
        offered=offered,
        initial={"roles": sorted(role.value for role in current & offered)},
    )
    attempt = Attempt[Any](form, field="roles")
    title = f"Change the roles of {user.email}"
    consequences = _roles_consequences(actor, user, kept)
    why = why_four_eyes(AuditAction.USER_ROLE_CHANGE, target_roles=[current])
    chosen: frozenset[Role] = frozenset()
    if request.method == "POST" and form.is_valid():
        chosen = frozenset(Role(name) for name in form.cleaned_data["roles"]) | kept
    why_chosen = why_four_eyes(
        AuditAction.USER_ROLE_CHANGE, target_roles=[current], roles_after=chosen or None
    )
    if chosen:
        shown = ", ".join(role.value for role in Role if role in chosen)

        def changed(outcome: services.Outcome) -> HttpResponse:
            if outcome.changed:
                messages.success(request, f"Changed the roles of {user.email}.")
            else:
                messages.info(request, f"Nothing changed: {user.email} already had these roles.")
            return redirect(user_page_url(user.pk))

        response = gate.ask_or_carry_out(
            request,
            attempt,
            actor=actor,
            why=why_chosen,
            operation=AuditAction.USER_ROLE_CHANGE,
            params={"user_id": user.pk, "roles": sorted(role.value for role in chosen)},
            target_ids=[user.pk],
            title=title,
            preview=lambda: [f"The roles become: {shown}.", *consequences],
            tenant_id=user.tenant_id,
            carry_out=lambda: services.change_roles(actor=actor, user_id=user.pk, roles=chosen),
            done=changed,
        )
        if response is not None:
            return response
    if Role.ADMIN in actor.roles and not why:
        consequences.append(
            "Granting the admin, support or auditor role needs a second admin's approval: "
            "saving such a change sends a request instead."
        )
    return confirmation_page(
        request,
        title=title,
        users=[user],
        consequences=consequences,
        form=form,
        submit_label="Save roles",
        refusal=refusal,
        status=attempt.status,
        why=why,
    )


def _roles_consequences(actor: Actor, user: GatewayUser, kept: frozenset[Role]) -> list[str]:
    consequences = [
        f"Current role text: “{user.role or ''}”.",
        "The new roles apply at the user's next request, in the gateway and here.",
    ]
    if kept:
        shown = ", ".join(role.value for role in Role if role in kept)
        consequences.append(f"Kept as they are (only an admin may change them): {shown}.")
    if unknown := unknown_roles(user.role):
        consequences.append(
            f"Kept as they are, not known to the back office: {', '.join(unknown)}."
        )
    if Role.ADMIN not in actor.roles:
        consequences.append(
            "Only an admin may grant or remove the admin, support and auditor roles."
        )
    return consequences


# --- Impersonation review ---------------------------------------------------------------------


@staff_view(Capability.REVIEW_IMPERSONATIONS)
@step_up(AuditAction.IMPERSONATION_END)
@require_http_methods(["GET", "POST"])
def end_impersonation(request: StaffRequest, record_id: int) -> HttpResponse:
    actor = request.actor
    record = selectors.access_impersonation(actor, record_id)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[Any](form)
    consequences = [
        f"{record.impersonator_email or record.impersonator_id} stops acting as "
        f"{record.impersonated_email} now: their impersonation session is deleted.",
        f"It started {when(record.started_at)} and would expire {when(record.expires_at)}.",
    ]
    why = why_four_eyes(
        AuditAction.IMPERSONATION_END, target_roles=[selectors.impersonator_roles(record)]
    )
    if request.method == "POST" and form.is_valid():

        def ended(outcome: services.Outcome) -> HttpResponse:
            if outcome.changed:
                messages.success(
                    request, f"Ended the impersonation of {record.impersonated_email}."
                )
            else:
                record.refresh_from_db(fields=["ended_at", "expires_at"])
                messages.info(
                    request,
                    f"Nothing changed: this impersonation had already {_gone_verb(record)}.",
                )
            return redirect(impersonation_page_url(record.pk))

        response = gate.ask_or_carry_out(
            request,
            attempt,
            actor=actor,
            why=why,
            operation=AuditAction.IMPERSONATION_END,
            params={"record_id": record.pk},
            target_ids=[record.pk],
            title="End an impersonation",
            preview=lambda: consequences,
            tenant_id=record.tenant_id,
            carry_out=lambda: services.end_impersonation(actor=actor, record_id=record.pk),
            done=ended,
        )
        if response is not None:
            return response
    refusal = rules.impersonation_refusal(actor, record, AuditAction.IMPERSONATION_END)
    if refusal is None and record.status != ImpersonationStatus.ACTIVE:
        refusal = f"This impersonation is {record.status.label.lower()}: there is nothing to end."
    return confirmation_page(
        request,
        title="End an impersonation",
        consequences=consequences,
        form=form,
        submit_label="End the impersonation",
        refusal=refusal,
        status=attempt.status,
        why=why,
        cancel_url=impersonation_page_url(record.pk),
        opts=ImpersonationRecord._meta,
        original=record,
    )


@staff_view(Capability.REVIEW_IMPERSONATIONS)
@require_http_methods(["GET", "POST"])
def review_impersonation(request: StaffRequest, record_id: int) -> HttpResponse:
    actor = request.actor
    record = selectors.access_impersonation(actor, record_id)
    form = ReviewForm(
        request.POST if request.method == "POST" else None,
        initial={"note": record.review_note},
    )
    refusal = rules.impersonation_refusal(actor, record, AuditAction.IMPERSONATION_REVIEW)
    attempt = Attempt[services.Outcome](form, field="note")
    if request.method == "POST" and form.is_valid():
        outcome = attempt(
            lambda: services.review_impersonation(
                actor=actor, record_id=record.pk, note=form.cleaned_data["note"]
            )
        )
        if outcome is not None:
            if outcome.changed:
                messages.success(request, "Marked the impersonation reviewed.")
            else:
                messages.info(request, "It was already reviewed with this note: nothing changed.")
            return redirect(impersonation_page_url(record.pk))
    consequences = [
        f"{record.impersonator_email or record.impersonator_id} acted as "
        f"{record.impersonated_email} from {when(record.started_at)}.",
        "Your name, the time and your note are kept with this impersonation and in the audit log.",
    ]
    if record.reviewed_at is not None:
        consequences.append(
            f"Already reviewed by {record.reviewed_by} {when(record.reviewed_at)}: "
            "saving replaces their note."
        )
    return confirmation_page(
        request,
        title="Mark an impersonation reviewed",
        consequences=consequences,
        form=form,
        submit_label="Mark reviewed",
        refusal=refusal,
        status=attempt.status,
        cancel_url=impersonation_page_url(record.pk),
        opts=ImpersonationRecord._meta,
        original=record,
    )


def _gone_verb(record: ImpersonationRecord) -> str:
    return "expired" if record.status == ImpersonationStatus.EXPIRED else "ended"


def _sessions(count: int) -> str:
    return presentation.count(count, "session")
