"""A key's history on its page and behind the admin's "History" link: its own audit rows (who,
when, what changed, the revoke reason), read within the actor's tenant, never a secret."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from audit.models import AuditLog
from security.api_keys import services
from tests.pages import assert_not_found
from tests.security.api_keys.conftest import now

pytestmark = pytest.mark.django_db


def pages(key) -> list[str]:
    return [
        reverse("admin:security_apikey_change", args=[key.pk]),
        reverse("admin:security_apikey_history", args=[key.pk]),
    ]


def test_the_history_shows_each_change_with_who_and_the_revoke_reason(tenant_admin_a, tenant_a):
    actor = tenant_admin_a.actor
    issued = services.create_api_key(
        actor=actor,
        tenant_id=tenant_a.pk,
        name="Billing",
        scopes=["tools:call"],
        expires_at=dt.datetime(2031, 1, 31, 12, 0, tzinfo=dt.UTC),
        rate_limit_per_minute=60,
    )
    key = issued.key
    services.update_api_key(actor=actor, key_id=key.pk, name="Billing EU", scopes=["audit:read"])
    services.revoke_api_key(actor=actor, key_id=key.pk, reason="Leaked in a public repo")

    client = tenant_admin_a.client()
    for url in pages(key):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Reason: Leaked in a public repo" in html
        assert "name: Billing → Billing EU" in html
        assert "scopes: tools:call → audit:read" in html
        assert "Expiry: 2031-01-31 12:00 UTC." in html
        for what in ("Created", "Edited", "Revoked"):
            assert f"<td>{what}</td>" in html
        assert html.count(tenant_admin_a.gateway_user.email) >= 3
        assert issued.plaintext not in html and key.key_hash not in html
        assert "no change history" not in html.lower()


def test_a_rotation_links_the_old_and_new_keys_without_the_new_value(tenant_admin_a, key_a):
    issued = services.rotate_api_key(
        actor=tenant_admin_a.actor, key_id=key_a.pk, grace=dt.timedelta(hours=24), expires_at=None
    )
    client = tenant_admin_a.client()
    old_page = client.get(pages(key_a)[0]).content.decode()
    assert f"Replaced by {issued.key.key_prefix}; this key&#x27;s grace period: 1 day." in old_page
    new_page = client.get(pages(issued.key)[0]).content.decode()
    assert f"Issued by rotating {key_a.key_prefix}." in new_page
    for html in (old_page, new_page):
        assert issued.plaintext not in html and issued.key.key_hash not in html


def test_platform_staff_stay_unnamed_to_a_tenant_admin(tenant_admin_a, admin, key_a):
    services.revoke_api_key(actor=admin.actor, key_id=key_a.pk, reason="Incident 42")
    html = tenant_admin_a.client().get(pages(key_a)[0]).content.decode()
    assert "Reason: Incident 42" in html
    assert "<td>platform staff</td>" in html
    assert admin.gateway_user.email not in html
    assert admin.gateway_user.email in admin.client().get(pages(key_a)[0]).content.decode()


def test_only_the_keys_own_successful_rows_of_its_tenant_are_shown(
    tenant_admin_a, tenant_admin_b, key_a, tenant_b
):
    # Another tenant's admin probing the key leaves a denied row on it: not part of its history.
    revoke_url = reverse("security:api_key_revoke", args=[key_a.pk])
    assert_not_found(tenant_admin_b.client().post(revoke_url, {"reason": "probe"}))
    # A row naming the key under another tenant is not read for tenant A's admin.
    AuditLog.unscoped.create(
        tenant_id=tenant_b.pk,
        actor_id=tenant_admin_b.gateway_user.id,
        actor_type="staff",
        action="api_key.revoke",
        resource_type="api_key",
        resource_id=str(key_a.pk),
        outcome="success",
        details={"reason": "written under tenant B"},
        created_at=now(),
    )
    html = tenant_admin_a.client().get(pages(key_a)[0]).content.decode()
    assert "written under tenant B" not in html and "probe" not in html
    assert tenant_admin_b.gateway_user.email not in html
    assert "No change to this key was recorded" in html


def test_another_tenants_key_history_is_a_404(tenant_admin_a, key_b):
    response = tenant_admin_a.client().get(pages(key_b)[1])
    assert_not_found(response)
    assert key_b.name.encode() not in response.content
