"""The signed-in person's own back-office sessions, and "sign out everywhere"."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from backoffice.errors import PAGES, error_page
from backoffice.staff_request import StaffRequest
from security import services
from security.moderation.devices import device_summary
from security.staff_sessions import current_digest, sessions_of

SCOPES = {"others": False, "all": True}


@require_http_methods(["GET", "POST"])
def _own_sessions(request: StaffRequest) -> HttpResponse:
    if request.method == "POST":
        scope = request.POST.get("scope", "")
        if scope not in SCOPES:
            return error_page(request, 400, PAGES[400])
        ended = services.sign_out_own_sessions(
            actor=request.actor,
            django_user_id=request.user.pk,
            current_digest=current_digest(request),
            include_current=SCOPES[scope],
        )
        if SCOPES[scope]:
            logout(request)
            messages.info(request, "You were signed out everywhere, here too.")
            return redirect("admin:login")
        others = "session" if ended == 1 else "sessions"
        messages.success(request, f"Signed out {ended} other {others}.")
        return redirect("security:own_sessions")
    rows = [
        {**asdict(row), "device": device_summary(row.user_agent)} for row in sessions_of(request)
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Your back-office sessions",
        "sessions": rows,
        "others": any(not row["is_current"] for row in rows),
        "idle_minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES,
        "max_hours": settings.SESSION_MAX_AGE_HOURS,
    }
    return TemplateResponse(request, "security/own_sessions.html", context)


# Every back-office role (and break-glass) may see and end their own sessions.
own_sessions = admin.site.admin_view(_own_sessions)
