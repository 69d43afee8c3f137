"""A key's own page: its settings and actions, never its hash; another tenant's key is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditLog
from security.factories import ApiKeyFactory
from tests.conftest import make_persona
from tests.pages import assert_not_found, assert_refused

pytestmark = pytest.mark.django_db


def key_url(key) -> str:
    return reverse("admin:security_apikey_change", args=[key.pk])


def test_the_page_shows_the_key_but_not_its_hash(tenant_admin_a, key_a):
    response = tenant_admin_a.client().get(key_url(key_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert key_a.name in html and key_a.key_prefix in html
    assert key_a.key_hash not in html
    assert "Key hash" not in html
    for action in ("security:api_key_edit", "security:api_key_rotate", "security:api_key_revoke"):
        assert reverse(action, args=[key_a.pk]) in html


def test_a_revoked_key_offers_no_actions(tenant_admin_a, tenant_a):
    revoked = ApiKeyFactory.create(tenant=tenant_a, revoked=True, revoked_by=None)
    html = tenant_admin_a.client().get(key_url(revoked)).content.decode()
    assert reverse("security:api_key_revoke", args=[revoked.pk]) not in html
    assert "Revoked" in html


def test_platform_staff_stay_unnamed_to_a_tenant_admin(tenant_admin_a, admin, tenant_a):
    key = ApiKeyFactory.create(
        tenant=tenant_a,
        created_by=admin.gateway_user,
        revoked=True,
        revoked_by=admin.gateway_user.id,
    )
    html = tenant_admin_a.client().get(key_url(key)).content.decode()
    assert admin.gateway_user.email not in html
    assert "platform staff" in html
    assert admin.gateway_user.email in admin.client().get(key_url(key)).content.decode()


def test_another_tenants_key_is_a_404_and_the_attempt_is_recorded(tenant_admin_a, key_b):
    response = tenant_admin_a.client().get(key_url(key_b))
    assert_not_found(response)
    assert key_b.name.encode() not in response.content
    (row,) = AuditLog.unscoped.filter(outcome="denied", resource_id=str(key_b.pk))
    assert row.actor_id == tenant_admin_a.gateway_user.id
    assert row.tenant_id == key_b.tenant_id


@pytest.mark.parametrize(
    "object_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "a%00b", "9" * 400]
)
def test_malformed_or_unknown_ids_are_a_404(admin, object_id):
    url = reverse("admin:security_apikey_change", args=["placeholder"]).replace(
        "placeholder", object_id
    )
    assert_not_found(admin.client().get(url))


def test_the_history_page_shows_no_secret(admin, key_a):
    url = reverse("admin:security_apikey_history", args=[key_a.pk])
    response = admin.client().get(url)
    assert response.status_code == 200
    assert key_a.key_hash.encode() not in response.content


def test_support_gets_403(key_a):
    assert_refused(make_persona("support").client().get(key_url(key_a)))
