"""Creating a key on its page: the key shown once, in the body only, never anywhere after."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.urls import reverse

from audit.models import AuditLog
from security.api_key_secrets import hash_api_key
from security.api_keys.verification import verify_api_key
from security.models import ApiKey
from tests.conftest import make_persona
from tests.pages import assert_refused
from tests.security.api_keys.conftest import expiry_of

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("security:api_key_create")
KEY_PATTERN = re.compile(r"mcpgw_[a-z0-9]{8}_[A-Za-z0-9_-]{43}")


def form_data(**overrides) -> dict:
    data = {
        "form_token": "token-1",
        "name": "CI pipeline",
        "scopes": ["servers:read", "tools:call"],
        "expiry": "30",
        "expires_on": "",
        "rate_limit_per_minute": "60",
    }
    data.update(overrides)
    return data


def shown_key(response) -> str:
    (plaintext,) = set(KEY_PATTERN.findall(response.content.decode()))
    return plaintext


def test_the_form_documents_the_scope_catalog(tenant_admin_a, key_a):
    response = tenant_admin_a.client().get(CREATE_URL)
    assert response.status_code == 200
    html = response.content.decode()
    for scope in ("servers:read", "servers:write", "tools:call", "resources:read", "audit:read"):
        assert scope in html
    assert "The scope catalog" in html
    assert "Tenant A uses 1 of its 25 usable API keys" in html
    assert 'name="tenant"' not in html  # a tenant admin's keys are their tenant's


def test_creating_shows_the_key_once_with_no_store(tenant_admin_a, tenant_a, caplog):
    client = tenant_admin_a.client()
    with caplog.at_level(logging.DEBUG):
        response = client.post(CREATE_URL, form_data())

    assert response.status_code == 200
    plaintext = shown_key(response)
    assert "no-store" in response["Cache-Control"]
    assert "will not be shown again" in response.content.decode()
    key = ApiKey.unscoped.get()
    assert key.tenant_id == tenant_a.pk and key.key_hash == hash_api_key(plaintext)
    assert abs(expiry_of(key) - (dt.datetime.now(dt.UTC) + dt.timedelta(days=30))) < dt.timedelta(
        minutes=1
    )
    assert verify_api_key(plaintext) == key
    # Nowhere else: not in cookies (messages), the session, the logs or the audit row.
    assert all(plaintext not in morsel.value for morsel in response.cookies.values())
    assert all(plaintext not in str(value) for value in client.session.values())
    assert plaintext not in caplog.text
    (row,) = AuditLog.unscoped.filter(action="api_key.create")
    assert plaintext not in str(row.details) and key.key_hash not in str(row.details)

    # Afterwards the key is known by its prefix only.
    for url in (
        reverse("admin:security_apikey_changelist"),
        reverse("admin:security_apikey_change", args=[key.pk]),
    ):
        html = client.get(url).content.decode()
        assert key.key_prefix in html and plaintext not in html and key.key_hash not in html


def test_sending_the_form_again_issues_no_second_key(tenant_admin_a):
    client = tenant_admin_a.client()
    client.post(CREATE_URL, form_data())
    again = client.post(CREATE_URL, form_data(), follow=True)
    assert ApiKey.unscoped.count() == 1
    html = again.content.decode()
    assert "already sent" in html and not KEY_PATTERN.search(html)
    assert again.redirect_chain[-1][0] == reverse(
        "admin:security_apikey_change", args=[ApiKey.unscoped.get().pk]
    )


def test_a_chosen_date_and_no_expiry(tenant_admin_a):
    client = tenant_admin_a.client()
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).date()
    client.post(CREATE_URL, form_data(expiry="date", expires_on=day.isoformat()))
    client.post(CREATE_URL, form_data(form_token="token-2", name="forever", expiry="never"))
    dated = ApiKey.unscoped.get(name="CI pipeline")
    assert dated.expires_at == dt.datetime(
        day.year, day.month, day.day, tzinfo=dt.UTC
    ) + dt.timedelta(days=1)
    assert ApiKey.unscoped.get(name="forever").expires_at is None


def test_the_tenant_limit_is_said_before_the_form_is_filled_in(tenant_admin_a, tenant_a, key_a):
    tenant_a.max_api_keys = 1
    tenant_a.save(update_fields=["max_api_keys"])
    client = tenant_admin_a.client()
    page = client.get(CREATE_URL).content.decode()
    assert "Tenant A already has 1 usable API key (keys still in" in page
    assert "its limit of 1" in page
    assert 'name="name"' not in page  # no form to fill in for nothing
    response = client.post(CREATE_URL, form_data())
    assert response.status_code == 400
    assert "already has 1 usable API key (" in response.content.decode()
    assert ApiKey.unscoped.count() == 1


def test_a_limit_of_zero_says_the_tenant_may_hold_no_keys(tenant_admin_a, tenant_a):
    tenant_a.max_api_keys = 0
    tenant_a.save(update_fields=["max_api_keys"])
    page = tenant_admin_a.client().get(CREATE_URL).content.decode()
    assert "Tenant A may hold no API keys: its limit is 0." in page
    assert "already has 0" not in page


def test_an_admin_at_a_tenants_limit_is_told_on_sending(admin, tenant_a, key_a):
    tenant_a.max_api_keys = 1
    tenant_a.save(update_fields=["max_api_keys"])
    response = admin.client().post(CREATE_URL, form_data(tenant=str(tenant_a.pk)))
    assert response.status_code == 400
    assert "Tenant A already has 1 usable API key (" in response.content.decode()
    assert ApiKey.unscoped.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required"),
        ({"name": "a\x00b"}, "Null characters are not allowed"),
        ({"name": "n" * 5000}, "at most 200 characters"),
        ({"scopes": []}, "Choose at least one scope"),
        ({"scopes": ["root:all"]}, "Select a valid choice"),
        ({"expiry": "forever"}, "Select a valid choice"),
        ({"expiry": "date", "expires_on": ""}, "Choose the date the key expires on"),
        ({"expiry": "date", "expires_on": "2001-01-01"}, "The date has passed"),
        ({"expiry": "date", "expires_on": "9999-12-31"}, "at most ten years"),
        ({"expiry": "date", "expires_on": "31/31/2031"}, "Enter a date such as"),
        ({"rate_limit_per_minute": "99999999999999999999"}, "less than or equal to 100000"),
        ({"rate_limit_per_minute": "-1"}, "greater than or equal to 1"),
        ({"rate_limit_per_minute": "lots"}, "Enter a whole number"),
    ],
)
def test_bad_input_is_a_message_and_writes_nothing(tenant_admin_a, overrides, message):
    response = tenant_admin_a.client().post(CREATE_URL, form_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiKey.unscoped.exists()
    assert not AuditLog.unscoped.filter(action="api_key.create").exists()


def test_a_form_without_its_token_says_so(tenant_admin_a):
    data = form_data()
    del data["form_token"]
    response = tenant_admin_a.client().post(CREATE_URL, data)
    assert response.status_code == 400
    assert "The form arrived incomplete" in response.content.decode()
    assert not ApiKey.unscoped.exists()


def test_an_admin_must_choose_among_every_tenant(admin, tenant_a, tenant_b):
    client = admin.client()
    html = client.get(CREATE_URL).content.decode()
    assert 'name="tenant"' in html and "Tenant A" in html and "Tenant B" in html

    missing = client.post(CREATE_URL, form_data())
    assert missing.status_code == 400 and "This field is required" in missing.content.decode()
    bogus = client.post(CREATE_URL, form_data(tenant="not-a-uuid"))
    assert bogus.status_code == 400 and "Choose one of the tenants" in bogus.content.decode()

    response = client.post(CREATE_URL, form_data(tenant=str(tenant_b.pk)))
    assert response.status_code == 200
    assert ApiKey.unscoped.get().tenant_id == tenant_b.pk


def test_a_tenant_admin_cannot_slip_in_another_tenant(tenant_admin_a, tenant_a, tenant_b):
    tenant_admin_a.client().post(CREATE_URL, form_data(tenant=str(tenant_b.pk)))
    assert ApiKey.unscoped.get().tenant_id == tenant_a.pk


def test_a_tenant_admin_without_a_tenant_is_told_why(db):
    orphan = make_persona("tenant_admin")
    client = orphan.client()
    assert "belongs to no tenant" in client.get(CREATE_URL).content.decode()
    assert client.post(CREATE_URL, form_data()).status_code == 400
    assert not ApiKey.unscoped.exists()


@pytest.mark.parametrize("role", ["support", "auditor"])
def test_roles_without_the_capability_get_403_and_are_recorded(role, tenant_a):
    persona = make_persona(role)
    assert_refused(persona.client().post(CREATE_URL, form_data()))
    assert not ApiKey.unscoped.exists()
    assert AuditLog.unscoped.filter(actor_id=persona.gateway_user.id, outcome="denied").exists()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(CREATE_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"scopes": ["root\x00:all"]},
        {"scopes": ["tools:call", "x\x00" * 500]},
        {"expiry": "forever\x00"},
        {"name": "a\x00b"},
        {"expiry": "date", "expires_on": "2031\x00"},
        {"rate_limit_per_minute": "6\x000"},
    ],
)
def test_a_refused_value_is_never_echoed_with_a_nul(tenant_admin_a, overrides):
    response = tenant_admin_a.client().post(CREATE_URL, form_data(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert "\x00" not in html
    assert "x" * 41 not in html.replace("\x00", "")
    assert not ApiKey.unscoped.exists()


def test_the_scope_error_names_the_value_without_its_nul(tenant_admin_a):
    response = tenant_admin_a.client().post(CREATE_URL, form_data(scopes=["root\x00:all"]))
    assert "Select a valid choice. root:all is not one of the available choices." in (
        response.content.decode()
    )


@pytest.mark.parametrize("status", ["suspended", "archived"])
def test_a_suspended_or_archived_tenant_is_told_up_front(tenant_admin_a, tenant_a, status):
    tenant_a.status = status
    tenant_a.save(update_fields=["status"])
    client = tenant_admin_a.client()
    page = client.get(CREATE_URL).content.decode()
    assert f"Tenant A is {status}: a suspended or archived tenant gets no new" in page
    assert 'name="name"' not in page
    assert client.post(CREATE_URL, form_data()).status_code == 400
    assert not ApiKey.unscoped.exists()


def test_an_admin_is_offered_only_tenants_that_can_get_keys(admin, tenant_a, tenant_b):
    from tenants.factories import TenantFactory

    suspended = TenantFactory.create(name="Sleepy Ltd", suspended=True)
    archived = TenantFactory.create(name="Gone Inc", archived=True)
    trial = TenantFactory.create(name="Trying Co", trial=True)
    client = admin.client()
    html = client.get(CREATE_URL).content.decode()
    assert "Tenant A" in html and "Trying Co" in html
    assert "Sleepy Ltd" not in html and "Gone Inc" not in html
    for tenant in (suspended, archived):
        response = client.post(CREATE_URL, form_data(tenant=str(tenant.pk)))
        assert response.status_code == 400
        assert "Choose one of the tenants listed" in response.content.decode()
    assert client.post(CREATE_URL, form_data(tenant=str(trial.pk))).status_code == 200
    assert ApiKey.unscoped.get().tenant_id == trial.pk
