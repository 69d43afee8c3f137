"""Enrolment and verification pages of the second factor, and the admin's reset of another's.

Enrolment shows a new secret (QR code and text) once per visit and confirms it with a first
code, then shows the recovery codes once. Verification asks for a code after the password. Both
answer ``Cache-Control: no-store``: a secret or a recovery code must not stay in a cache.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from backoffice.access import staff_view
from backoffice.confirmation import Attempt
from backoffice.roles import Capability
from backoffice.staff_request import StaffRequest
from security.moderation.confirm_pages import confirmation_page, user_page_url
from security.moderation.forms import ConfirmForm
from security.second_factor import devices, services
from security.second_factor.forms import CodeForm, EnrolmentForm
from security.second_factor.step_up import step_up


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The code asked after the password (and again, when a session's check was lost)."""
    if not devices.is_enrolled(request.user):  # type: ignore[arg-type]
        return redirect(_with_next(reverse("security:second_factor_enrol"), request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        check = devices.check_code(request, form.cleaned_data["code"], purpose="sign-in")
        if check.verdict is devices.Verdict.ACCEPTED:
            if check.method == "recovery_code":
                messages.warning(
                    request,
                    "You signed in with a recovery code; it will not work again. If you lost "
                    "your authenticator app, ask an admin to reset your second factor.",
                )
            return redirect(_next(request))
        form.add_error("code", check.verdict.value)
    return _page(
        request,
        "security/second_factor/verify.html",
        {"title": "Confirm it's you", "form": form, "next": _next(request)},
    )


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: a new secret on every visit, confirmed by its first code."""
    if devices.is_enrolled(request.user):  # type: ignore[arg-type]
        return redirect(_next(request))
    context: dict[str, Any] = {"title": "Set up your second factor", "next": _next(request)}
    if request.method == "POST":
        device = devices.pending_device(request)
        if device is None:
            messages.error(request, "The secret to confirm has expired: scan this new one.")
            return redirect(_with_next(reverse("security:second_factor_enrol"), request))
        form = EnrolmentForm(request.POST)
        if form.is_valid():
            result = devices.finish_enrolment(request, device, form.cleaned_data["code"])
            if isinstance(result, list):
                return _page(
                    request,
                    "security/second_factor/recovery_codes.html",
                    {**context, "title": "Your recovery codes", "codes": result},
                )
            form.add_error("code", result.verdict.value)
        # The secret was shown once already: ask for the code again, or start over anew.
        return _page(request, "security/second_factor/enrol.html", {**context, "form": form})
    device = devices.start_enrolment(request)
    secret = base64.b32encode(device.bin_key).decode()
    context.update(
        form=EnrolmentForm(),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr_svg=mark_safe(devices.qr_code_svg(device.config_url)),  # noqa: S308 (drawn here)
    )
    return _page(request, "security/second_factor/enrol.html", context)


@staff_view(Capability.RESET_SECOND_FACTOR)
@step_up(services.RESET_ACTION)
@require_http_methods(["GET", "POST"])
def reset(request: StaffRequest, user_id: str) -> HttpResponse:
    """An admin clears another staff member's second factor: they enrol again at next sign-in."""
    actor = request.actor
    user = services.access_staff_member(actor, user_id)
    refusal = services.reset_refusal(actor, user)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    attempt = Attempt[bool](form)
    if request.method == "POST" and form.is_valid():
        done = attempt(lambda: services.reset_second_factor(actor=actor, user_id=user.pk))
        if done is not None:
            if done:
                messages.success(request, f"Reset the second factor of {user.email}.")
            else:
                messages.info(request, f"Nothing changed: {user.email} had not enrolled.")
            return redirect(user_page_url(user.pk))
    return confirmation_page(
        request,
        title=f"Reset the second factor of {user.email}",
        users=[user],
        consequences=[
            "Their authenticator app and recovery codes stop working here at once.",
            "Their sessions in the back office must confirm a second factor again: they are "
            "sent to set up a new authenticator app.",
        ],
        form=form,
        submit_label="Reset the second factor",
        refusal=refusal,
        status=attempt.status,
    )


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = TemplateResponse(request, template, {**admin.site.each_context(request), **context})
    add_never_cache_headers(response)
    return response


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe and target.startswith("/") else reverse("admin:index")


def _with_next(url: str, request: HttpRequest) -> str:
    return f"{url}?{urlencode({'next': _next(request)})}"


verify = admin.site.admin_view(verify)
enrol = admin.site.admin_view(enrol)
