"""The back office's admin site: access by gateway role, sign-in with gateway credentials."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.db import transaction
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver
from django.utils.functional import SimpleLazyObject

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

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        """Django's app list, built when a page first reads it.

        ``each_context`` puts it in every admin page's context, yet only the index and the
        sidebar draw it; the explorers and reports hide the sidebar, so building it (a permission
        check and URL for each registered model) was work no one saw on the busiest pages.
        """
        parent = super().get_app_list
        return cast(list[Any], SimpleLazyObject(lambda: parent(request, app_label)))

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Django's sign-in, with the back office's limits, landing and break-glass audit.

        A POST over the per-address limit is refused before any password is tried. Without a
        safe ``next`` a person lands on their role's page (``security.landing``), never on
        Django's ``/accounts/profile/``. Gateway staff are audited by their backend
        (``security.authentication``); a local superuser signs in through Django's own
        backend, which writes nothing, so the row is written here.
        """
        # Imported here: the admin site is built before the apps' models are loaded.
        from security.landing import landing_url, safe_next
        from security.sign_in_limits import refuse_if_too_many
        from security.staff import actor_for

        if request.method == "POST":
            refused = refuse_if_too_many(request)
            if refused is not None:
                return refused
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            # Django's admin would fill in its own index; each role has a page of its own.
            extra_context = {REDIRECT_FIELD_NAME: "", **(extra_context or {})}
        response = super().login(request, extra_context)
        signed_in = request.method == "POST" and request.user.is_authenticated
        if not signed_in or getattr(response, "status_code", 0) != 302:
            return response
        actor, _refusal = actor_for(request.user, request)
        # Sign-in links gateway staff to users that are never superusers: only break-glass is.
        if actor is not None and actor.is_break_glass:
            with transaction.atomic():
                record_staff_action(
                    actor=actor,
                    action=AuditAction.STAFF_SIGN_IN,
                    resource_type="user",
                    resource_id=actor.actor_id,
                    details={"method": "local superuser (break-glass)"},
                )
        posted_next = request.POST.get(REDIRECT_FIELD_NAME, request.GET.get(REDIRECT_FIELD_NAME))
        if safe_next(request, posted_next) is None:
            response["Location"] = landing_url(actor)
        return response

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Django's sign-out, which also removes this session from the person's session list."""
        from security.staff_sessions import forget_current_session

        if request.method == "POST":
            forget_current_session(request)
        return super().logout(request, extra_context)

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
