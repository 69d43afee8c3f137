"""How a page or an admin action runs a confirmed operation: the errors of
``backoffice.operations`` mapped once, for every caller.

The shape is Django's ``delete_selected``: the page first says what will happen (with the
operation's refusal, asked before the form is shown), then a confirmed POST calls the service.
``Attempt`` runs that call: ``Refused`` becomes the reason on the form, kept on screen to be
corrected, with a 403; ``Invalid`` becomes a form error; ``NotFound`` becomes a 404 (or, for an
admin action over a selection that vanished meanwhile, a form error too). A form sent back with
errors, its own or the service's, is answered 400 by every page alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from backoffice.operations import Invalid, NotFound, Refused

T = TypeVar("T")


class Attempt(Generic[T]):
    """One confirmed call of a service for a page; ``status`` is the page's answer if it fails."""

    def __init__(
        self,
        form: Any,
        *,
        field: str | None = None,
        invalid_status: int = 400,
        not_found_on_form: bool = False,
    ) -> None:
        self.form = form
        self.field = field
        self.invalid_status = invalid_status
        self.not_found_on_form = not_found_on_form
        self._status = 200
        self.refused: Refused | None = None

    @property
    def status(self) -> int:
        """403 when refused, ``invalid_status`` when the form came back with errors, else 200."""
        if self._status != 200:
            return self._status
        validated = self.form is not None and hasattr(self.form, "cleaned_data")
        if validated and self.form.errors:
            return self.invalid_status
        return 200

    @status.setter
    def status(self, value: int) -> None:
        self._status = value

    def __call__(self, operation: Callable[[], T]) -> T | None:
        """The service's result, or None once the reason it failed is on the form."""
        try:
            return operation()
        except NotFound as gone:
            if not self.not_found_on_form:
                raise Http404(str(gone)) from gone
            self.status = self.invalid_status
            self.form.add_error(self.field, str(gone))
        except Refused as refused:
            refused.record()
            self.refused, self.status = refused, 403
            self.form.add_error(self.field, str(refused))
        except Invalid as invalid:
            self.status = self.invalid_status
            self.form.add_error(self.field, str(invalid))
        return None


CONFIRM_TEMPLATE = "backoffice/confirm.html"


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    form: Any,
    submit_label: str,
    opts: Any,
    consequences: Sequence[str] = (),
    original: Any = None,
    refusal: str | None = None,
    status: int = 200,
    cancel_url: str | None = None,
    cancel_label: str = "No, take me back",
    submit_class: str = "default",
    hidden: Sequence[tuple[str, str]] = (),
    subjects_template: str | None = None,
    stylesheets: Sequence[str] = (),
    **extra: Any,
) -> TemplateResponse:
    """The one confirmation page: what will happen, who or what it touches, then the form.

    A ``refusal`` (the operation's own, asked before the form is shown) replaces the form with
    the reason and "Back"; a refusal of what was chosen (``Attempt``) is a form error instead,
    so the form stays to be corrected. ``subjects_template`` shows what the operation touches;
    ``extra`` may add ``summary_template``, ``after_template``, ``note``, ``scripts``,
    ``body_class``, ``form_class``, ``submit_id`` and ``refusal_id``.
    """
    if refusal and form is not None and form.is_bound and form.non_field_errors():
        # Refused again by the service, under its lock: its own words (what stayed unchanged).
        refusal = " ".join(form.non_field_errors())
    original_url = None
    if original is not None:
        original_url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(str(original.pk))]
        )
    context = {
        **admin.site.each_context(request),
        "title": title,
        "opts": opts,
        "original": original,
        "original_url": original_url,
        "consequences": consequences,
        "form": form,
        "submit_label": submit_label,
        "submit_class": submit_class,
        "refusal": refusal,
        "cancel_url": cancel_url
        if cancel_url is not None
        else original_url or reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        "cancel_label": cancel_label,
        "hidden": hidden,
        "subjects_template": subjects_template,
        "stylesheets": stylesheets,
        **extra,
    }
    return TemplateResponse(request, CONFIRM_TEMPLATE, context, status=status)
