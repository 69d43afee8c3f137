"""Creating a user from the back office, as Better-Auth's createUser does, readable by it."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from audit.models import AuditLog
from backoffice.operations import Invalid, Refused
from security.factories import GatewayUserFactory
from security.lifecycle import services
from security.models import Account, GatewayUser
from security.passwords import verify_password
from tests.pages import assert_page_says, assert_refused, messages_on

pytestmark = pytest.mark.django_db

ADD_URL = "admin:security_gatewayuser_add"


def test_create_user_writes_better_auth_rows_and_a_password_it_verifies(support, tenant_a):
    user = services.create_user(
        actor=support.actor,
        email="  New.Person@Acme.example ",
        name="New Person",
        roles=["user"],
        tenant_id=tenant_a.pk,
        password="a long enough secret",
    )
    row = GatewayUser.unscoped.get(pk=user.pk)
    assert re.fullmatch(r"[A-Za-z0-9]{32}", row.pk)
    assert (row.email, row.name, row.role, row.tenant_id) == (
        "new.person@acme.example",
        "New Person",
        "user",
        tenant_a.pk,
    )
    assert not row.email_verified and not row.banned and row.created_at == row.updated_at
    (account,) = Account.unscoped.filter(user_id=row.pk)
    assert (account.provider_id, account.account_id) == ("credential", row.pk)
    assert verify_password("a long enough secret", account.password)
    (audit,) = AuditLog.unscoped.filter(action="user.create")
    assert audit.resource_id == row.pk and audit.details["after"]["password_set"] is True
    assert account.password is not None
    assert "secret" not in str(audit.details) and account.password not in str(audit.details)


def test_without_a_password_there_is_no_credential(admin):
    user = services.create_user(
        actor=admin.actor,
        email="ops@gateway.example",
        name="Ops",
        roles=["support"],
        tenant_id=None,
    )
    assert not Account.unscoped.filter(user_id=user.pk).exists()
    assert GatewayUser.unscoped.get(pk=user.pk).role == "support"


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", None, "is not an email address"),
        ("x@acme.example", "short", "at least 8 characters"),
        ("x@acme.example", "p" * 129, "at most 128 characters"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_writes_nothing(support, email, password, message):
    with pytest.raises(Invalid, match=message):
        services.create_user(
            actor=support.actor,
            email=email,
            name="X",
            roles=["user"],
            tenant_id=None,
            password=password,
        )
    assert not GatewayUser.unscoped.filter(name="X").exists()
    assert not AuditLog.unscoped.exists()


def test_a_duplicate_email_is_refused_whatever_its_case(support):
    GatewayUserFactory.create(email="taken@acme.example")
    with pytest.raises(Invalid, match="already exists"):
        services.create_user(
            actor=support.actor,
            email="TAKEN@acme.example",
            name="Twin",
            roles=["user"],
            tenant_id=None,
            password="a long enough secret",
        )
    assert not GatewayUser.unscoped.filter(name="Twin").exists()
    assert not Account.unscoped.filter(user__name="Twin").exists()


def test_support_may_not_create_an_admin_and_the_attempt_is_denied(support):
    with pytest.raises(Refused, match="Only an admin may grant the admin role"):
        services.create_user(
            actor=support.actor, email="boss@x.example", name="B", roles=["admin"], tenant_id=None
        )
    assert not GatewayUser.unscoped.filter(email="boss@x.example").exists()
    (denied,) = AuditLog.unscoped.all()
    assert (denied.action, denied.outcome) == ("user.create", "denied")


def test_roles_without_the_capability_cannot_create(auditor, tenant_admin_a):
    for persona in (auditor, tenant_admin_a):
        with pytest.raises(Refused):
            services.create_user(
                actor=persona.actor, email="x@x.example", name="X", roles=["user"], tenant_id=None
            )
    assert [row.outcome for row in AuditLog.unscoped.all()] == ["denied", "denied"]
    assert_refused(auditor.client().get(reverse(ADD_URL)))


def test_the_add_page_creates_the_user_and_never_shows_the_password(support, tenant_a):
    client = support.client()
    page = assert_page_says(client.get(reverse(ADD_URL)), 200, "Add a gateway user")
    assert 'value="admin"' not in page  # support is offered only the roles it may grant
    response = client.post(
        reverse(ADD_URL),
        {
            "email": "kim@acme.example",
            "name": "Kim",
            "roles": ["tenant_admin"],
            "tenant": str(tenant_a.pk),
            "password": "another good secret",
            "password_again": "another good secret",
        },
        follow=True,
    )
    assert "Created kim@acme.example (with a password)." in messages_on(response)
    assert "another good secret" not in response.content.decode()
    assert GatewayUser.unscoped.get(email="kim@acme.example").role == "tenant_admin"


def test_the_add_page_says_what_is_wrong_and_keeps_no_password(support):
    response = support.client().post(
        reverse(ADD_URL),
        {
            "email": "kim@acme.example",
            "name": "Kim",
            "roles": ["user"],
            "password": "typed once",
            "password_again": "typed twice",
        },
    )
    page = assert_page_says(response, 400, "The two passwords differ.")
    assert "typed once" not in page and "no-store" in response["Cache-Control"]
    assert not GatewayUser.unscoped.filter(email="kim@acme.example").exists()


def test_the_create_user_command_reads_the_password_from_stdin(support, monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("from standard input\n"))
    call_command(
        "create_user",
        "cli@acme.example",
        "--name",
        "Cli",
        "--password-stdin",
        "--as",
        support.gateway_user.email,
    )
    user = GatewayUser.unscoped.get(email="cli@acme.example")
    assert verify_password("from standard input", Account.unscoped.get(user=user).password)
    assert "from standard input" not in capsys.readouterr().out
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "create_user", "cli@acme.example", "--name", "Cli", "--as", support.gateway_user.email
        )
