"""Changing roles: known roles only, and only an admin touches the admin role."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from backoffice.operations import Refused
from security.models import GatewayUser
from security.moderation import services
from tests.pages import assert_page_says, assert_refused
from tests.security.moderation.conftest import audit_rows

pytestmark = pytest.mark.django_db


def role_of(user) -> str | None:
    return GatewayUser.unscoped.get(pk=user.pk).role


def test_roles_are_stored_as_comma_separated_text_and_audited(admin, member):
    services.change_roles(actor=admin.actor, user_id=member.pk, roles=["auditor", "support"])
    assert role_of(member) == "support,auditor"
    (row,) = audit_rows("user.role_change")
    assert row.details["before"] == {"role": "user"}
    assert row.details["after"] == {"role": "support,auditor"}


def test_unknown_roles_are_refused(support, member):
    with pytest.raises(ValueError, match="Unknown role superuser"):
        services.change_roles(actor=support.actor, user_id=member.pk, roles=["superuser"])
    assert role_of(member) == "user" and audit_rows("user.role_change") == []


def test_support_cannot_grant_admin_nor_change_an_admin(support, admin, member):
    with pytest.raises(Refused, match="grant the admin role"):
        services.change_roles(actor=support.actor, user_id=member.pk, roles=["admin"])
    with pytest.raises(Refused, match="Only an admin may change"):
        services.change_roles(actor=support.actor, user_id=admin.gateway_user.pk, roles=["user"])
    assert role_of(member) == "user" and role_of(admin.gateway_user) == "admin"
    assert [row.outcome for row in audit_rows("user.role_change")] == ["denied", "denied"]


def test_support_cannot_make_themselves_admin(support):
    with pytest.raises(Refused):
        services.change_roles(
            actor=support.actor, user_id=support.gateway_user.pk, roles=["support", "admin"]
        )
    assert role_of(support.gateway_user) == "support"


def test_an_admin_may_change_an_admin(admin):
    other = GatewayUser.unscoped.create(
        id="other-admin",
        name="O",
        email="o@example.com",
        role="admin",
        created_at=admin.gateway_user.created_at,
        updated_at=admin.gateway_user.created_at,
    )
    services.change_roles(actor=admin.actor, user_id=other.pk, roles=["support"])
    assert role_of(other) == "support"


def test_the_page_shows_checkboxes_and_saves(support, member):
    url = reverse("security:user_roles", args=[member.pk])
    client = support.client()
    page = client.get(url).content.decode()
    assert 'type="checkbox" name="roles" value="tenant_admin"' in page
    assert "Current role text: “user”." in page
    response = client.post(url, {"roles": ["tenant_admin"]}, follow=True)
    assert "Changed the roles of mia@example.com." in response.content.decode()
    assert role_of(member) == "tenant_admin"


@pytest.mark.parametrize("data", [{}, {"roles": ["root"]}, {"roles": ["user\x00"]}])
def test_bad_role_input_is_a_form_error(support, member, data):
    response = support.client().post(reverse("security:user_roles", args=[member.pk]), data)
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert role_of(member) == "user"


def test_support_granting_admin_from_the_page_is_403(support, member):
    url = reverse("security:user_roles", args=[member.pk])
    response = support.client().post(url, {"roles": ["admin"]})
    assert_page_says(response, 403, "Only an admin may grant the admin role.")
    assert role_of(member) == "user"


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_moderation_get_403(request, persona, member):
    url = reverse("security:user_roles", args=[member.pk])
    response = request.getfixturevalue(persona).client().post(url, {"roles": ["admin"]})
    assert_refused(response)
    assert role_of(member) == "user"


def test_the_command(admin, support, member, capsys):
    call_command(
        "change_roles", "mia@example.com", "support, auditor", "--as", admin.gateway_user.email
    )
    assert role_of(member) == "support,auditor"
    with pytest.raises(CommandError, match="Unknown role"):
        call_command(
            "change_roles", "mia@example.com", "wizard", "--as", support.gateway_user.email
        )
