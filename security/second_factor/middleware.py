"""Keep signed-in staff without a checked second factor to enrolment, verification and sign-out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware

from security.second_factor.devices import is_enrolled
from security.session_reads import device_read_for

# The only views open to a staff member who has given their password but no code yet.
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {
        "admin:login",
        "admin:logout",
        "admin:jsi18n",
        "security:second_factor_enrol",
        "security:second_factor_verify",
    }
)


class SecondFactorMiddleware:
    """After ``StaffMiddleware``, which has already signed out anyone banned or without a role."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or not settings.SECOND_FACTOR_REQUIRED:
            return None
        if user.is_verified():  # type: ignore[attr-defined]
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_BEFORE_SECOND_FACTOR:
            return None
        name = "verify" if is_enrolled(user) else "enrol"
        url = reverse(f"security:second_factor_{name}")
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)


class SessionDeviceMiddleware(OTPMiddleware):  # type: ignore[misc]  # django-otp ships no types
    """django-otp's ``OTPMiddleware``, using the device the user's query already read.

    ``request.user.otp_device`` is the device that verified this session, checked on every
    request (a deleted or unconfirmed device, or another person's, verifies nothing), exactly
    as django-otp does; only the device's own query is saved when ``get_user`` read it
    (security/session_reads.py). Otherwise django-otp reads it as it always does.
    """

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        # django-otp's own method, but for where the device comes from.
        self._init_user_fields(user)
        if user.is_authenticated:
            persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
            device = None
            if persistent_id:
                was_read, device = device_read_for(user, persistent_id)
                if not was_read:
                    device = self._device_from_persistent_id(persistent_id)
            user.otp_device = self._finalize_device(request, user, device)
        return user
