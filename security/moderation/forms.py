"""The input of moderation pages: a ban's reason and length, roles, a review note.

Forms only check what a person typed and say clearly what is wrong; who may do what to whom is
``backoffice.roles.person_refusal``, asked by the pages and again by the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from backoffice import presentation
from backoffice.roles import Role
from security.models import GatewayUser
from security.moderation.rules import MAX_NOTE_LENGTH, MAX_REASON_LENGTH, ban_end_problem

BAN_LENGTHS = {
    "1d": dt.timedelta(days=1),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}


class BanForm(forms.Form):
    required_css_class = "required"

    reason = forms.CharField(
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept with the ban and shown to other staff.",
    )
    length = forms.ChoiceField(
        label="Ban length",
        choices=[
            ("permanent", "Permanent"),
            ("1d", "1 day"),
            ("7d", "7 days"),
            ("30d", "30 days"),
            ("until", "Until the time below"),
        ],
        initial="permanent",
        widget=forms.RadioSelect,
    )
    # Read in the viewer's active zone (Django's DateTimeField does), which the label names.
    until = forms.DateTimeField(
        label="Banned until",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Only used with “Until the time below”.",
        error_messages={"invalid": "Enter a date and time, like 2030-01-31 18:00."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["until"].label = f"Banned until ({presentation.active_zone_name()})"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("length") == "until" and "until" not in self.errors:
            until = cleaned.get("until")
            if until is None:
                self.add_error("until", "Choose when the ban ends.")
            elif (problem := ban_end_problem(until)) is not None:
                self.add_error("until", problem)
        return cleaned

    @classmethod
    def initial_for(cls, user: GatewayUser) -> dict[str, Any]:
        """A ban in force starts the form from its current reason and end, to be changed."""
        if not user.ban_in_force():
            return {}
        if user.ban_expires is None:
            return {"reason": user.ban_reason or "", "length": "permanent"}
        until = user.ban_expires.replace(second=0, microsecond=0)
        return {"reason": user.ban_reason or "", "length": "until", "until": until}

    def ban_expires(self) -> dt.datetime | None:
        """When the ban ends (None: permanent), from the chosen length."""
        length = self.cleaned_data["length"]
        if length == "permanent":
            return None
        if length == "until":
            until: dt.datetime | None = self.cleaned_data["until"]
            return until
        return timezone.now() + BAN_LENGTHS[length]


class RolesForm(forms.Form):
    """Checkboxes for the roles the actor may grant (``offered``), and only those.

    Every known role is still accepted as input, so that a posted role the actor may not grant
    reaches the service, which refuses it with its reason and records the attempt.
    """

    required_css_class = "required"

    roles = forms.MultipleChoiceField(
        choices=[(role.value, role.value) for role in Role],
        widget=forms.CheckboxSelectMultiple,
        help_text="Stored in the gateway as comma-separated text, e.g. “tenant_admin,user”.",
        error_messages={"required": "Choose at least one role (“user” for none)."},
    )

    def __init__(self, *args: Any, offered: frozenset[Role] = frozenset(Role), **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["roles"]
        field.widget.choices = [(role.value, role.value) for role in Role if role in offered]


class ReviewForm(forms.Form):
    required_css_class = "required"

    note = forms.CharField(
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="What you checked and what you concluded.",
    )


class ConfirmForm(forms.Form):
    """No input: posting it confirms an action the page has described."""


class BanAndContainForm(BanForm):
    """The ban, plus what it may stop with it: the API keys the users created.

    Offered only when they have working keys (``offer_keys``); unticked, the keys keep working.
    """

    revoke_keys = forms.BooleanField(
        label="Revoke these keys too",
        required=False,
        help_text="Every working API key listed above is revoked in the same transaction.",
        widget=forms.CheckboxInput(attrs={"aria-label": "Revoke these keys too"}),
    )

    def __init__(self, *args: Any, offer_keys: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not offer_keys:
            del self.fields["revoke_keys"]

    def revokes_keys(self) -> bool:
        return bool(self.cleaned_data.get("revoke_keys"))
