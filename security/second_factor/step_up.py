"""Step-up: dangerous operations ask for the second factor again when the last check is old.

Which operations are dangerous is decided here, once (``DANGEROUS``); a view or an admin action
that carries one out says which with ``@step_up(action)`` / ``@step_up_action(action)``, and a
test checks that every one of them does. When the session's last code is older than
``STEP_UP_MAX_AGE_SECONDS``, the request that would carry the operation out (a confirmed POST;
an export's GET) gets a "confirm it's you" page instead, holding what was sent; with a right
code that request goes on as sent. Management commands, run by operators on the machine, are
not asked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme

from backoffice.audit_actions import AuditAction
from security.second_factor import devices
from security.second_factor.forms import CodeForm

DANGEROUS: dict[AuditAction, str] = {
    AuditAction.USER_BAN: "ban",
    AuditAction.USER_UNBAN: "lift a ban",
    AuditAction.SESSION_REVOKE_ALL: "revoke all sessions",
    AuditAction.USER_ROLE_CHANGE: "change roles",
    AuditAction.IMPERSONATION_END: "end an impersonation",
    AuditAction.API_KEY_CREATE: "create an API key",
    AuditAction.API_KEY_ROTATE: "rotate an API key",
    AuditAction.API_KEY_REVOKE: "revoke an API key",
    AuditAction.SERVER_DEACTIVATE: "deactivate a server",
    AuditAction.SERVER_REACTIVATE: "reactivate servers",
    AuditAction.AUDIT_LOG_EXPORT: "export the audit log",
    AuditAction.REQUEST_LOG_EXPORT: "export the request log",
    AuditAction.ANALYTICS_EXPORT: "export analytics",
    AuditAction.STAFF_SECOND_FACTOR_RESET: "reset a second factor",
    # Approving carries out the operation asked for (approvals/): as dangerous as doing it.
    AuditAction.APPROVAL_APPROVE: "decide on a four-eyes request",
}

# Fields the step-up page adds to what was sent; removed before the request goes on.
PREFIX = "second_factor"
CODE_FIELD = f"{PREFIX}-code"
METHOD_FIELD = "second_factor_step_up"
TEMPLATE = "security/second_factor/step_up.html"
View = Callable[..., Any]


def step_up(action: AuditAction, methods: Iterable[str] = ("POST",)) -> Callable[[View], View]:
    """Decorate a view that carries out ``action`` when asked with one of ``methods``."""
    asked_on = frozenset(methods)

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            answer = demand(request, action, asked_on)
            return answer if answer is not None else view(request, *args, **kwargs)

        checked.step_up = action  # type: ignore[attr-defined]
        return checked

    if action not in DANGEROUS:
        raise ValueError(f"{action} is not a dangerous operation (add it to DANGEROUS).")
    return decorate


def step_up_action(action: AuditAction) -> Callable[[View], View]:
    """Decorate a bulk admin action ``(modeladmin, request, queryset)`` carrying out ``action``."""

    def decorate(admin_action: View) -> View:
        @functools.wraps(admin_action)
        def checked(modeladmin: Any, request: HttpRequest, queryset: Any) -> Any:
            answer = demand(request, action, frozenset({"POST"}))
            return answer if answer is not None else admin_action(modeladmin, request, queryset)

        checked.step_up = action  # type: ignore[attr-defined]
        return checked

    if action not in DANGEROUS:
        raise ValueError(f"{action} is not a dangerous operation (add it to DANGEROUS).")
    return decorate


def demand(
    request: HttpRequest, action: AuditAction, methods: frozenset[str]
) -> HttpResponse | None:
    """None when the request may go on; otherwise the page asking for a code (or the redirect
    that repeats an export's GET once the code was right)."""
    if not settings.SECOND_FACTOR_REQUIRED:
        return None
    if request.method == "POST" and METHOD_FIELD in request.POST:
        return _answered(request, action)
    if request.method not in methods or devices.verified_recently(request):
        return None
    return _ask(request, action, CodeForm(prefix=PREFIX), request.method or "GET")


def _answered(request: HttpRequest, action: AuditAction) -> HttpResponse | None:
    original = request.POST.get(METHOD_FIELD, "POST")
    form = CodeForm(request.POST, prefix=PREFIX)
    if form.is_valid():
        check = devices.check_code(request, form.cleaned_data["code"], purpose=str(action))
        if check.verdict is devices.Verdict.ACCEPTED:
            if original == "GET":
                return HttpResponseRedirect(request.get_full_path(), status=303)
            sent = request.POST.copy()
            for name in (CODE_FIELD, METHOD_FIELD):
                sent.pop(name, None)
            request.POST = sent  # type: ignore[assignment]
            return None
        form.add_error("code", check.verdict.value)
    return _ask(request, action, form, original)


def _ask(request: HttpRequest, action: AuditAction, form: CodeForm, method: str) -> HttpResponse:
    kept = [
        (name, value)
        for name, values in (request.POST.lists() if request.method == "POST" else [])
        if name not in {CODE_FIELD, METHOD_FIELD, "csrfmiddlewaretoken"}
        for value in values
    ]
    response = TemplateResponse(
        request,
        TEMPLATE,
        {
            **admin.site.each_context(request),
            "title": "Confirm it's you",
            "what": DANGEROUS[action],
            "form": form,
            "kept": kept,
            "method": method,
            "method_field": METHOD_FIELD,
            "code_field": CODE_FIELD,
            "max_age_minutes": max(1, settings.STEP_UP_MAX_AGE_SECONDS // 60),
            "cancel_url": _back(request),
        },
        status=403 if form.errors else 200,
    )
    add_never_cache_headers(response)
    return response


def _back(request: HttpRequest) -> str:
    """Where "Cancel" goes: the page the person came from, if it is one of ours."""
    referer: str = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer
    return reverse("admin:index")
