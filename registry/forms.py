"""Forms of the registry's staff actions."""

from __future__ import annotations

from django import forms

from registry.services import MAX_REASON_LENGTH


class ServerActivationForm(forms.Form):
    """The optional reason recorded in the audit row of a deactivation or reactivation."""

    reason = forms.CharField(
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Recorded in the audit log with the change.",
    )
