"""The pending page lists the requests of others the viewer may approve, and their own."""

from __future__ import annotations

import pytest

from approvals import selectors
from security.factories import GatewayUserFactory
from tests.approvals.conftest import the_request
from tests.conftest import make_persona
from tests.pages import assert_page_says, assert_refused

pytestmark = pytest.mark.django_db

PAGE = "/approvals/"


def _ban_request(asker, target):
    asker.client().post(f"/security/users/{target.pk}/ban/", {"reason": "x", "length": "1d"})
    return the_request()


def test_a_second_admin_sees_it_the_requester_and_support_do_not(
    admin, second_admin, support, other_admin
):
    approval = _ban_request(admin, other_admin)
    link = f'href="/approvals/{approval.pk}/"'

    theirs = assert_page_says(second_admin.client().get(PAGE), 200, "Ban ada@example.com")
    assert link in theirs.split('id="to-approve"')[1]

    own = assert_page_says(admin.client().get(PAGE), 200, "No request of another staff member")
    assert link in own.split('id="mine"')[1]

    support_page = assert_page_says(support.client().get(PAGE), 200, "No request of another")
    assert link not in support_page


def test_support_sees_a_bulk_request_of_another_support(support, tenant_a):
    users = GatewayUserFactory.create_batch(26, tenant=tenant_a)
    colleague = make_persona("support")
    colleague.client().post(
        "/admin/security/gatewayuser/",
        {
            "action": "revoke_sessions_selected",
            "_selected_action": [u.pk for u in users],
            "post": "yes",
        },
    )
    approval = the_request()
    html = assert_page_says(support.client().get(PAGE), 200)
    assert f'href="/approvals/{approval.pk}/"' in html.split('id="to-approve"')[1]


def test_decided_and_overdue_requests_leave_the_list(admin, second_admin, other_admin):
    approval = _ban_request(admin, other_admin)
    second_admin.client().post(f"/approvals/{approval.pk}/", {"decision": "refuse"})
    html = assert_page_says(second_admin.client().get(PAGE), 200, "No request of another")
    assert f'href="/approvals/{approval.pk}/"' not in html


@pytest.mark.parametrize("role", ["auditor", "tenant_admin"])
def test_roles_that_approve_nothing_are_refused_the_page(role, tenant_a):
    persona = make_persona(role, tenant_a if role == "tenant_admin" else None)
    assert_refused(persona.client().get(PAGE))


def test_the_list_is_tenant_scoped(admin, tenant_a):
    # The targets must be within the viewer's scope: a tenant admin's scope (their tenant, and
    # no moderation at all) holds no request, whatever tenant it is about.
    users = GatewayUserFactory.create_batch(26, tenant=tenant_a)
    asker = make_persona("support")
    asker.client().post(
        "/admin/security/gatewayuser/",
        {
            "action": "revoke_sessions_selected",
            "_selected_action": [u.pk for u in users],
            "post": "yes",
        },
    )
    approval = the_request()
    assert approval.tenant_id == tenant_a.pk
    tenant_admin = make_persona("tenant_admin", tenant_a)
    assert selectors.pending_for_approver(tenant_admin.actor) == []
    assert selectors.pending_for_approver(admin.actor) == [approval]
