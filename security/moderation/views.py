"""Confirmation pages for moderation: each says what will happen, then calls one service.

Every view declares its capability with ``@staff_view`` (signed in through the admin, 403 and an
audited denial for a role without it); another tenant's user or a malformed id gets 404. Who may
act on whom is ``backoffice.roles.person_refusal``: pages ask it before showing the form (so
nobody fills one in vain, and the roles form offers only grantable roles), the services ask it
again under the row lock. A confirmed POST runs through ``backoffice.confirmation.Attempt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from backoffice import confirmation, presentation
from backoffice.access import staff_view
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.operations import NotFound
from backoffice.roles import Actor, Capability, Role, grantable_roles, parse_roles, unknown_roles
from security.models import GatewaySession, GatewayUser, ImpersonationRecord, ImpersonationStatus
from security.moderation import rules, selectors, services
from security.moderation.forms import BanForm, ConfirmForm, ReviewForm, RolesForm

SUBJECTS_TEMPLATE = "security/moderation/_subjects.html"
SESSION_GONE = "Nothing changed: {email} has no such session any more (revoked, or it expired)."


# --- The user moderation pages ----------------------------------------------------------------


@staff_view(Capability.MODERATE_USERS)
@require_http_methods(["GET", "POST"])
def ban_user(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = _actor(request)
    user = selectors.access_user(actor, user_id)
    refusal = rules.moderation_refusal(actor, user, AuditAction.USER_BAN)
    form = BanForm(
        request.POST if request.method == "POST" else None, initial=BanForm.initial_for(user)
    )
    attempt = Attempt[services.Outcome](form)
    if request.method == "POST" and form.is_valid():
        outcome = attempt(
            lambda: services.ban_user(
                actor=actor,
                user_id=user.pk,
                reason=form.cleaned_data["reason"],
                expires_at=form.ban_expires(),
            )
        )
        if outcome is not None:
            if outcome.changed:
                messages.success(
                    request,
                    f"Banned {user.email}; {_sessions(outcome.sessions_deleted)} deleted.",
                )
            elif outcome.amended:
                messages.success(request, f"Changed the ban of {user.email}; it stays in force.")
            else:
                messages.info(
                    request, f"Nothing changed: {user.email} is already banned like this."
                )
            return redirect(user_page_url(user.pk))
    in_force = user.ban_in_force()
    return confirmation_page(
        request,
        title=f"Change the ban of {user.email}" if in_force else f"Ban {user.email}",
        users=[user],
        consequences=ban_consequences([user]),
        form=form,
        submit_label="Change the ban" if in_force else "Ban",
        refusal=refusal,
        status=attempt.status,
    )


@staff_view(Capability.MODERATE_USERS)
@require_http_methods(["GET", "POST"])
def unban_user(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = _actor(request)
    user = selectors.access_user(actor, user_id)
    refusal = rules.moderation_refusal(actor, user, AuditAction.USER_UNBAN)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[services.Outcome](form)
    if request.method == "POST" and form.is_valid():
        outcome = attempt(lambda: services.unban_user(actor=actor, user_id=user.pk))
        if outcome is not None:
            if outcome.changed:
                messages.success(request, f"Lifted the ban of {user.email}.")
            else:
                messages.info(request, f"Nothing changed: {user.email} was not banned.")
            return redirect(user_page_url(user.pk))
    return confirmation_page(
        request,
        title=f"Lift the ban of {user.email}",
        users=[user],
        consequences=unban_consequences([user]),
        form=form,
        submit_label="Lift the ban",
        refusal=refusal,
        status=attempt.status,
    )


@staff_view(Capability.MODERATE_USERS)
@require_http_methods(["GET", "POST"])
def revoke_all_sessions(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = _actor(request)
    user = selectors.access_user(actor, user_id)
    refusal = rules.moderation_refusal(actor, user, AuditAction.SESSION_REVOKE_ALL)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[services.Outcome](form)
    if request.method == "POST" and form.is_valid():
        outcome = attempt(lambda: services.revoke_all_sessions(actor=actor, user_id=user.pk))
        if outcome is not None:
            if outcome.changed:
                messages.success(
                    request,
                    f"Signed {user.email} out: {_sessions(outcome.sessions_deleted)} deleted.",
                )
            else:
                messages.info(request, f"Nothing changed: {user.email} had no sessions.")
            return redirect(user_page_url(user.pk))
    return confirmation_page(
        request,
        title=f"Revoke all sessions of {user.email}",
        users=[user],
        consequences=revoke_consequences([user]),
        form=form,
        submit_label="Revoke all sessions",
        refusal=refusal,
        status=attempt.status,
    )


@staff_view(Capability.MODERATE_USERS)
@require_http_methods(["GET", "POST"])
def revoke_session(request: HttpRequest, user_id: str, session_id: str) -> HttpResponse:
    actor = _actor(request)
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
    attempt = Attempt[bool](form)

    def revoke() -> bool:
        try:
            services.revoke_session(actor=actor, session_id=session_id)
        except NotFound:
            return False
        return True

    if request.method == "POST" and form.is_valid():
        revoked = attempt(revoke)
        if revoked is not None:
            if revoked:
                messages.success(request, f"Revoked one session of {user.email}.")
            else:
                messages.info(request, SESSION_GONE.format(email=user.email))
            return redirect(user_page_url(user.pk))
    where = session["ip_address"] or "an unknown address"
    consequences = [
        f"The session started {_when(session['created_at'])} from {where} is deleted: "
        f"{user.email} is signed out on that device.",
        "Their other sessions stay.",
    ]
    if session["impersonated_by"]:
        consequences.append(
            f"This is an impersonation by {session['impersonator_email'] or 'a deleted user'}: "
            "it ends now."
        )
    return confirmation_page(
        request,
        title=f"Revoke a session of {user.email}",
        users=[user],
        consequences=consequences,
        form=form,
        submit_label="Revoke this session",
        refusal=refusal,
        status=attempt.status,
        session=session,
    )


@staff_view(Capability.MODERATE_USERS)
@require_http_methods(["GET", "POST"])
def change_roles(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = _actor(request)
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
    attempt = Attempt[services.Outcome](form, field="roles")
    if request.method == "POST" and form.is_valid():
        chosen = frozenset(Role(name) for name in form.cleaned_data["roles"]) | kept
        outcome = attempt(lambda: services.change_roles(actor=actor, user_id=user.pk, roles=chosen))
        if outcome is not None:
            if outcome.changed:
                messages.success(request, f"Changed the roles of {user.email}.")
            else:
                messages.info(request, f"Nothing changed: {user.email} already had these roles.")
            return redirect(user_page_url(user.pk))
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
    return confirmation_page(
        request,
        title=f"Change the roles of {user.email}",
        users=[user],
        consequences=consequences,
        form=form,
        submit_label="Save roles",
        refusal=refusal,
        status=attempt.status,
    )


# --- Impersonation review ---------------------------------------------------------------------


@staff_view(Capability.REVIEW_IMPERSONATIONS)
@require_http_methods(["GET", "POST"])
def end_impersonation(request: HttpRequest, record_id: int) -> HttpResponse:
    actor = _actor(request)
    record = selectors.access_impersonation(actor, record_id)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[services.Outcome](form)
    if request.method == "POST" and form.is_valid():
        outcome = attempt(lambda: services.end_impersonation(actor=actor, record_id=record.pk))
        if outcome is not None:
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
    refusal = rules.impersonation_refusal(actor, record, AuditAction.IMPERSONATION_END)
    if refusal is None and record.status != ImpersonationStatus.ACTIVE:
        refusal = f"This impersonation is {record.status.label.lower()}: there is nothing to end."
    return confirmation_page(
        request,
        title="End an impersonation",
        consequences=[
            f"{record.impersonator_email or record.impersonator_id} stops acting as "
            f"{record.impersonated_email} now: their impersonation session is deleted.",
            f"It started {_when(record.started_at)} and would expire {_when(record.expires_at)}.",
        ],
        form=form,
        submit_label="End the impersonation",
        refusal=refusal,
        status=attempt.status,
        cancel_url=impersonation_page_url(record.pk),
        opts=ImpersonationRecord._meta,
        original=record,
    )


@staff_view(Capability.REVIEW_IMPERSONATIONS)
@require_http_methods(["GET", "POST"])
def review_impersonation(request: HttpRequest, record_id: int) -> HttpResponse:
    actor = _actor(request)
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
        f"{record.impersonated_email} from {_when(record.started_at)}.",
        "Your name, the time and your note are kept with this impersonation and in the audit log.",
    ]
    if record.reviewed_at is not None:
        consequences.append(
            f"Already reviewed by {record.reviewed_by} {_when(record.reviewed_at)}: "
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


# --- What the pages and the admin's bulk actions share ----------------------------------------


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    consequences: Sequence[str],
    form: Any,
    submit_label: str,
    users: Sequence[GatewayUser] = (),
    refusal: str | None = None,
    status: int = 200,
    cancel_url: str | None = None,
    hidden: Sequence[tuple[str, str]] = (),
    opts: Any = None,
    original: Any = None,
    **extra: Any,
) -> TemplateResponse:
    """The confirmation page of a moderation action, with the users it touches."""
    opts = opts or GatewayUser._meta
    if original is None and len(users) == 1:
        original = users[0]
    return confirmation.confirmation_page(
        request,
        title=title,
        consequences=consequences,
        form=form,
        submit_label=submit_label,
        refusal=refusal,
        status=status,
        cancel_url=cancel_url or (user_page_url(users[0].pk) if len(users) == 1 else None),
        hidden=hidden,
        opts=opts,
        original=original,
        subjects_template=SUBJECTS_TEMPLATE,
        subjects=_subjects(users),
        stylesheets=("security/moderation.css",),
        form_class="moderation-form",
        **extra,
    )


def ban_consequences(users: Sequence[GatewayUser]) -> list[str]:
    already = [user.email for user in users if user.ban_in_force()]
    lines = [
        "Each user below is banned from the gateway: they cannot sign in until the ban ends.",
        "All of their sessions are deleted, impersonations of them included: "
        "they are signed out everywhere at once.",
    ]
    if already:
        lines.append(
            f"Already banned: {', '.join(already)}. Their ban stays in force, with the reason "
            "and end below instead of the current ones (it is not lifted in between)."
        )
    return lines


def unban_consequences(users: Sequence[GatewayUser]) -> list[str]:
    return [
        "The ban flag, its reason and its end are cleared: the user can sign in again.",
        "Sessions deleted by the ban do not come back; the user signs in anew.",
    ]


def revoke_consequences(users: Sequence[GatewayUser]) -> list[str]:
    return [
        "Every session of each user below is deleted: they are signed out everywhere "
        "and can sign in again.",
        "Impersonations of them end too.",
    ]


def user_page_url(user_id: str) -> str:
    return reverse("admin:security_gatewayuser_change", args=[quote(user_id)])


def impersonation_page_url(record_id: int) -> str:
    return reverse("admin:security_impersonationrecord_change", args=[record_id])


def _subjects(users: Sequence[GatewayUser]) -> list[dict[str, Any]]:
    """Each user with what the action touches: sessions, impersonations, current ban."""
    if not users:
        return []
    counts: dict[str, dict[str, int]] = {}
    # Users were scoped by the caller; their sessions come with them.
    rows = GatewaySession.unscoped.filter(user_id__in=[user.pk for user in users]).values_list(
        "user_id", "impersonated_by"
    )
    for user_id, impersonated_by in rows:
        count = counts.setdefault(user_id, {"sessions": 0, "impersonations": 0})
        count["sessions"] += 1
        count["impersonations"] += bool(impersonated_by)
    return [
        {
            "user": user,
            "url": user_page_url(user.pk),
            "sessions": counts.get(user.pk, {}).get("sessions", 0),
            "impersonations": counts.get(user.pk, {}).get("impersonations", 0),
            "ban": ban_label(user),
        }
        for user in users
    ]


def ban_label(user: GatewayUser) -> str:
    """How a ban reads at a glance; an expired ban says so rather than looking active."""
    if not user.banned:
        return "Not banned"
    if user.ban_expires is None:
        return "Banned permanently"
    if user.ban_expires <= timezone.now():
        return f"Ban expired {_when(user.ban_expires)}"
    return f"Banned until {_when(user.ban_expires)}"


def _actor(request: HttpRequest) -> Actor:
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:  # staff_view already refused anyone without one
        raise PermissionDenied("Your role does not allow this.")
    return actor


def _gone_verb(record: ImpersonationRecord) -> str:
    return "expired" if record.status == ImpersonationStatus.EXPIRED else "ended"


def _sessions(count: int) -> str:
    return presentation.count(count, "session")


def _when(moment: Any) -> str:
    return "never" if moment is None else presentation.when(moment)
