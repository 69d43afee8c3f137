"""Each staff member's time zone: chosen once, remembered, and active on every page they open.

Times are shown in it (``backoffice.presentation``) and every time a form asks for is read in it,
with the zone in the field's label. The choice is kept in ``StaffPreference`` and read in the
query that finds the staff account on every request, so every browser follows it at once.
Commands have no person's zone: they read a time without an offset as UTC and say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from backoffice import presentation
from backoffice.audit_actions import AuditAction
from backoffice.models import StaffPreference
from backoffice.staff_audit import record_staff_action


def set_time_zone(*, actor: Any, django_user: Any, time_zone: str) -> None:
    """Remember ``time_zone`` for this staff member (audited: it changes what their pages say)."""
    if time_zone not in presentation.zone_names():
        raise ValueError(f"Unknown time zone {time_zone!r}.")
    with transaction.atomic():
        StaffPreference.objects.update_or_create(
            django_user=django_user, defaults={"time_zone": time_zone}
        )
        if actor is not None:
            record_staff_action(
                actor=actor,
                action=AuditAction.STAFF_TIME_ZONE,
                resource_type="staff",
                resource_id=actor.actor_id,
                details={"time_zone": time_zone},
            )


class StaffTimeZoneMiddleware:
    """Activate the signed-in staff member's time zone for the request (else ``TIME_ZONE``).

    After ``security.middleware.StaffMiddleware``: the actor it builds carries the zone, read in
    the same query as the staff account, so a page pays nothing for it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor = getattr(request, "actor", None)
        name = getattr(actor, "time_zone", None)
        if name and name in presentation.zone_names():
            timezone.activate(name)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label="Show and read times in")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [  # type: ignore[attr-defined]
            (name, name) for name in sorted(presentation.zone_names())
        ]


@require_http_methods(["GET", "POST"])
def _time_zone_page(request: HttpRequest) -> HttpResponse:
    """The picker: every staff member may choose their own zone (and nobody else's)."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    if request.method == "POST":
        form = TimeZoneForm(request.POST)
        if form.is_valid():
            name = form.cleaned_data["time_zone"]
            set_time_zone(
                actor=getattr(request, "actor", None), django_user=request.user, time_zone=name
            )
            return HttpResponseRedirect(next_url)
    else:
        form = TimeZoneForm(initial={"time_zone": presentation.active_zone_name()})
    context = {
        **admin.site.each_context(request),
        "title": "Your time zone",
        "form": form,
        "next": next_url,
    }
    status = 400 if form.errors else 200
    return TemplateResponse(request, "backoffice/time_zone.html", context, status=status)


# Open to anyone with a back-office role, like the dashboard: it changes only their own pages.
time_zone_page = admin.site.admin_view(_time_zone_page)
