"""Editing a tenant's plan, limits and settings: validated, audited with before and after."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditLog
from backoffice.operations import Invalid, Refused
from tenants.models import Tenant
from tenants.services import update_tenant
from tenants.settings_shape import SettingsProblem, parse_settings
from tests.pages import assert_not_found, assert_page_says, assert_refused, messages_on

pytestmark = pytest.mark.django_db


def _form(tenant: Tenant, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "plan": tenant.plan,
        "max_api_keys": tenant.max_api_keys,
        "max_servers": tenant.max_servers,
        "settings": json.dumps(tenant.settings),
    }
    data.update(changes)
    return data


def test_saving_changes_writes_only_what_changed(admin, tenant_a):
    client = admin.client()
    response = client.post(
        f"/tenants/{tenant_a.pk}/edit/",
        _form(tenant_a, plan="enterprise", max_api_keys=40, settings='{"region": "eu-west-1"}'),
    )
    assert response.status_code == 302
    tenant = Tenant.unscoped.get(pk=tenant_a.pk)
    assert (tenant.plan, tenant.max_api_keys, tenant.max_servers) == ("enterprise", 40, 10)
    assert tenant.settings == {"region": "eu-west-1"}
    (row,) = AuditLog.unscoped.filter(action="tenant.update")
    assert row.details["before"] == {"plan": "free", "max_api_keys": 25, "settings": {}}
    assert row.details["after"] == {
        "plan": "enterprise",
        "max_api_keys": 40,
        "settings": {"region": "eu-west-1"},
    }
    assert row.resource_type == "tenant" and row.tenant_id == tenant_a.pk
    page = client.get(response["Location"])
    assert any("changed plan, max_api_keys, settings" in m for m in messages_on(page))


def test_saving_nothing_new_writes_no_row(admin, tenant_a):
    response = admin.client().post(f"/tenants/{tenant_a.pk}/edit/", _form(tenant_a))
    assert response.status_code == 302
    assert not AuditLog.unscoped.filter(action="tenant.update").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"plan": "Big Plan!"}, "Use lower-case letters"),
        ({"max_api_keys": -1}, "greater than or equal to 0"),
        ({"max_servers": 10**9}, "less than or equal to 100000"),
        ({"max_servers": "ten"}, "Enter a whole number."),
        ({"settings": "{not json"}, "Settings are not valid JSON"),
        ({"settings": "[1, 2]"}, "Settings must be a JSON object"),
        ({"settings": '{"regoin": "eu"}'}, "Unknown setting &#x27;regoin&#x27;"),
        ({"settings": '{"region": "EU West"}'}, "region must be lower-case"),
        ({"settings": '{"contact_email": "nobody"}'}, "contact_email must be an email address"),
        ({"settings": '{"features": "all"}'}, "features must be a list"),
        ({"settings": '{"notes": "a\\u0000b"}'}, "cannot contain NUL"),
        ({"settings": '{"notes": "' + "x" * 17000 + '"}'}, "at most 16,384 bytes"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_changes(admin, tenant_a, changes, message):
    response = admin.client().post(f"/tenants/{tenant_a.pk}/edit/", _form(tenant_a, **changes))
    assert_page_says(response, 400, message)
    tenant = Tenant.unscoped.get(pk=tenant_a.pk)
    assert (tenant.plan, tenant.max_api_keys, tenant.settings) == ("free", 25, {})
    assert not AuditLog.unscoped.filter(action="tenant.update").exists()


def test_the_gateways_own_settings_are_kept(admin, tenant_a):
    Tenant.unscoped.filter(pk=tenant_a.pk).update(settings={"billing_ref": {"id": 7}})
    tenant_a.refresh_from_db()
    settings = {"billing_ref": {"id": 7}, "region": "us-east-1"}
    update_tenant(
        actor=admin.actor,
        tenant_id=tenant_a.pk,
        plan="free",
        max_api_keys=25,
        max_servers=10,
        settings=parse_settings(json.dumps(settings), tenant_a.settings),
    )
    assert Tenant.unscoped.get(pk=tenant_a.pk).settings == settings
    # ... while a new undocumented key is refused.
    with pytest.raises(SettingsProblem, match="Unknown setting 'billing_refs'"):
        parse_settings('{"billing_refs": 1}', tenant_a.settings)


def test_the_form_shows_the_current_values(admin, tenant_a):
    Tenant.unscoped.filter(pk=tenant_a.pk).update(settings={"region": "eu-west-1"})
    response = admin.client().get(f"/tenants/{tenant_a.pk}/edit/")
    assert_page_says(
        response, 200, f"Edit {tenant_a.name}", "&quot;region&quot;: &quot;eu-west-1&quot;"
    )


def test_the_service_refuses_out_of_range_limits(admin, tenant_a):
    with pytest.raises(Invalid, match="max_servers"):
        update_tenant(
            actor=admin.actor,
            tenant_id=tenant_a.pk,
            plan="free",
            max_api_keys=1,
            max_servers=-5,
            settings={},
        )


@pytest.mark.parametrize("persona", ["support", "auditor", "tenant_admin_a"])
def test_other_roles_may_not_edit(request, persona, tenant_a):
    client = request.getfixturevalue(persona).client()
    assert_refused(client.post(f"/tenants/{tenant_a.pk}/edit/", _form(tenant_a, plan="pro")))
    with pytest.raises(Refused):
        update_tenant(
            actor=request.getfixturevalue(persona).actor,
            tenant_id=tenant_a.pk,
            plan="pro",
            max_api_keys=25,
            max_servers=10,
            settings={},
        )
    assert Tenant.unscoped.get(pk=tenant_a.pk).plan == "free"
    assert AuditLog.unscoped.filter(action="tenant.update", outcome="denied").count() == 1


def test_a_missing_tenant_is_a_404(admin):
    assert_not_found(admin.client().get("/tenants/00000000-0000-0000-0000-000000000000/edit/"))
