"""The API key pages beside the admin's list: create, edit, revoke, rotate, and the one-time page.

Each view declares its capability with ``@staff_view`` (403 and an audited denial for a role
without it); another tenant's key is a 404, and the attempt is recorded. A new key's plaintext is
rendered once, in the body of the response to the form that issued it, with
``Cache-Control: no-store``: never through the messages framework (a signed, not encrypted,
cookie), never in the session, never in a log.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from backoffice import confirmation
from backoffice.access import staff_view
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.roles import Actor, Capability
from security.api_keys import scopes as scope_catalog
from security.api_keys import selectors, services
from security.api_keys.forms import CreateKeyForm, EditKeyForm, RevokeKeyForm, RotateKeyForm
from security.models import ApiKey
from security.second_factor.step_up import step_up

KEY_SUMMARY_TEMPLATE = "security/api_keys/_key_summary.html"
CATALOG_TEMPLATE = "security/api_keys/_scope_catalog.html"
ISSUED_TEMPLATE = "security/api_keys/issued.html"


@staff_view(Capability.MANAGE_API_KEYS)
@step_up(AuditAction.API_KEY_CREATE)
@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
@sensitive_variables("issued")
def create_key(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    platform_wide = actor.is_platform_wide(Capability.MANAGE_API_KEYS)
    own_tenant = None if platform_wide else selectors.tenants_for_new_keys(actor).first()
    form = CreateKeyForm(
        request.POST if request.method == "POST" else None,
        tenants=selectors.tenants_offered_for_new_keys(actor) if platform_wide else None,
    )
    refusal = None
    if not platform_wide and own_tenant is None:
        refusal = "Your account belongs to no tenant, so there is no tenant to create keys for."
    elif own_tenant is not None:
        # Said before the form is filled in; the service checks again under the tenant's lock.
        refusal = selectors.new_key_refusal(own_tenant)
    attempt = Attempt[services.IssuedKey](form)
    if refusal is None and request.method == "POST" and form.is_valid():
        tenant = form.tenant() or own_tenant
        assert tenant is not None
        try:
            issued = attempt(
                lambda: services.create_api_key(
                    actor=actor,
                    tenant_id=tenant.pk,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=_new_expiry(form),
                    rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"],
                    form_token=form.cleaned_data["form_token"],
                )
            )
        except services.AlreadyIssued as already:
            return _already_sent(request, actor, already.key_id)
        if issued is not None:
            return _issued_page(request, issued, title=f"API key “{issued.key.name}” created")
    return _form_page(
        request,
        title="Create an API key",
        form=form,
        submit_label="Create the key",
        refusal=refusal,
        status=attempt.status,
        usage=_usage(own_tenant),
        show_catalog=True,
        cancel_url=reverse("admin:security_apikey_changelist"),
    )


@staff_view(Capability.MANAGE_API_KEYS)
@never_cache
@require_http_methods(["GET", "POST"])
def edit_key(request: HttpRequest, key_id: uuid.UUID) -> HttpResponse:
    actor = _actor(request)
    key = selectors.access_api_key(actor, key_id, attempt=AuditAction.API_KEY_UPDATE)
    form = EditKeyForm(request.POST if request.method == "POST" else None, key=key)
    refusal = services.change_refusal(key)
    attempt = Attempt[bool](form)
    if refusal is None and request.method == "POST" and form.is_valid():
        changed = attempt(
            lambda: services.update_api_key(
                actor=actor,
                key_id=key.pk,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
                rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"],
            )
        )
        if changed is not None:
            if changed:
                messages.success(request, f"Saved the changes to {key.key_prefix}.")
            else:
                messages.info(request, f"Nothing differed: {key.key_prefix} is unchanged.")
            return redirect(key_page_url(key.pk))
    return _form_page(
        request,
        title=f"Edit {key.name} ({key.key_prefix})",
        form=form,
        submit_label="Save",
        key=key,
        refusal=refusal,
        status=attempt.status,
        show_catalog=True,
    )


@staff_view(Capability.MANAGE_API_KEYS)
@step_up(AuditAction.API_KEY_REVOKE)
@never_cache
@require_http_methods(["GET", "POST"])
def revoke_key(request: HttpRequest, key_id: uuid.UUID) -> HttpResponse:
    actor = _actor(request)
    key = selectors.access_api_key(actor, key_id, attempt=AuditAction.API_KEY_REVOKE)
    form = RevokeKeyForm(request.POST if request.method == "POST" else None)
    refusal = services.revoke_refusal(key)
    attempt = Attempt[bool](form)
    if refusal is None and request.method == "POST" and form.is_valid():
        revoked = attempt(
            lambda: services.revoke_api_key(
                actor=actor, key_id=key.pk, reason=form.cleaned_data["reason"]
            )
        )
        if revoked is not None:
            if revoked:
                messages.success(
                    request, f"Revoked {key.key_prefix}: the gateway refuses it from now on."
                )
            else:
                messages.info(request, f"{key.key_prefix} was already revoked: nothing changed.")
            return redirect(key_page_url(key.pk))
    return _form_page(
        request,
        title=f"Revoke {key.name} ({key.key_prefix})",
        form=form,
        submit_label="Revoke the key",
        key=key,
        refusal=refusal,
        status=attempt.status,
        consequences=[
            "The key stops working at once: every call made with it is refused.",
            "Revoking cannot be undone; a new key can be created instead.",
            "The reason is kept in the audit log.",
        ],
        danger=True,
    )


@staff_view(Capability.MANAGE_API_KEYS)
@step_up(AuditAction.API_KEY_ROTATE)
@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
@sensitive_variables("issued")
def rotate_key(request: HttpRequest, key_id: uuid.UUID) -> HttpResponse:
    actor = _actor(request)
    key = selectors.access_api_key(actor, key_id, attempt=AuditAction.API_KEY_ROTATE)
    form = RotateKeyForm(request.POST if request.method == "POST" else None)
    refusal = services.rotate_refusal(key)
    attempt = Attempt[services.IssuedKey](form)
    if refusal is None and request.method == "POST" and form.is_valid():
        try:
            issued = attempt(
                lambda: services.rotate_api_key(
                    actor=actor,
                    key_id=key.pk,
                    grace=form.grace_period(),
                    expires_at=_new_expiry(form),
                    form_token=form.cleaned_data["form_token"],
                )
            )
        except services.AlreadyIssued as already:
            return _already_sent(request, actor, already.key_id)
        if issued is not None:
            return _issued_page(
                request,
                issued,
                title=f"API key “{issued.key.name}” rotated",
                replaced=selectors.api_keys_visible_to(actor).filter(pk=key.pk).first(),
            )
    return _form_page(
        request,
        title=f"Rotate {key.name} ({key.key_prefix})",
        form=form,
        submit_label="Issue the new key",
        key=key,
        refusal=refusal,
        status=attempt.status,
        consequences=[
            f"A new key is issued with the same name, scopes ({', '.join(key.scopes)}) "
            f"and rate limit; it is shown once.",
            "The old key keeps working until the grace period you choose ends, then expires.",
        ],
    )


# --- What the pages share ---------------------------------------------------------------------


def _new_expiry(form: Any) -> Any:
    """A new key's expiry: the form offers no "keep" choice when a key is issued."""
    expires_at = form.expires_at()
    assert not isinstance(expires_at, services.Unchanged)
    return expires_at


def key_page_url(key_id: uuid.UUID) -> str:
    return reverse("admin:security_apikey_change", args=[quote(str(key_id))])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        raise PermissionDenied
    return actor


def _usage(own_tenant: Any) -> str | None:
    if own_tenant is None:
        return None
    in_use = selectors.live_key_count(own_tenant.pk)
    limit = own_tenant.max_api_keys
    return (
        f"{own_tenant.name} uses {in_use} of its {limit} usable API "
        f"key{selectors.pluralize(limit)}."
    )


def _form_page(
    request: HttpRequest,
    *,
    title: str,
    form: Any,
    submit_label: str,
    key: ApiKey | None = None,
    refusal: str | None = None,
    status: int = 200,
    consequences: list[str] | None = None,
    usage: str | None = None,
    show_catalog: bool = False,
    danger: bool = False,
    cancel_url: str | None = None,
) -> HttpResponse:
    """An API key form on the one confirmation page: the key, what happens, the form, the
    scope catalog. A form sent with errors answers 400; a refused one 403 (``Attempt``)."""
    if status == 200 and request.method == "POST" and (form.errors or refusal):
        status = 400
    return confirmation.confirmation_page(
        request,
        title=title,
        form=form,
        submit_label=submit_label,
        opts=ApiKey._meta,
        original=key,
        consequences=consequences or [],
        refusal=refusal,
        status=status,
        cancel_url=cancel_url or (key_page_url(key.pk) if key is not None else ""),
        cancel_label="Cancel",
        submit_class="default api-key-danger" if danger else "default",
        stylesheets=("security/api_keys/api_keys.css",),
        scripts=("security/api_keys/expiry.js",),
        body_class="api-key-form-page",
        form_class="api-key-form",
        summary_template=KEY_SUMMARY_TEMPLATE if key is not None else None,
        after_template=CATALOG_TEMPLATE if show_catalog else None,
        note=usage,
        key=key,
        key_status=selectors.describe_status(key) if key is not None else None,
        catalog=scope_catalog.CATALOG if show_catalog else (),
    )


@sensitive_variables("issued")
def _issued_page(
    request: HttpRequest,
    issued: services.IssuedKey,
    *,
    title: str,
    replaced: ApiKey | None = None,
) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "opts": ApiKey._meta,
        "title": title,
        "key": issued.key,
        "plaintext": issued.plaintext,
        "scopes": [(s, scope_catalog.DESCRIPTIONS.get(s, "")) for s in issued.key.scopes],
        "key_url": key_page_url(issued.key.pk),
        "replaced": replaced,
        "replaced_url": key_page_url(replaced.pk) if replaced is not None else None,
    }
    response = TemplateResponse(request, ISSUED_TEMPLATE, context)
    # The one time the plaintext exists outside the caller's hands: no cache may keep it.
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Pragma"] = "no-cache"
    return response


def _already_sent(request: HttpRequest, actor: Actor, key_id: uuid.UUID | None) -> HttpResponse:
    """A form sent again (reload, double click) goes to its key, whose value is not shown again."""
    messages.warning(
        request,
        "This form was already sent and its key issued. Its value was shown only once and "
        "cannot be shown again: if it was not stored, revoke the key and create another.",
    )
    key = None if key_id is None else selectors.api_keys_visible_to(actor).filter(pk=key_id).first()
    if key is None:
        return redirect("admin:security_apikey_changelist")
    return redirect(key_page_url(key.pk))
