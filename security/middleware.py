"""Attach ``request.actor`` to every request, and end the session of staff who lost access."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import auth, messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.functional import SimpleLazyObject

from security.authentication import audit_forced_sign_out
from security.session_reads import reading_session
from security.staff import actor_for
from security.staff_sessions import (
    RECORDED_AS,
    check_session,
    current_digest,
    end_sessions_of_user,
    follow_cycled_key,
    record_session,
)


class StaffAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's ``AuthenticationMiddleware``, reading the session's checks with the user.

    The user is still read by ``django.contrib.auth.get_user`` (backend, session hash and all);
    the sign-in backend's ``get_user`` also reads this session's second-factor device and
    licence in the same query (security/session_reads.py).
    """

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user_with_session_checks(request))  # type: ignore[assignment]


def _user_with_session_checks(request: HttpRequest) -> AbstractBaseUser | AnonymousUser:
    # The same per-request cache as Django's own middleware (login and logout replace it).
    if not hasattr(request, "_cached_user"):
        with reading_session(request.session):
            request._cached_user = auth.get_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined,no-any-return]


class StaffMiddleware:
    """After ``AuthenticationMiddleware``: a ban or role change in the gateway applies at once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The request log gave the request its id first, so its line and the audit rows agree.
        if getattr(request, "request_id", None) is None:
            request.request_id = uuid.uuid4()  # type: ignore[attr-defined]
        # The user agent is written to text columns (audit rows, login throttling), which cannot
        # hold NUL: a header carrying one would otherwise turn every write into a server error.
        if "\x00" in request.META.get("HTTP_USER_AGENT", ""):
            request.META["HTTP_USER_AGENT"] = request.META["HTTP_USER_AGENT"].replace("\x00", "")
        actor, refusal = actor_for(request.user, request)
        # The one place the attribute is set (None for a visitor): pages read it typed, through
        # ``backoffice.staff_request.StaffRequest``.
        request.actor = actor  # type: ignore[attr-defined]
        if refusal is not None:
            audit_forced_sign_out(request, refusal)
            # Every other back-office session of theirs ends too, not only this one.
            end_sessions_of_user(request.user.pk)  # type: ignore[arg-type]
            logout(request)
            messages.error(request, f"You were signed out: {refusal.value}")
            return redirect("admin:login")
        return self.get_response(request)


class StaffSessionMiddleware:
    """After ``StaffMiddleware``: end sessions ended elsewhere, idle too long, or too old.

    Also records each signed-in session, so the person's session list shows it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reason = check_session(request)
        if reason is not None:
            logout(request)
            messages.info(request, reason)
            return redirect("admin:login")
        response = self.get_response(request)
        # Signed in during this request: record the new session now, so it is listed at once.
        digest = current_digest(request)
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        recorded = request.session.get(RECORDED_AS) if authenticated else None
        if digest is None or not authenticated or recorded == digest:
            return response
        # A key cycled during this request (the second factor) keeps its one row.
        if recorded is None or not follow_cycled_key(request, recorded, digest):
            record_session(request)
        return response
