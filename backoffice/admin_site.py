"""The back office's admin site: access by gateway role, sign-in with gateway credentials."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest


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
