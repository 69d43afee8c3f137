"""Confirmation pages of the account lifecycle: each says what will happen, then calls one service.

Every view declares its capability with ``@staff_view``; another tenant's user or a malformed id
is a 404. Who may act on whom is asked before the form is shown (``rules.lifecycle_refusal``) and
again by the service under its lock. Pages that take a password answer with
``Cache-Control: no-store`` and never render it back.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from backoffice.access import staff_view
from backoffice.confirmation import Attempt
from backoffice.roles import Actor, Capability, Operation, grantable_roles
from backoffice.tenancy import access
from security.lifecycle import rules, services
from security.lifecycle.forms import CreateUserForm, RemoveUserForm, SetPasswordForm
from security.models import Account, GatewayUser
from security.moderation.blast_radius import plural, still_alive
from security.moderation.confirm_pages import (
    BAN_SUBJECTS_TEMPLATE,
    confirmation_page,
    user_page_url,
)
from security.moderation.forms import ConfirmForm
from tenants.models import Tenant


@staff_view(Capability.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def create_user(request: HttpRequest) -> HttpResponse:
    """The admin's "Add gateway user" page."""
    actor = _actor(request)
    tenants = [
        (str(pk), name)
        for pk, name in Tenant.objects.visible_to(actor, Capability.MANAGE_ACCOUNTS)
        .order_by("name")
        .values_list("pk", "name")
    ]
    posted = request.method == "POST"
    form = CreateUserForm(
        request.POST if posted else None, offered=grantable_roles(actor.roles), tenants=tenants
    )
    attempt = Attempt[GatewayUser](form)
    if posted and form.is_valid():
        data = form.cleaned_data
        user = attempt(
            lambda: services.create_user(
                actor=actor,
                email=data["email"],
                name=data["name"],
                roles=data["roles"],
                tenant_id=data["tenant"] or None,
                password=data["password"] or None,
            )
        )
        if user is not None:
            how = "with a password" if data["password"] else "without a password"
            messages.success(request, f"Created {user.email} ({how}).")
            return redirect(user_page_url(user.pk))
    response = confirmation_page(
        request,
        title="Add a gateway user",
        consequences=[
            "A user row is written as Better-Auth's createUser writes it: a 32-character id, "
            "the email lower-cased, not yet verified.",
            "With a password, a “credential” sign-in holding its scrypt hash: they can sign in "
            "at the gateway with it.",
            "Support may give only the tenant_admin and user roles.",
        ],
        form=form,
        submit_label="Create the user",
        status=attempt.status,
        cancel_url=reverse("admin:security_gatewayuser_changelist"),
    )
    add_never_cache_headers(response)
    return response


@staff_view(Capability.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def set_password(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = _actor(request)
    user = _access(actor, user_id)
    refusal = rules.lifecycle_refusal(actor, user, Operation.SET_PASSWORD)
    form = SetPasswordForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[int](form)
    if request.method == "POST" and form.is_valid():
        ended = attempt(
            lambda: services.set_user_password(
                actor=actor, user_id=user.pk, password=form.cleaned_data["password"]
            )
        )
        if ended is not None:
            messages.success(
                request,
                f"Set a new password for {user.email}; signed out {plural(ended, 'session')}.",
            )
            return redirect(user_page_url(user.pk))
    has_password = Account.unscoped.filter(user_id=user.pk, provider_id="credential").exists()
    response = confirmation_page(
        request,
        title=f"Set the password of {user.email}",
        users=[user],
        consequences=[
            "The new password replaces the old one at once, as Better-Auth's setUserPassword does."
            if has_password
            else "They have no password sign-in yet: one is added with this password.",
            "Every session of theirs is deleted: they sign in again with the new password.",
            "The audit log records that it changed, never the password nor its hash.",
        ],
        form=form,
        submit_label="Set the password",
        refusal=refusal,
        status=attempt.status,
    )
    add_never_cache_headers(response)
    return response


@staff_view(Capability.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = _actor(request)
    user = _access(actor, user_id)
    refusal = rules.lifecycle_refusal(actor, user, Operation.VERIFY_EMAIL)
    if refusal is None and user.email_verified:
        refusal = f"The email of {user.email} is already verified."
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[bool](form)
    if request.method == "POST" and form.is_valid():
        changed = attempt(lambda: services.mark_email_verified(actor=actor, user_id=user.pk))
        if changed is not None:
            if changed:
                messages.success(request, f"Marked the email of {user.email} verified.")
            else:
                messages.info(request, f"Nothing changed: {user.email} was already verified.")
            return redirect(user_page_url(user.pk))
    return confirmation_page(
        request,
        title=f"Mark the email of {user.email} verified",
        users=[user],
        consequences=[
            "Better-Auth then treats the address as proven: no verification email is needed.",
            "Do this only once you know the address belongs to them.",
        ],
        form=form,
        submit_label="Mark verified",
        refusal=refusal,
        status=attempt.status,
    )


@staff_view(Capability.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def unlink_sign_in(request: HttpRequest, user_id: str, account_id: str) -> HttpResponse:
    actor = _actor(request)
    user = _access(actor, user_id)
    methods = list(
        Account.unscoped.filter(user_id=user.pk).order_by("created_at").values("id", "provider_id")
    )
    method = next((one for one in methods if one["id"] == account_id), None)
    if method is None:
        messages.info(request, f"Nothing changed: {user.email} has no such sign-in method.")
        return redirect(user_page_url(user.pk))
    refusal = rules.lifecycle_refusal(actor, user, Operation.UNLINK_SIGN_IN)
    if refusal is None and len(methods) == 1:
        refusal = f"This is the only sign-in method of {user.email}: it cannot be unlinked."
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[str](form)
    if request.method == "POST" and form.is_valid():
        provider = attempt(
            lambda: services.unlink_sign_in(actor=actor, user_id=user.pk, account_id=account_id)
        )
        if provider is not None:
            messages.success(request, f"Unlinked {provider} from {user.email}.")
            return redirect(user_page_url(user.pk))
    others = ", ".join(one["provider_id"] for one in methods if one["id"] != account_id)
    return confirmation_page(
        request,
        title=f"Unlink {method['provider_id']} from {user.email}",
        users=[user],
        consequences=[
            f"{user.email} can no longer sign in with {method['provider_id']}.",
            f"They keep: {others or 'nothing'}. Their sessions stay.",
        ],
        form=form,
        submit_label="Unlink",
        refusal=refusal,
        status=attempt.status,
    )


@staff_view(Capability.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def remove_user(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = _actor(request)
    user = _access(actor, user_id)
    alive = still_alive(actor, [user])
    mine = alive[user.pk]
    refusal = rules.lifecycle_refusal(actor, user, Operation.REMOVE_USER)
    if refusal is None and mine.servers:
        refusal = services.removal_problem(user, mine.servers, len(mine.keys), True)
    form = RemoveUserForm(request.POST if request.method == "POST" else None)
    if not mine.keys:
        del form.fields["revoke_keys"]
    attempt = Attempt[services.Removal](form)
    if request.method == "POST" and form.is_valid():
        removal = attempt(
            lambda: services.remove_user(
                actor=actor,
                user_id=user.pk,
                revoke_keys=bool(form.cleaned_data.get("revoke_keys")),
            )
        )
        if removal is not None:
            text = (
                f"Removed {removal.email}; signed out {plural(removal.sessions_deleted, 'session')}"
            )
            if removal.keys_revoked:
                text += f"; revoked {plural(len(removal.keys_revoked), 'key')}"
            messages.success(request, text + ".")
            return redirect("admin:security_gatewayuser_changelist")
    methods = list(Account.unscoped.filter(user_id=user.pk).values_list("provider_id", flat=True))
    return confirmation_page(
        request,
        title=f"Remove {user.email}",
        users=[user],
        consequences=[
            "The user row is deleted, as Better-Auth's removeUser does; this cannot be undone.",
            f"With it go {plural(mine.sessions, 'session')} and their sign-in methods "
            f"({', '.join(methods) or 'none'}).",
            "Impersonations of them end. The audit log keeps a tombstone: their email, name, "
            "roles and tenant (never their password hash).",
            "Working API keys they created must be revoked with the removal; servers they own "
            "must first be moved or deleted.",
        ],
        form=form,
        submit_label="Remove the user",
        submit_class="deletelink",
        refusal=refusal,
        status=attempt.status,
        subjects_template=BAN_SUBJECTS_TEMPLATE,
        alive=alive,
    )


def _access(actor: Actor, user_id: str) -> GatewayUser:
    return access(GatewayUser.objects, actor, Capability.MANAGE_ACCOUNTS, user_id)


def _actor(request: HttpRequest) -> Actor:
    actor: Actor | None = getattr(request, "actor", None)
    assert actor is not None  # staff_view refused anyone without one
    return actor


def links_for(actor: Actor, user: GatewayUser) -> list[dict[str, Any]]:
    """The lifecycle actions offered on a user page, each saying why not when refused."""
    if not actor.can(Capability.MANAGE_ACCOUNTS):
        return []

    def link(label: str, url: str, operation: Operation) -> dict[str, Any]:
        return {
            "label": label,
            "url": url,
            "refusal": rules.lifecycle_refusal(actor, user, operation),
        }

    links = [
        link(
            "Set password",
            reverse("security:user_set_password", args=[user.pk]),
            Operation.SET_PASSWORD,
        )
    ]
    if not user.email_verified:
        links.append(
            link(
                "Mark email verified",
                reverse("security:user_verify_email", args=[user.pk]),
                Operation.VERIFY_EMAIL,
            )
        )
    methods = list(Account.unscoped.filter(user_id=user.pk).values_list("id", "provider_id"))
    if len(methods) > 1:
        for account_id, provider in methods:
            links.append(
                link(
                    f"Unlink {provider}",
                    reverse("security:user_unlink_sign_in", args=[user.pk, account_id]),
                    Operation.UNLINK_SIGN_IN,
                )
            )
    links.append(
        link("Remove user", reverse("security:user_remove", args=[user.pk]), Operation.REMOVE_USER)
    )
    return links
