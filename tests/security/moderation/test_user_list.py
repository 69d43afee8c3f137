"""The user list a support person lives in: search, filters, columns, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from security.factories import GatewayUserFactory
from security.models import GatewayUser
from tests.pages import assert_page_says, assert_refused, messages_on, unoffered_filter
from tests.security.moderation.conftest import breakable

pytestmark = pytest.mark.django_db

LIST = "/admin/security/gatewayuser/"


def emails(response) -> list[str]:
    return [user.email for user in response.context["cl"].result_list]


def test_support_and_admin_see_every_tenants_users(support, admin, member, member_b):
    for persona in (support, admin):
        response = persona.client().get(LIST)
        assert response.status_code == 200
        assert {"mia@example.com", "bo@example.com"} <= set(emails(response))


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_moderation_get_403(request, persona, member):
    assert_refused(request.getfixturevalue(persona).client().get(LIST))


def test_signed_out_and_plain_users_go_to_sign_in(client, plain_user):
    for browser in (client, plain_user.client()):
        response = browser.get(LIST)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_newest_users_come_first(support, tenant_a):
    old = GatewayUserFactory.create(tenant=tenant_a, email="old@example.com")
    old.created_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    old.save(update_fields=["created_at"])
    GatewayUserFactory.create(tenant=tenant_a, email="new@example.com")
    listed = emails(support.client().get(LIST))
    assert listed.index("new@example.com") < listed.index("old@example.com")


@pytest.mark.parametrize("term", ["mia@example", "Mia Member", "mia", "MIA@EXAMPLE.COM"])
def test_search_by_email_name_username(support, member, member_b, term):
    assert emails(support.client().get(LIST, {"q": term})) == ["mia@example.com"]


def test_search_by_exact_id(support, member, member_b):
    assert emails(support.client().get(LIST, {"q": member.pk})) == ["mia@example.com"]


def test_nul_bytes_in_search_are_refused_with_a_message(support, member):
    response = support.client().get(LIST, {"q": "mia\x00"}, follow=True)
    assert response.status_code == 200
    assert "A filter held a NUL character, which no text has: removed." in response.content.decode()


def column_headers(response) -> list[str]:
    return [str(header["text"]).lower() for header in response.context["result_headers"]]


def test_columns_answer_the_usual_questions_in_six_columns(support, member, tenant_a):
    response = support.client().get(LIST)
    # One column per question, so the table fits 1400px beside the nav sidebar.
    assert column_headers(response)[1:] == [
        "user",
        "status",
        "roles",
        "tenant",
        "sign-in",
        "created",
    ]
    page = response.content.decode()
    assert (
        f'<span class="moderation-primary">{breakable("mia@example.com")}</span>'
        '<span class="moderation-secondary">Mia Member · @mia</span>'
    ) in page
    for text in ("Tenant A", "credential", 'title="Last sign-in">seen '):
        assert text in page


def test_the_status_column_shows_every_state_that_matters_as_badges(support, tenant_a):
    GatewayUserFactory.create(
        tenant=tenant_a, banned_expiring=True, ban_reason="Scraping", email="b@example.com"
    )
    GatewayUserFactory.create(tenant=tenant_a, is_active=False, email="i@example.com")
    GatewayUserFactory.create(tenant=tenant_a, email_verified=False, email="u@example.com")
    page = support.client().get(LIST).content.decode()
    assert 'moderation-badge-danger" title="Banned until' in page
    assert 'Reason: Scraping">Banned until' in page
    assert 'moderation-badge-warning" title="The account is switched off.">Inactive</span>' in page
    assert ">Unverified</span>" in page


def test_an_expired_ban_shows_as_expired(support, tenant_a):
    GatewayUserFactory.create(tenant=tenant_a, banned_expired=True, email="was@example.com")
    GatewayUserFactory.create(tenant=tenant_a, banned_expiring=True, email="is@example.com")
    page = support.client().get(LIST).content.decode()
    assert "Ban expired" in page and "Banned until" in page


def test_ban_filter_tells_active_from_expired(support, tenant_a, member):
    GatewayUserFactory.create(tenant=tenant_a, banned_expired=True, email="was@example.com")
    GatewayUserFactory.create(tenant=tenant_a, banned_permanent=True, email="is@example.com")
    client = support.client()
    assert emails(client.get(LIST, {"ban": "active"})) == ["is@example.com"]
    assert emails(client.get(LIST, {"ban": "expired"})) == ["was@example.com"]
    assert "mia@example.com" in emails(client.get(LIST, {"ban": "none"}))


def test_role_filter_matches_one_role_in_comma_separated_text(support, tenant_a, member):
    GatewayUserFactory.create(tenant=tenant_a, role="auditor, support", email="two@example.com")
    GatewayUserFactory.create(tenant=tenant_a, role="superadmin", email="fake@example.com")
    listed = emails(support.client().get(LIST, {"role": "auditor"}))
    assert "two@example.com" in listed and "fake@example.com" not in listed
    assert "mia@example.com" not in listed


def test_tenant_provider_verified_active_and_created_filters(support, tenant_a, member, member_b):
    GatewayUserFactory.create(
        tenant=tenant_a,
        email="gh@example.com",
        auth_provider="github",
        email_verified=False,
        is_active=False,
    )
    client = support.client()
    assert "bo@example.com" not in emails(client.get(LIST, {"tenant": str(tenant_a.pk)}))
    assert emails(client.get(LIST, {"provider": "github"})) == ["gh@example.com"]
    assert emails(client.get(LIST, {"verified": "no"})) == ["gh@example.com"]
    assert emails(client.get(LIST, {"active": "no"})) == ["gh@example.com"]
    assert "mia@example.com" in emails(client.get(LIST, {"created": "today"}))


def test_tenant_filter_offers_tenant_names_and_provider_offers_known_values(support, member):
    response = support.client().get(LIST)
    page = response.content.decode()
    assert "Tenant A" in page and "By auth provider" in page


NUL_REMOVED = "A filter held a NUL character, which no text has: removed."


@pytest.mark.parametrize(
    ("params", "message", "everyone"),
    [
        ({"tenant": "not-a-uuid"}, unoffered_filter("not-a-uuid", "tenant"), True),
        ({"tenant": "\x00"}, NUL_REMOVED, True),
        ({"role": "root"}, unoffered_filter("root", "role"), True),
        ({"ban": "\x00"}, NUL_REMOVED, True),
        ({"provider": "a\x00b"}, NUL_REMOVED, True),
        ({"created": "forever"}, unoffered_filter("forever", "created"), True),
        ({"o": "99.x"}, None, True),
    ],
)
def test_malformed_filter_values_are_cleared_with_a_message(
    support, member, params, message, everyone
):
    response = support.client().get(LIST, params, follow=True)
    assert_page_says(response, 200, "<h1>Select gateway user to view</h1>")
    assert messages_on(response) == ([message] if message else [])
    every_email = set(GatewayUser.unscoped.values_list("email", flat=True))
    assert member.email in every_email
    assert set(emails(response)) == (every_email if everyone else set())


@pytest.mark.parametrize(
    "params",
    [
        {"created_at__year": "99999999"},
        {"email__startswith": "m"},
        {"ban_expires__gte": "garbage"},
        {"is_active__exact": "maybe"},
        {"name__trigram_similar": "x"},
    ],
)
def test_lookups_the_page_does_not_offer_become_a_message(support, member, params):
    response = support.client().get(LIST, params, follow=True)
    assert response.status_code == 200
    assert "Ignored filters this page does not have" in response.content.decode()


@pytest.mark.parametrize("page", ["99999", "-1", "abc", "9" * 30])
def test_impossible_page_numbers_become_a_message(support, member, page):
    response = support.client().get(LIST, {"p": page}, follow=True)
    assert response.status_code == 200
    assert "mia@example.com" in response.content.decode()


def test_no_secret_lookups_in_urls(support, member):
    response = support.client().get(LIST, {"sessions__token__startswith": "a"}, follow=True)
    assert response.status_code == 200
    assert "Ignored filters" in response.content.decode()
