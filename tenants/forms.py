"""Forms of the tenant lifecycle and of a tenant's plan, limits and settings."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from tenants.services import MAX_LIMIT, MAX_REASON_LENGTH
from tenants.settings_shape import SETTINGS, SettingsProblem, parse_settings


class TenantStatusForm(forms.Form):
    """The reason recorded with a suspension, a reactivation or an archive."""

    reason = forms.CharField(
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Recorded in the audit log with the change.",
    )

    def __init__(self, *args: Any, reason_required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required


class TenantEditForm(forms.Form):
    plan = forms.RegexField(
        regex=r"^[a-z0-9][a-z0-9_-]{0,49}$",
        max_length=50,
        error_messages={"invalid": "Use lower-case letters, digits, '-' or '_' (e.g. enterprise)."},
    )
    max_api_keys = forms.IntegerField(
        label="API key limit",
        min_value=0,
        max_value=MAX_LIMIT,
        help_text="Usable keys the tenant may hold. Lowering it revokes nothing.",
    )
    max_servers = forms.IntegerField(
        label="Server limit",
        min_value=0,
        max_value=MAX_LIMIT,
        help_text="Servers the tenant may register. Lowering it removes nothing.",
    )
    settings = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 70, "spellcheck": "false"}),
        help_text="A JSON object. Documented keys: "
        + "; ".join(f"{s.name} ({s.description})" for s in SETTINGS.values())
        + ". Keys the gateway added itself are kept as they are.",
    )

    def __init__(self, *args: Any, current_settings: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_settings = current_settings

    def clean_settings(self) -> dict[str, Any]:
        text = self.cleaned_data.get("settings") or "{}"
        try:
            return parse_settings(text, self.current_settings)
        except SettingsProblem as problem:
            raise forms.ValidationError(str(problem), code="shape") from problem

    @staticmethod
    def initial_for(tenant: Any) -> dict[str, Any]:
        return {
            "plan": tenant.plan,
            "max_api_keys": tenant.max_api_keys,
            "max_servers": tenant.max_servers,
            "settings": json.dumps(tenant.settings or {}, indent=2, sort_keys=True),
        }
