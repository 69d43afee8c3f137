"""A key-issuing form sent twice, even at the same instant, issues one key: its one-time token is
claimed in the database inside the transaction that issues the key."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditLog
from backoffice.operations import Invalid
from security.api_keys import services
from security.models import ApiKey, IssuingFormClaim
from tests.concurrency import at_once, backend_pid, wait_until_blocked_behind
from tests.security.api_keys.conftest import now

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("security:api_key_create")
FORM: dict[str, Any] = {
    "form_token": "double-click",
    "name": "CI pipeline",
    "scopes": ["tools:call"],
    "expiry": "30",
    "expires_on": "",
    "rate_limit_per_minute": "60",
}


def same_browser(client: Client, count: int) -> list[Client]:
    """``count`` clients sharing one signed-in session, as tabs or a double click would."""
    clients = []
    for _ in range(count):
        other = Client()
        other.cookies = copy.deepcopy(client.cookies)
        clients.append(other)
    return clients


def post_at_once(clients: list, url: str, data: dict[str, Any]) -> list:
    """POST the same form from each client at once; the responses, in any order.

    The request that claims the form holds its transaction open until PostgreSQL shows every
    other request waiting behind it, so they really arrive while the key is being issued.
    """
    insert_key = services._insert_key

    def insert_once_the_others_wait(**kwargs: Any) -> services.IssuedKey:
        wait_until_blocked_behind(backend_pid(), waiters=len(clients) - 1)
        return insert_key(**kwargs)

    with mock.patch.object(services, "_insert_key", side_effect=insert_once_the_others_wait):
        responses, _ = at_once(lambda n: clients[n].post(url, data), len(clients))
    return responses


@pytest.mark.django_db(transaction=True)
def test_simultaneous_posts_of_one_create_form_issue_one_key(tenant_admin_a):
    responses = post_at_once(same_browser(tenant_admin_a.client(), 3), CREATE_URL, FORM)

    assert ApiKey.unscoped.count() == 1
    assert AuditLog.unscoped.filter(action="api_key.create").count() == 1
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 302, 302]  # the key page once; "already sent" twice, never a 500
    key = ApiKey.unscoped.get()
    for response in responses:
        if response.status_code == 302:
            assert response["Location"] == reverse("admin:security_apikey_change", args=[key.pk])
    assert IssuingFormClaim.objects.get().key_id == key.pk


@pytest.mark.django_db(transaction=True)
def test_simultaneous_posts_of_one_rotate_form_issue_one_key(tenant_admin_a, key_a):
    url = reverse("security:api_key_rotate", args=[key_a.pk])
    form = {"form_token": "rotate-twice", "grace": "24h", "expiry": "90"}
    responses = post_at_once(same_browser(tenant_admin_a.client(), 2), url, form)

    assert ApiKey.unscoped.count() == 2
    assert sorted(response.status_code for response in responses) == [200, 302]


def test_a_form_sent_again_later_goes_to_its_key(tenant_admin_a):
    client = tenant_admin_a.client()
    client.post(CREATE_URL, FORM)
    again = client.post(CREATE_URL, FORM, follow=True)
    assert ApiKey.unscoped.count() == 1
    assert "already sent" in again.content.decode()


def test_the_same_token_from_another_person_is_their_own_form(tenant_admin_a, tenant_admin_b):
    tenant_admin_a.client().post(CREATE_URL, FORM)
    response = tenant_admin_b.client().post(CREATE_URL, FORM)
    assert response.status_code == 200
    assert ApiKey.unscoped.count() == 2


def test_a_refused_form_can_be_sent_again_once_fixed(tenant_admin_a, tenant_a, key_a):
    tenant_a.max_api_keys = 1
    tenant_a.save(update_fields=["max_api_keys"])
    # The service itself (the page refuses earlier): its claim goes with the refused key.
    with pytest.raises(Invalid):
        services.create_api_key(
            actor=tenant_admin_a.actor,
            tenant_id=tenant_a.pk,
            name="over the limit",
            scopes=["servers:read"],
            expires_at=None,
            rate_limit_per_minute=60,
            form_token=FORM["form_token"],
        )
    assert not IssuingFormClaim.objects.exists()
    assert tenant_admin_a.client().post(CREATE_URL, FORM).status_code == 400
    tenant_a.max_api_keys = 2
    tenant_a.save(update_fields=["max_api_keys"])
    assert tenant_admin_a.client().post(CREATE_URL, FORM).status_code == 200


def test_claims_keep_no_token_and_old_ones_are_pruned(tenant_admin_a):
    old = IssuingFormClaim.objects.create(
        token_digest="0" * 64, claimed_at=now() - dt.timedelta(days=8)
    )
    recent = IssuingFormClaim.objects.create(
        token_digest="1" * 64, claimed_at=now() - dt.timedelta(days=1)
    )
    tenant_admin_a.client().post(CREATE_URL, FORM)
    digests = set(IssuingFormClaim.objects.values_list("token_digest", flat=True))
    assert old.pk not in digests and recent.pk in digests
    assert len(digests) == 2
    assert all(FORM["form_token"] not in digest for digest in digests)
