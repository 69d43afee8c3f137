"""The explorers' filter form class is built once per set of choices, never shared across them.

django-filter builds a form class (and a field per filter) for every request; the explorers
keep one per filter set and choices (``LogFilterSet.get_form_class``, issue #11), so a tenant
admin's form must still offer only their own tenant and servers, and a URL's unknown
parameters must still be refused.
"""

from __future__ import annotations

import pytest

from audit.filters import AuditLogFilter, RequestLogFilter

TENANT_A = [("11111111-1111-1111-1111-111111111111", "Tenant A")]
TENANT_B = [("22222222-2222-2222-2222-222222222222", "Tenant B")]


def tenant_values(form) -> list[str]:
    return [str(value) for value, _label in form.fields["tenant"].choices]


@pytest.mark.django_db
def test_the_same_choices_share_one_form_class():
    first = AuditLogFilter({}, tenant_choices=TENANT_A)
    second = AuditLogFilter({"period": "24h"}, tenant_choices=TENANT_A)
    assert first.get_form_class() is second.get_form_class()
    assert second.is_valid()


@pytest.mark.django_db
def test_other_choices_get_their_own_class_and_only_their_own_choices():
    form_a = AuditLogFilter({}, tenant_choices=TENANT_A).form
    form_b = AuditLogFilter({}, tenant_choices=TENANT_B).form
    assert type(form_a) is not type(form_b)
    assert TENANT_A[0][0] in tenant_values(form_a) and TENANT_B[0][0] not in tenant_values(form_a)
    assert TENANT_B[0][0] in tenant_values(form_b) and TENANT_A[0][0] not in tenant_values(form_b)
    # A tenant outside the viewer's choices is refused, whichever class was built first.
    refused = AuditLogFilter({"tenant": TENANT_A[0][0]}, tenant_choices=TENANT_B)
    assert not refused.is_valid()
    assert "tenant" in refused.errors


@pytest.mark.django_db
def test_servers_are_part_of_the_key_too():
    docs = RequestLogFilter({}, tenant_choices=TENANT_A, server_choices=[("s1", "Docs")])
    other = RequestLogFilter({}, tenant_choices=TENANT_A, server_choices=[("s2", "Other")])
    assert type(docs.form) is not type(other.form)
    assert [v for v, _ in other.form.fields["server"].choices if v] == ["s2"]


@pytest.mark.django_db
def test_unknown_parameters_are_still_refused_and_do_not_stick_to_the_shared_class():
    unknown = AuditLogFilter({"colour": "red"}, tenant_choices=TENANT_A)
    assert not unknown.is_valid()
    assert "Unknown filter: colour" in str(unknown.errors)
    clean = AuditLogFilter({"period": "24h"}, tenant_choices=TENANT_A)
    assert clean.is_valid(), clean.errors
