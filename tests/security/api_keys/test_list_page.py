"""The API key list: who sees which keys, its filters and search, and what it never shows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from audit.models import AuditLog
from backoffice import presentation
from security.api_key_secrets import generate_api_key
from security.factories import ApiKeyFactory
from tests.conftest import make_persona
from tests.pages import assert_page_says, assert_refused, messages_on, unoffered_filter
from tests.security.api_keys.conftest import now

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:security_apikey_changelist")


def names_on(response) -> set[str]:
    return {key.name for key in response.context["cl"].result_list}


def test_a_tenant_admin_sees_only_their_tenants_keys(tenant_admin_a, key_a, key_b):
    response = tenant_admin_a.client().get(LIST_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert key_a.name in html and key_a.key_prefix in html
    assert key_b.name not in html and key_b.key_prefix not in html
    assert "Tenant B" not in html  # neither in the rows nor in a filter's choices


def test_the_list_shows_what_people_need_and_never_a_hash(tenant_admin_a, key_a):
    html = tenant_admin_a.client().get(LIST_URL).content.decode()
    for column in ("Name", "Key prefix", "Scopes", "Status", "Expires", "Last used (uses)"):
        assert column in html
    assert f"{key_a.usage_count:,} uses" in html and "Created" in html
    assert f"by {presentation.breakable(tenant_admin_a.gateway_user.email)}" in html
    assert "servers:read, tools:call" in html
    assert tenant_admin_a.gateway_user.email in html
    assert key_a.key_hash not in html
    assert "Create API key" in html


def test_an_admin_sees_every_tenants_keys_and_a_tenant_filter(admin, key_a, key_b):
    response = admin.client().get(LIST_URL)
    assert names_on(response) == {key_a.name, key_b.name}
    html = response.content.decode()
    assert "By tenant" in html and "Tenant A" in html and "Tenant B" in html

    filtered = admin.client().get(LIST_URL, {"tenant": str(key_b.tenant_id)})
    assert names_on(filtered) == {key_b.name}


def test_a_tenant_admin_without_a_tenant_sees_no_keys(key_a, key_b):
    orphan = make_persona("tenant_admin")
    response = orphan.client().get(LIST_URL)
    assert response.status_code == 200
    assert names_on(response) == set()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", {"fresh", "forever"}),
        ("expiring", {"soon"}),
        ("expired", {"gone"}),
        ("revoked", {"pulled"}),
        ("deactivated", {"switched off"}),
    ],
)
def test_the_status_filter_works_in_the_database(tenant_admin_a, tenant_a, status, expected):
    ApiKeyFactory.create(tenant=tenant_a, name="fresh")
    ApiKeyFactory.create(tenant=tenant_a, name="forever", never_expires=True)
    ApiKeyFactory.create(tenant=tenant_a, name="soon", expires_at=now() + dt.timedelta(days=6))
    ApiKeyFactory.create(tenant=tenant_a, name="gone", expired=True)
    ApiKeyFactory.create(tenant=tenant_a, name="pulled", revoked=True)
    ApiKeyFactory.create(tenant=tenant_a, name="switched off", is_active=False)
    response = tenant_admin_a.client().get(LIST_URL, {"status": status})
    assert names_on(response) == expected


def test_the_status_column_names_each_status(tenant_admin_a, tenant_a):
    ApiKeyFactory.create(tenant=tenant_a, name="soon", expiring=True)
    ApiKeyFactory.create(tenant=tenant_a, name="pulled", revoked=True)
    html = tenant_admin_a.client().get(LIST_URL).content.decode()
    assert "expiring within 7 days" in html and "revoked" in html


def test_the_scope_filter_and_the_search(tenant_admin_a, tenant_a):
    reader = ApiKeyFactory.create(tenant=tenant_a, name="Audit reader", scopes=["audit:read"])
    caller = ApiKeyFactory.create(tenant=tenant_a, name="Tool caller", scopes=["tools:call"])
    client = tenant_admin_a.client()
    assert names_on(client.get(LIST_URL, {"scope": "audit:read"})) == {reader.name}
    assert names_on(client.get(LIST_URL, {"q": "tool"})) == {caller.name}
    assert names_on(client.get(LIST_URL, {"q": reader.key_prefix})) == {reader.name}


def test_search_never_reaches_another_tenants_keys(tenant_admin_a, key_a, key_b):
    response = tenant_admin_a.client().get(LIST_URL, {"q": key_b.key_prefix})
    assert names_on(response) == set()


NUL_REMOVED = "A filter held a NUL character, which no text has: removed."


@pytest.mark.parametrize(
    ("params", "message", "listed"),
    [
        # An unknown value of a filter the page offers is cleared, and the page says so.
        ({"status": "nonsense"}, unoffered_filter("nonsense", "status"), True),
        ({"scope": "root:all"}, unoffered_filter("root:all", "scope"), True),
        ({"scope": "\x00"}, NUL_REMOVED, True),
        ({"q": "a\x00b"}, NUL_REMOVED, True),
        # One page of keys: an impossible page number or sort column shows that page.
        ({"p": "99999999999999999999"}, None, True),
        ({"o": "x.y.z"}, None, True),
        ({"tenant": "not-a-uuid"}, unoffered_filter("not-a-uuid", "tenant"), True),
    ],
)
def test_odd_filter_values_give_a_page_never_an_error(admin, key_a, params, message, listed):
    response = admin.client().get(LIST_URL, params, follow=True)
    assert_page_says(response, 200, "<h1>API keys</h1>")
    assert messages_on(response) == ([message] if message else [])
    assert names_on(response) == ({key_a.name} if listed else set())


@pytest.mark.parametrize("value", ["not-a-uuid", "other tenant"])
def test_a_tenant_admin_cannot_widen_the_list_with_a_tenant_parameter(
    tenant_admin_a, key_a, key_b, value
):
    tenant = str(key_b.tenant_id) if value == "other tenant" else value
    response = tenant_admin_a.client().get(LIST_URL, {"tenant": tenant}, follow=True)
    assert response.status_code == 200
    assert key_b.name not in response.content.decode()


def test_a_lookup_on_the_key_hash_is_refused(admin, key_a):
    """A URL filter on the hash would let someone guess it one character at a time."""
    client = admin.client()
    first = key_a.key_hash[0]
    other = "A" if first != "A" else "B"
    answers = []
    for guess in (first, other):
        response = client.get(LIST_URL, {"key_hash__startswith": guess}, follow=True)
        assert response.status_code == 200
        assert "Ignored filters this page does not have: key_hash__startswith" in (
            response.content.decode()
        )
        answers.append(names_on(response))
    assert answers[0] == answers[1]  # the guess changes nothing: no oracle


@pytest.mark.parametrize("role", ["support", "auditor"])
def test_roles_without_the_capability_get_403_and_are_recorded(role, key_a):
    persona = make_persona(role)
    response = persona.client().get(LIST_URL)
    assert_refused(response)
    assert AuditLog.unscoped.filter(
        actor_id=persona.gateway_user.id, outcome="denied", action="staff.access"
    ).exists()


def test_a_plain_user_and_anonymous_are_sent_to_sign_in(plain_user, client):
    for c in (plain_user.client(), client):
        response = c.get(LIST_URL)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_key_the_gateway_deactivated_is_not_called_revoked(tenant_admin_a, tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a, name="switched off", is_active=False)
    listed = tenant_admin_a.client().get(LIST_URL).content.decode()
    assert "deactivated by the gateway" in listed
    page = tenant_admin_a.client().get(reverse("admin:security_apikey_change", args=[key.pk]))
    html = page.content.decode()
    assert "deactivated by the gateway" in html and "Deactivated" in html
    assert "Revoked at" not in html and "Revoked by" not in html
    assert reverse("security:api_key_revoke", args=[key.pk]) not in html
    edit = tenant_admin_a.client().get(reverse("security:api_key_edit", args=[key.pk]))
    assert "is deactivated: a deactivated key cannot be changed" in edit.content.decode()


def test_a_revoked_key_still_shows_when_and_by_whom(tenant_admin_a, tenant_a):
    key = ApiKeyFactory.create(tenant=tenant_a, revoked=True)
    html = tenant_admin_a.client().get(reverse("admin:security_apikey_change", args=[key.pk]))
    assert "Revoked at" in html.content.decode() and "Revoked by" in html.content.decode()


def test_a_whole_key_pasted_into_search_finds_it_by_prefix_only(tenant_admin_a, tenant_a):
    material = generate_api_key()
    ApiKeyFactory.create(tenant=tenant_a, name="Pasted", material=material)
    ApiKeyFactory.create(tenant=tenant_a, name="Other")
    client = tenant_admin_a.client()
    response = client.get(LIST_URL, {"q": f" {material.plaintext} ", "status": "active"})
    assert response.status_code == 302
    assert material.plaintext not in response["Location"]
    assert (
        f"q={material.prefix}" in response["Location"] and "status=active" in response["Location"]
    )
    page = client.get(response["Location"])
    assert names_on(page) == {"Pasted"}
    assert f"Searched by the key&#x27;s prefix, {material.prefix}." in page.content.decode()
    assert material.plaintext not in page.content.decode()


def test_the_scope_filter_offers_scopes_outside_the_catalog_that_keys_hold(
    tenant_admin_a, tenant_a, key_b
):
    ApiKeyFactory.create(tenant=tenant_a, name="legacy", scopes=["legacy:all", "tools:call"])
    ApiKeyFactory.create(tenant=tenant_a, name="modern", scopes=["tools:call"])
    ApiKeyFactory.create(tenant=key_b.tenant, name="theirs", scopes=["secret:other-tenant"])
    client = tenant_admin_a.client()
    html = client.get(LIST_URL).content.decode()
    assert "legacy:all (not in the catalog)" in html
    assert "secret:other-tenant" not in html  # another tenant's scopes are not offered
    assert names_on(client.get(LIST_URL, {"scope": "legacy:all"})) == {"legacy"}
    assert names_on(client.get(LIST_URL, {"scope": "tools:call"})) == {"legacy", "modern"}
    theirs = client.get(LIST_URL, {"scope": "secret:other-tenant"}, follow=True)
    assert messages_on(theirs) == [unoffered_filter("secret:other-tenant", "scope")]
    assert "theirs" not in names_on(theirs)


def test_every_demo_key_scope_is_in_the_catalog_so_the_filter_finds_it():
    from backoffice.demo.catalog import KEY_SCOPES
    from security.api_keys.scopes import SCOPE_VALUES

    assert set(KEY_SCOPES) == SCOPE_VALUES
