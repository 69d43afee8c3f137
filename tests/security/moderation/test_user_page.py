"""A user's page: sessions, sign-in methods, API keys and audit entries, never a secret."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.factories import AuditLogFactory
from security.factories import (
    AccountFactory,
    ApiKeyFactory,
    CredentialAccountFactory,
    GatewaySessionFactory,
    GatewayUserFactory,
)
from security.models import Account, ApiKey, GatewaySession, GatewayUser
from tests.pages import assert_not_found, assert_page_says, assert_refused
from tests.security.moderation.conftest import breakable

pytestmark = pytest.mark.django_db


def page_of(user) -> str:
    return reverse("admin:security_gatewayuser_change", args=[user.pk])


def test_the_page_shows_sessions_without_their_tokens(support, member, member_sessions):
    response = support.client().get(page_of(member))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sessions (2)" in page
    for session in GatewaySession.unscoped.filter(user_id=member.pk):
        assert session.ip_address in page
        assert session.token not in page
        assert reverse("security:session_revoke", args=[member.pk, session.pk]) in page


def test_sessions_name_the_device_with_the_full_user_agent_in_a_tooltip(support, member):
    agent = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Safari/537.36"
    )
    GatewaySessionFactory.create(user=member, user_agent=agent)
    page = support.client().get(page_of(member)).content.decode()
    assert f'<td title="{agent}">Chrome on Windows</td>' in page


def test_impersonated_sessions_say_by_whom_and_link_to_the_review(
    support, admin, member, impersonation
):
    client = support.client()
    client.get("/admin/security/impersonationrecord/")  # captures the impersonation
    page = client.get(page_of(member)).content.decode()
    assert f"by {admin.gateway_user.email}" in page
    assert "/admin/security/impersonationrecord/" in page


def test_sign_in_methods_show_the_provider_only(support, member):
    CredentialAccountFactory.create(user=member, password="abcd" * 8 + ":" + "ef" * 64)
    AccountFactory.create(user=member)
    page = support.client().get(page_of(member)).content.decode()
    assert "credential" in page and "github" in page
    for account in Account.unscoped.filter(user_id=member.pk):
        for secret in (account.password, account.access_token):
            if secret:
                assert secret not in page


def test_api_keys_show_their_prefix_never_their_hash(support, member, tenant_a):
    ApiKeyFactory.create(tenant=tenant_a, created_by=member, name="CI key")
    key = ApiKey.unscoped.get(created_by=member)
    page = support.client().get(page_of(member)).content.decode()
    assert "CI key" in page and key.key_prefix in page
    assert key.key_hash not in page


def test_recent_audit_entries_by_and_about_the_user(support, member, tenant_a):
    AuditLogFactory.create(actor_id=member.pk, action="tools.call_denied", tenant_id=tenant_a.pk)
    AuditLogFactory.create(resource_type="user", resource_id=member.pk, action="user.update")
    AuditLogFactory.create(actor_id="someone-else", action="unrelated.thing")
    page = support.client().get(page_of(member)).content.decode()
    assert "tools.call_denied" in page and "user.update" in page
    assert "unrelated.thing" not in page


def test_actions_are_offered_with_refusals_explained(support, admin):
    page = support.client().get(page_of(admin.gateway_user)).content.decode()
    assert "Only an admin may ban" in page
    assert reverse("security:user_ban", args=[admin.gateway_user.pk]) not in page
    own = support.client().get(page_of(support.gateway_user)).content.decode()
    assert "Nobody can ban themselves." in own


def test_a_dangling_tenant_id_does_not_break_the_page(support):
    """Some gateway databases have no foreign key on user.tenant_id: an id may dangle."""
    user = GatewayUserFactory.create(tenant=None)
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "user" DROP CONSTRAINT user_tenant_id_tenants_id_fk')
    GatewayUser.unscoped.filter(pk=user.pk).update(tenant_id=uuid.uuid4())
    html = assert_page_says(
        support.client().get(page_of(user)), 200, "<h1>View gateway user</h1>", user.email
    )
    tenant = re.search(r'field-tenant_name".*?<div class="readonly">(.*?)</div>', html, re.S)
    assert tenant is not None and tenant.group(1) == "—"  # no tenant to name, no error
    listing = support.client().get("/admin/security/gatewayuser/")
    assert_page_says(listing, 200, "<h1>Select gateway user to view</h1>")
    assert user.email in [row.email for row in listing.context["cl"].result_list]


@pytest.mark.parametrize("user_id", ["no-such-id", "abc%00def"])
def test_unknown_and_nul_ids_are_404(support, user_id):
    assert_not_found(support.client().get(f"/admin/security/gatewayuser/{user_id}/change/"))


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_moderation_get_403(request, persona, member):
    assert_refused(request.getfixturevalue(persona).client().get(page_of(member)))


def test_the_page_cannot_edit_or_delete(support, member):
    client = support.client()
    assert_refused(client.post(page_of(member), {"email": "x@example.com"}))
    delete = reverse("admin:security_gatewayuser_delete", args=[member.pk])
    assert_refused(client.get(delete))


def test_audit_entries_name_people_by_email_with_one_query_for_the_page(support, member):
    def staff_acting(count: int) -> int:
        for _ in range(count):
            actor = GatewayUserFactory.create()
            AuditLogFactory.create(
                actor_id=actor.pk,
                actor_type="staff",
                action="user.update",
                resource_type="user",
                resource_id=member.pk,
            )
        client = support.client()
        with CaptureQueriesContext(connection) as queries:
            page = client.get(page_of(member)).content.decode()
        on_cell = f'<td><a href="{page_of(member)}">{breakable(member.email)}</a></td>'
        assert page.count(on_cell) >= count
        return len(queries.captured_queries)

    few = staff_acting(2)
    many = staff_acting(6)
    assert many == few  # the emails of all the page's ids come in one query
    by = GatewayUser.unscoped.exclude(pk=member.pk).exclude(pk=support.gateway_user.pk).first()
    assert by is not None
    page = support.client().get(page_of(member)).content.decode()
    by_cell = (
        f'<a href="{page_of(by)}">{breakable(by.email)}</a> <span class="moderation-person-type">'
    )
    assert by_cell + "staff" in page
