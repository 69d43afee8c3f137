"""The back office's admin site: access by gateway role, sign-in with gateway credentials."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import transaction
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver

from backoffice.audit_actions import AuditAction
from backoffice.staff_audit import record_staff_action

REMOVED_URL_NAMES = frozenset({"view_on_site"})


class StaffLoginForm(AdminAuthenticationForm):
    """The admin sign-in form, saying why a correct password was still refused."""

    username = forms.CharField(label="Email or username", max_length=320)

    def clean(self):  # type: ignore[no-untyped-def]
        try:
            return super().clean()
        except forms.ValidationError:
            refusal = getattr(self.request, "backoffice_refusal", None)
            if refusal is not None:
                raise forms.ValidationError(refusal.value, code="refused") from None
            raise


class BackofficeAdminSite(admin.AdminSite):
    site_header = "MCP Gateway back office"
    site_title = "MCP Gateway back office"
    index_title = "Back office"
    login_form = StaffLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        actor = getattr(request, "actor", None)
        return actor is not None and actor.has_backoffice_role()

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Django's sign-in, plus an audit row when a local break-glass superuser gets in.

        Gateway staff are audited by their backend (``security.authentication``); a local
        superuser signs in through Django's own backend, which writes nothing.
        """
        response = super().login(request, extra_context)
        # Sign-in links gateway staff to users that are never superusers: only break-glass is.
        signed_in = request.method == "POST" and getattr(request.user, "is_superuser", False)
        if signed_in and getattr(response, "status_code", 0) == 302:
            # Imported here: the admin site is built before the apps' models are loaded.
            from security.staff import actor_for

            actor, _refusal = actor_for(request.user, request)
            if actor is not None and actor.is_break_glass:
                with transaction.atomic():
                    record_staff_action(
                        actor=actor,
                        action=AuditAction.STAFF_SIGN_IN,
                        resource_type="user",
                        resource_id=actor.actor_id,
                        details={"method": "local superuser (break-glass)"},
                    )
        return response

    def get_urls(self) -> list[URLPattern | URLResolver]:
        """Django's URLs less the ones this back office must not have.

        ``view_on_site`` (``/admin/r/<type>/<id>/``) reads any model through its unscoped manager,
        so it would tell a tenant admin which of another tenant's ids exist; no model here has a
        public page to send anyone to.
        """
        return [
            pattern
            for pattern in super().get_urls()
            if getattr(pattern, "name", None) not in REMOVED_URL_NAMES
        ]
