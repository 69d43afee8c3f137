"""The explorers' filter widgets, rendered in Python, are the HTML Django's templates render.

Compared field by field on both explorers' forms, bound to values, a chosen option, a value that
needs escaping and a field in error (``aria-invalid``, ``aria-describedby``).
"""

from __future__ import annotations

import pytest
from django.forms.renderers import DjangoTemplates
from django.template import Context, Template
from django.test.html import parse_html

from audit.filters import AuditLogFilter, RequestLogFilter
from audit.form_rendering import fields_html

DATA = {
    "tenant": "platform",
    "period": "24h",
    "actor": 'a"<b>&c',
    "outcome": "denied",
    "ip": "not an ip",
    "status": "5xx",
    "min_duration": "-1",
    "since": "2026-01-02T03:04:05",
    "tz": "Europe/Paris",
}


def validated_form(filter_class, data, renderer=None):
    """The explorer's form bound to ``data`` and validated, with a tenant (and a server) whose
    name needs escaping; with Django's own widget templates when ``renderer`` says so."""
    kwargs = {"tenant_choices": [("11111111-1111-1111-1111-111111111111", "Tenant <A> & co")]}
    if filter_class is RequestLogFilter:
        kwargs["server_choices"] = [("22222222-2222-2222-2222-222222222222", "Docs")]
    form = filter_class(data, **kwargs).form
    if renderer is not None:
        form.renderer = renderer
    form.is_valid()
    return form


@pytest.mark.django_db
@pytest.mark.parametrize("filter_class", [AuditLogFilter, RequestLogFilter])
@pytest.mark.parametrize("data", [{}, DATA], ids=["empty", "bound"])
def test_every_widget_renders_as_djangos_templates_do(filter_class, data):
    fast = validated_form(filter_class, data)
    django = validated_form(filter_class, data, renderer=DjangoTemplates())
    rendered = 0
    for fast_field, django_field in zip(
        fast.visible_fields(), django.visible_fields(), strict=True
    ):
        assert str(fast_field) == str(django_field), fast_field.name
        rendered += 1
    assert rendered >= 10
    if data:
        assert fast.errors  # the error attributes were part of the comparison


# The loop templates/audit/log_list.html ran before audit.form_rendering.fields_html replaced it.
FIELDS_TEMPLATE = (
    "{% for field in form.visible_fields %}\n"
    '<div class="explorer-field{% if field.errors %} has-error{% endif %}">\n'
    '  <label for="{{ field.id_for_label }}">{{ field.label }}</label>\n'
    "  {{ field }}\n"
    '  {% if field.errors %}<ul class="errorlist" id="{{ field.auto_id }}_errors">'
    "{% for error in field.errors %}<li>{{ error }}</li>{% endfor %}</ul>{% endif %}\n"
    "</div>\n"
    "{% endfor %}\n"
)


@pytest.mark.django_db
@pytest.mark.parametrize("filter_class", [AuditLogFilter, RequestLogFilter])
@pytest.mark.parametrize("data", [{}, DATA], ids=["empty", "bound"])
def test_the_field_boxes_are_the_html_the_template_loop_rendered(filter_class, data):
    form = validated_form(filter_class, data)
    expected = Template(FIELDS_TEMPLATE).render(Context({"form": form}))
    rendered = fields_html(form)
    assert parse_html(rendered) == parse_html(expected)
    assert rendered.count('class="explorer-field') == len(form.visible_fields()) >= 10
    if data:
        assert rendered.count("has-error") >= 2  # the errors were part of the comparison
    assert "Tenant &lt;A&gt; &amp; co" in rendered and "<A>" not in rendered
