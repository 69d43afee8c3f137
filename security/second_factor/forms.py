"""The one field every second-factor page asks for: a code."""

from __future__ import annotations

from django import forms

from security.second_factor.devices import MAX_CODE_LENGTH


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=MAX_CODE_LENGTH,
        strip=True,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery "
        "codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if "\x00" in code:
            raise forms.ValidationError("A code holds only letters, digits and dashes.")
        return code


class EnrolmentForm(CodeForm):
    code = forms.CharField(
        label="Code from your app",
        max_length=MAX_CODE_LENGTH,
        strip=True,
        help_text="The 6-digit code the app shows for this back office once you added it.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )
