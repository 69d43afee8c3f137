"""Forms of the API key pages: they turn what a person typed into the values services expect.

Every field is bounded (lengths, numbers, dates) so that odd input becomes a message on the form,
never a server error; the services check the same rules again for commands.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.utils import timezone

from backoffice import presentation
from security.api_keys import inputs, services
from security.api_keys import scopes as scope_catalog
from tenants.models import Tenant

EXPIRY_CHOICES = [
    ("never", "No expiry"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In 365 days"),
    ("date", "On a date"),
]
GRACE_CHOICES = [
    ("now", "Now: the old key stops working at once"),
    ("1h", "In 1 hour"),
    ("24h", "In 24 hours"),
    ("7d", "In 7 days"),
]


def printable(value: Any) -> str:
    """A value typed or posted by someone, fit to echo in a message: no NUL, bounded length."""
    return str(value).replace("\x00", "")[:40]


def without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value


class PrintableBoundField(BoundField):
    """A field shown back to the person who sent it, minus any NUL character (which no text
    holds): the field's error still says it was refused."""

    def value(self) -> Any:
        return without_nul(super().value())


class PrintableForm(forms.Form):
    bound_field_class = PrintableBoundField


class EchoSafeChoices:
    """For choice fields: "X is not one of the available choices" never echoes a NUL character
    or a page-long value into the HTML."""

    def validate(self, value: Any) -> None:
        try:
            super().validate(value)  # type: ignore[misc]
        except forms.ValidationError as error:
            if getattr(error, "code", None) != "invalid_choice":
                raise
            params = dict(getattr(error, "params", None) or {})
            raise forms.ValidationError(
                error.message,
                code="invalid_choice",
                params={"value": printable(params.get("value"))},
            ) from None


class ChoiceField(EchoSafeChoices, forms.ChoiceField):
    pass


class ScopesField(EchoSafeChoices, forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, extra: list[str] | tuple[str, ...] = (), **kwargs: Any) -> None:
        choices = scope_catalog.catalog_choices() + [
            (scope, f"{scope} — not in the catalog (kept unless you untick it)") for scope in extra
        ]
        super().__init__(
            choices=choices,
            label="Scopes",
            help_text="What the key may do at the gateway. Give it only what it needs.",
            error_messages={"required": "Choose at least one scope."},
            **kwargs,
        )


# ModelChoiceField takes no type argument at run time (django-stubs gives it one).
class TenantField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A tenant among the actor's; anything else (a malformed id too) is "not one of these"."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            if getattr(error, "code", None) == "invalid_choice":
                raise
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class ExpiryMixin(PrintableForm):
    """The expiry choice shared by creating, editing and rotating a key."""

    expiry = ChoiceField(choices=EXPIRY_CHOICES, initial="90", widget=forms.RadioSelect)
    expires_on = forms.DateField(
        required=False,
        label="Expiry date",
        help_text="With “On a date”: the key works until the end of this day, in your time zone.",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2030-01-31."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The day ends at midnight in the viewer's active zone, which the label names.
        self.fields["expires_on"].label = f"Expiry date ({presentation.active_zone_name()})"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("expiry") == "date":
            day = cleaned.get("expires_on")
            today = timezone.localdate()
            if day is None:
                if "expires_on" not in self.errors:
                    self.add_error("expires_on", "Choose the date the key expires on.")
            elif day < today:
                self.add_error("expires_on", "The date has passed: choose today or later.")
            elif day > today + inputs.MAX_LIFETIME - dt.timedelta(days=1):
                self.add_error("expires_on", "A key can be valid for at most ten years.")
        return cleaned

    def expires_at(self) -> dt.datetime | services.Unchanged | None:
        """The chosen expiry as an aware time (None: never; ``services.KEEP``: unchanged); a date
        ends at midnight in the viewer's zone."""
        choice = self.cleaned_data["expiry"]
        if choice == "keep":
            return services.KEEP
        if choice == "never":
            return None
        if choice == "date":
            day = self.cleaned_data["expires_on"] + dt.timedelta(days=1)
            return dt.datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())
        return timezone.now() + dt.timedelta(days=int(choice))


class OnceOnlyForm(PrintableForm):
    """A form that issues a key carries a token, so sending it twice issues one key only."""

    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form_token"].initial = secrets.token_urlsafe(16)


class CreateKeyForm(ExpiryMixin, OnceOnlyForm):
    field_order = ["tenant", "name", "scopes", "expiry", "expires_on", "rate_limit_per_minute"]

    name = forms.CharField(
        max_length=inputs.MAX_NAME_LENGTH,
        help_text="Who or what uses the key, e.g. “CI pipeline” or “Billing service”.",
    )
    scopes = ScopesField()
    rate_limit_per_minute = forms.IntegerField(
        label="Rate limit (requests per minute)",
        initial=60,
        min_value=inputs.MIN_RATE_LIMIT,
        max_value=inputs.MAX_RATE_LIMIT,
    )

    def __init__(self, *args: Any, tenants: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if tenants is not None:
            # Only for staff who manage every tenant: the choices are the actor's scoped tenants.
            self.fields["tenant"] = TenantField(
                queryset=tenants,
                empty_label="Choose a tenant",
                help_text="The tenant whose key this is.",
                error_messages={"invalid_choice": "Choose one of the tenants listed."},
            )
            self.order_fields(self.field_order)

    def tenant(self) -> Tenant | None:
        return self.cleaned_data.get("tenant")


class EditKeyForm(ExpiryMixin, PrintableForm):
    name = forms.CharField(max_length=inputs.MAX_NAME_LENGTH)
    rate_limit_per_minute = forms.IntegerField(
        label="Rate limit (requests per minute)",
        min_value=inputs.MIN_RATE_LIMIT,
        max_value=inputs.MAX_RATE_LIMIT,
    )

    field_order = ["name", "scopes", "expiry", "expires_on", "rate_limit_per_minute"]

    def __init__(self, data: Any = None, *, key: Any) -> None:
        initial = {
            "name": key.name,
            "scopes": list(key.scopes),
            "expiry": "keep",
            "rate_limit_per_minute": key.rate_limit_per_minute,
        }
        super().__init__(data, initial=initial)
        self.fields["scopes"] = ScopesField(extra=scope_catalog.unknown_scopes(key.scopes))
        current = presentation.when(key.expires_at) if key.expires_at else "never"
        self.fields["expiry"] = ChoiceField(
            label="Expiry",
            choices=[("keep", f"Keep the current expiry ({current})"), *EXPIRY_CHOICES],
            initial="keep",
            widget=forms.RadioSelect,
        )
        self.order_fields(self.field_order)


class RevokeKeyForm(PrintableForm):
    reason = forms.CharField(
        max_length=inputs.MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit log, e.g. “Leaked in a public repository”.",
    )


class RotateKeyForm(ExpiryMixin, OnceOnlyForm):
    grace = ChoiceField(
        label="The old key stops working",
        choices=GRACE_CHOICES,
        initial="24h",
        widget=forms.RadioSelect,
        help_text="Time to put the new key in place before the old one expires.",
    )

    field_order = ["grace", "expiry", "expires_on"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expiry"].label = "The new key expires"
        self.order_fields(self.field_order)

    def grace_period(self) -> dt.timedelta:
        return services.GRACE_PERIODS[self.cleaned_data["grace"]]
