"""What the moderation pages and the admin's bulk actions share: the confirmation page with the
users it touches, what each operation does in words, and links to the users' pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.admin.utils import quote
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from approvals.policy import sent_note
from backoffice import confirmation
from security.models import GatewaySession, GatewayUser

SUBJECTS_TEMPLATE = "security/moderation/_subjects.html"
BAN_SUBJECTS_TEMPLATE = "security/moderation/_ban_subjects.html"


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
    why: str | None = None,
    subjects_template: str = SUBJECTS_TEMPLATE,
    alive: dict[str, Any] | None = None,
    **extra: Any,
) -> TemplateResponse:
    """The confirmation page of a moderation action, with the users it touches (and, for a
    ban, what else of theirs stays alive: ``alive``, from ``blast_radius.still_alive``).

    ``why`` (four-eyes, ``approvals.policy``) says that confirming sends a request instead.
    """
    opts = opts or GatewayUser._meta
    if why:
        extra["note"] = sent_note(why)
        submit_label = f"{submit_label} (send for approval)"
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
        subjects_template=subjects_template,
        subjects=_subjects(users, alive),
        stylesheets=("security/moderation.css",),
        form_class="moderation-form",
        **extra,
    )


def ban_consequences(users: Sequence[GatewayUser]) -> list[str]:
    already = [user.email for user in users if user.ban_in_force()]
    lines = [
        "Each user below is banned from the gateway: they cannot sign in until the ban ends.",
        "All of their sessions are deleted, impersonations of them included: "
        "they are signed out everywhere at once. Impersonations they run end too.",
        "API keys they created keep working unless you tick “Revoke these keys too”; "
        "servers they own stay up (they belong to their tenant).",
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


def _subjects(users: Sequence[GatewayUser], alive: dict[str, Any] | None) -> list[dict[str, Any]]:
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
            "alive": (alive or {}).get(user.pk),
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
        return f"Ban expired {when(user.ban_expires)}"
    return f"Banned until {when(user.ban_expires)}"


def when(moment: Any) -> str:
    if moment is None:
        return "never"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def one_session_consequences(user: GatewayUser, session: dict[str, Any]) -> list[str]:
    """What revoking one session does, in words: a live one signs a device out; an expired one
    only leaves a record behind."""
    where = session["ip_address"] or "an unknown address"
    if session.get("expired"):
        consequences = [
            f"This session, started {when(session['created_at'])} from {where}, already "
            f"expired {when(session['expires_at'])}: {user.email} is not signed in with it.",
            "Revoking only deletes its leftover record. Their other sessions stay.",
        ]
    else:
        consequences = [
            f"The session started {when(session['created_at'])} from {where} is deleted: "
            f"{user.email} is signed out on that device.",
            "Their other sessions stay.",
        ]
    if session["impersonated_by"]:
        consequences.append(
            f"This is an impersonation by {session['impersonator_email'] or 'a deleted user'}: "
            "it ends now."
        )
    return consequences
