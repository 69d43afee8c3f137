"""The back office's admin site: access by gateway role, sign-in with gateway credentials."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver

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
