"""The input of the account lifecycle pages. Forms check what was typed; the services check it
again (the same rules, ``security.lifecycle.rules``) and decide who may do it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from backoffice.roles import Role
from security.lifecycle.rules import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem

PASSWORD_HELP = (
    f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, as Better-Auth requires. "
    "Hashed with scrypt as Better-Auth does; never shown again, never logged."
)


class _PasswordTwice(forms.Form):
    """A password typed twice; never rendered back into the page."""

    password_required = True

    password = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].required = self.password_required
        self.fields["password_again"].required = self.password_required

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password") or ""
        if password or cleaned.get("password_again"):
            if (problem := password_problem(password)) is not None:
                self.add_error("password", problem)
            elif password != cleaned.get("password_again"):
                self.add_error("password_again", "The two passwords differ.")
        return cleaned


class CreateUserForm(_PasswordTwice):
    required_css_class = "required"
    password_required = False
    field_order = ["email", "name", "roles", "tenant", "password", "password_again"]

    email = forms.CharField(max_length=254, help_text="Stored lower-cased, as Better-Auth does.")
    name = forms.CharField(max_length=200)
    roles = forms.MultipleChoiceField(
        choices=[(role.value, role.value) for role in Role],
        widget=forms.CheckboxSelectMultiple,
        initial=[Role.USER.value],
        error_messages={"required": "Choose at least one role (“user” for none)."},
    )
    tenant = forms.ChoiceField(required=False, help_text="None: a platform account.")

    def __init__(
        self,
        *args: Any,
        offered: frozenset[Role] = frozenset(Role),
        tenants: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].widget.choices = [(r.value, r.value) for r in Role if r in offered]
        tenant = self.fields["tenant"]
        assert isinstance(tenant, forms.ChoiceField)
        tenant.choices = [("", "None (platform)"), *tenants]
        self.fields["password"].help_text = "Optional: without one, no password sign-in. " + (
            PASSWORD_HELP
        )


class SetPasswordForm(_PasswordTwice):
    required_css_class = "required"


class RemoveUserForm(forms.Form):
    revoke_keys = forms.BooleanField(
        label="Revoke their keys",
        required=False,
        help_text="Every working API key they created is revoked in the same transaction.",
        widget=forms.CheckboxInput(attrs={"aria-label": "Revoke their keys"}),
    )
