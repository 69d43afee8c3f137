"""The explorers' filter widgets rendered in Python instead of through Django's widget templates.

Issue #11: rendering the filter form's ~15 widgets (a template and its includes per widget, one
more per ``<option>``) was a third of an explorer page's rendering time. The widgets keep
everything Django gives them (``BoundField.as_widget`` still builds the id, value, ``required``,
``aria-invalid`` and ``aria-describedby``); only the last step, turning the widget's context
into HTML, is done here, for the widget templates the explorers use, with the same output
(``tests/audit/test_filter_form_rendering.py`` compares them). Any other template goes through
Django's renderer as before.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString, mark_safe

from backoffice.presentation import escaped

INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html" for name in ("text", "datetime", "number", "input")
)
SELECT_TEMPLATE = "django/forms/widgets/select.html"


def html_attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: False leaves an attribute out, True writes its name."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{escaped(value)}"')
    return "".join(parts)


def input_html(widget: dict[str, Any]) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{escaped(value)}"'
    return (
        f'<input type="{escaped(widget["type"])}" '
        f'name="{escaped(widget["name"])}"{shown}{html_attrs(widget["attrs"])}>'
    )


def select_html(widget: dict[str, Any]) -> str:
    # The whitespace is the templates': select_option.html ends with a newline.
    parts = [f'<select name="{escaped(widget["name"])}"{html_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{escaped(group_name)}">')
        for option in group_choices:
            parts.append(
                f'\n  <option value="{escaped(option["value"])}"'
                f"{html_attrs(option['attrs'])}>{escaped(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def fields_html(form: forms.Form) -> SafeString:
    """The filter form's visible fields, each in its ``explorer-field`` box with its label and
    errors: what the template loop it replaced rendered (kept in
    ``tests/audit/test_filter_form_rendering.py``, which compares the two), without a template
    loop over ~15 fields."""
    parts = []
    for field in form.visible_fields():
        errors = field.errors
        error_list = (
            f'<ul class="errorlist" id="{escaped(field.auto_id)}_errors">'
            + "".join(f"<li>{escaped(error)}</li>" for error in errors)
            + "</ul>"
            if errors
            else ""
        )
        parts.append(
            f'<div class="explorer-field{" has-error" if errors else ""}">'
            f'<label for="{escaped(field.id_for_label)}">{escaped(field.label)}</label>'
            f"{field}{error_list}</div>\n"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped, the widgets by Django


class ExplorerWidgetRenderer(DjangoTemplates):
    """Django's template renderer, with the explorers' input and select widgets in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget")
        if widget is not None and template_name in INPUT_TEMPLATES:
            return mark_safe(input_html(widget))  # noqa: S308 - every value escaped above
        if widget is not None and template_name == SELECT_TEMPLATE:
            return mark_safe(select_html(widget))  # noqa: S308 - every value escaped above
        return super().render(template_name, context, request)


EXPLORER_WIDGET_RENDERER = ExplorerWidgetRenderer()
