"""Keep signed-in staff without a checked second factor to enrolment, verification and sign-out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from security.second_factor.devices import is_enrolled

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
