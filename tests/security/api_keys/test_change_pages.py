"""The edit, revoke and rotate pages: they change the tenant's own keys, and 404 for others'."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from audit.models import AuditLog
from security.factories import ApiKeyFactory
from security.models import ApiKey
from tests.conftest import make_persona
from tests.pages import assert_not_found, assert_refused
from tests.security.api_keys.conftest import expiry_of, now, reload

pytestmark = pytest.mark.django_db

KEY_PATTERN = re.compile(r"mcpgw_[a-z0-9]{8}_[A-Za-z0-9_-]{43}")
PAGES = ["security:api_key_edit", "security:api_key_revoke", "security:api_key_rotate"]
VALID_POSTS = {
    "security:api_key_edit": {
        "name": "taken over",
        "scopes": ["tools:call"],
        "expiry": "keep",
        "rate_limit_per_minute": "60",
    },
    "security:api_key_revoke": {"reason": "taken over"},
    "security:api_key_rotate": {"form_token": "t", "grace": "now", "expiry": "never"},
}


def url(name: str, key) -> str:
    return reverse(name, args=[key.pk])


# --- edit ---------------------------------------------------------------------------------


def test_edit_changes_name_scopes_expiry_and_rate_limit(tenant_admin_a, key_a):
    client = tenant_admin_a.client()
    form = client.get(url("security:api_key_edit", key_a))
    assert form.status_code == 200
    assert "Keep the current expiry" in form.content.decode()
    assert key_a.key_hash not in form.content.decode()

    response = client.post(
        url("security:api_key_edit", key_a),
        {
            "name": "Billing (EU)",
            "scopes": ["audit:read"],
            "expiry": "365",
            "rate_limit_per_minute": "30",
        },
        follow=True,
    )
    assert "Saved the changes to" in response.content.decode()
    key = reload(key_a)
    assert (key.name, key.scopes, key.rate_limit_per_minute) == ("Billing (EU)", ["audit:read"], 30)
    assert abs(expiry_of(key) - (now() + dt.timedelta(days=365))) < dt.timedelta(minutes=1)
    assert AuditLog.unscoped.filter(action="api_key.update", outcome="success").count() == 1


def test_edit_keeps_the_expiry_unless_asked(tenant_admin_a, key_a):
    tenant_admin_a.client().post(
        url("security:api_key_edit", key_a),
        {"name": "renamed", "scopes": key_a.scopes, "expiry": "keep", "rate_limit_per_minute": 60},
    )
    assert reload(key_a).expires_at == key_a.expires_at


def test_edit_offers_scopes_outside_the_catalog_that_the_key_holds(tenant_admin_a, tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a, scopes=["legacy:all"])
    html = tenant_admin_a.client().get(url("security:api_key_edit", key)).content.decode()
    assert "legacy:all — not in the catalog" in html


def test_edit_refuses_bad_input_without_writing(tenant_admin_a, key_a):
    response = tenant_admin_a.client().post(
        url("security:api_key_edit", key_a),
        {"name": "x\x00", "scopes": [], "expiry": "keep", "rate_limit_per_minute": "1e99"},
    )
    assert response.status_code == 400
    assert reload(key_a).name == key_a.name
    assert not AuditLog.unscoped.filter(action="api_key.update").exists()


# --- revoke -------------------------------------------------------------------------------


def test_revoke_asks_for_a_reason_then_revokes_at_once(tenant_admin_a, key_a):
    client = tenant_admin_a.client()
    page = client.get(url("security:api_key_revoke", key_a)).content.decode()
    assert "stops working at once" in page

    empty = client.post(url("security:api_key_revoke", key_a), {"reason": ""})
    assert empty.status_code == 400 and reload(key_a).is_active

    response = client.post(
        url("security:api_key_revoke", key_a), {"reason": "Leaked in a repo"}, follow=True
    )
    assert "the gateway refuses it from now on" in response.content.decode()
    key = reload(key_a)
    assert not key.is_active and key.revoked_at is not None
    row = AuditLog.unscoped.get(action="api_key.revoke")
    assert row.details["reason"] == "Leaked in a repo"


def test_a_revoked_key_cannot_be_revoked_edited_or_rotated_again(tenant_admin_a, tenant_a):
    revoked = ApiKeyFactory.create(tenant=tenant_a, revoked=True)
    client = tenant_admin_a.client()
    for name in PAGES:
        page = client.get(url(name, revoked))
        assert page.status_code == 200 and "is revoked" in page.content.decode()
        posted = client.post(url(name, revoked), VALID_POSTS[name])
        assert posted.status_code == 400
    assert ApiKey.unscoped.count() == 1
    assert not AuditLog.unscoped.filter(outcome="success").exists()


# --- rotate -------------------------------------------------------------------------------


def test_rotate_shows_the_new_key_once_and_sets_the_old_ones_end(tenant_admin_a, key_a):
    client = tenant_admin_a.client()
    page = client.get(url("security:api_key_rotate", key_a)).content.decode()
    assert "same name, scopes (servers:read, tools:call)" in page

    response = client.post(
        url("security:api_key_rotate", key_a),
        {"form_token": "rotate-1", "grace": "1h", "expiry": "90"},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    (plaintext,) = set(KEY_PATTERN.findall(response.content.decode()))
    new = ApiKey.unscoped.exclude(pk=key_a.pk).get()
    assert plaintext.startswith(new.key_prefix)
    assert abs(expiry_of(key_a) - (now() + dt.timedelta(hours=1))) < dt.timedelta(minutes=1)
    ends = expiry_of(key_a).strftime("%Y-%m-%d %H:%M")
    assert f"keeps working until {ends} UTC.</p>" in response.content.decode()
    assert ".." not in response.content.decode().split("api-key-replaced", 1)[1]

    again = client.post(
        url("security:api_key_rotate", key_a),
        {"form_token": "rotate-1", "grace": "1h", "expiry": "90"},
        follow=True,
    )
    assert ApiKey.unscoped.count() == 2
    assert not KEY_PATTERN.search(again.content.decode())


def test_rotate_refuses_an_unknown_grace(tenant_admin_a, key_a):
    response = tenant_admin_a.client().post(
        url("security:api_key_rotate", key_a), {"form_token": "t", "grace": "99y", "expiry": "90"}
    )
    assert response.status_code == 400
    assert ApiKey.unscoped.count() == 1


# --- denial, for all three pages ----------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_another_tenants_key_is_a_404_recorded_and_untouched(name, tenant_admin_a, key_b):
    client = tenant_admin_a.client()
    assert_not_found(client.get(url(name, key_b)))
    assert_not_found(client.post(url(name, key_b), VALID_POSTS[name]))
    key = reload(key_b)
    assert (key.name, key.is_active, key.expires_at) == (
        key_b.name,
        True,
        key_b.expires_at,
    )
    assert ApiKey.unscoped.count() == 1
    denied = AuditLog.unscoped.filter(outcome="denied", resource_id=str(key_b.pk))
    assert denied.count() == 2
    assert not AuditLog.unscoped.filter(outcome="success").exists()


@pytest.mark.parametrize("name", PAGES)
def test_an_unknown_key_is_a_404(name, tenant_admin_a):
    missing = reverse(name, args=["00000000-0000-0000-0000-000000000000"])
    assert_not_found(tenant_admin_a.client().get(missing))
    assert not AuditLog.unscoped.exists()


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("role", ["support", "auditor"])
def test_roles_without_the_capability_get_403(name, role, key_a):
    persona = make_persona(role)
    assert_refused(persona.client().post(url(name, key_a), VALID_POSTS[name]))
    assert reload(key_a).is_active and reload(key_a).name == key_a.name
    assert AuditLog.unscoped.filter(actor_id=persona.gateway_user.id, outcome="denied").exists()


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_sign_in(name, client, key_a):
    response = client.get(url(name, key_a))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_admin_manages_any_tenants_key(admin, key_b):
    response = admin.client().post(url("security:api_key_revoke", key_b), {"reason": "incident"})
    assert response.status_code == 302
    assert not reload(key_b).is_active


def test_an_expired_key_offers_no_rotation(tenant_admin_a, tenant_a):
    expired = ApiKeyFactory.create(tenant=tenant_a, expired=True)
    client = tenant_admin_a.client()
    page = client.get(url("security:api_key_rotate", expired)).content.decode()
    assert "has expired: create a new key instead of rotating it" in page
    assert 'name="grace"' not in page
    posted = client.post(
        url("security:api_key_rotate", expired), VALID_POSTS["security:api_key_rotate"]
    )
    assert posted.status_code == 400
    assert ApiKey.unscoped.count() == 1


def test_reviving_an_expired_key_past_the_limit_is_a_message(tenant_admin_a, tenant_a, key_a):
    tenant_a.max_api_keys = 1
    tenant_a.save(update_fields=["max_api_keys"])
    expired = ApiKeyFactory.create(tenant=tenant_a, expired=True)
    response = tenant_admin_a.client().post(
        url("security:api_key_edit", expired),
        {
            "name": expired.name,
            "scopes": expired.scopes,
            "expiry": "never",
            "rate_limit_per_minute": 60,
        },
    )
    assert response.status_code == 400
    assert "has expired, and this expiry would make it usable again" in response.content.decode()
    assert reload(expired).expires_at == expired.expires_at
