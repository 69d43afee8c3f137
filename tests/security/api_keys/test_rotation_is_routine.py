"""A rotated key in its grace period reads as routine: replaced by its successor, no alarm.

Before, the old key showed "expiring within 7 days" on the list and the dashboard, as if
someone had to act, and nothing named the key that replaced it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from backoffice.operations import Invalid
from security.api_keys import selectors, services
from security.models import KeyRotation
from tests.security.api_keys.conftest import reload

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:security_apikey_changelist")


@pytest.fixture
def rotated(tenant_admin_a, key_a) -> services.IssuedKey:
    return services.rotate_api_key(
        actor=tenant_admin_a.actor,
        key_id=key_a.pk,
        grace=dt.timedelta(hours=24),
        expires_at=None,
    )


def test_the_rotation_is_recorded_with_the_key_in_one_transaction(rotated, key_a):
    rotation = KeyRotation.objects.get(old_key_id=key_a.pk)
    assert rotation.new_key_id == rotated.key.pk
    assert rotation.new_key_prefix == rotated.key.key_prefix
    assert rotated.plaintext not in str(rotation.__dict__)


def test_the_old_key_reads_replaced_by_its_successor(tenant_admin_a, rotated, key_a):
    old = selectors.api_keys_visible_to(tenant_admin_a.actor).get(pk=key_a.pk)
    assert selectors.describe_status(old) == f"replaced by {rotated.key.key_prefix}"
    html = tenant_admin_a.client().get(LIST_URL).content.decode()
    rows = html.split('id="result_list"')[1].split("</table>")[0]
    assert f"replaced by {rotated.key.key_prefix}" in rows
    assert "expiring within 7 days" not in rows


def test_the_dashboard_does_not_count_a_rotated_key_as_expiring(tenant_admin_a, rotated, key_a):
    html = tenant_admin_a.client().get("/").content.decode()
    panel = html.split('id="keys-expiring"')[1].split("</section>")[0]
    assert key_a.key_prefix not in panel
    assert "No active key expires in the next 7 days." in panel


def test_a_key_already_replaced_cannot_be_rotated_again(tenant_admin_a, rotated, key_a):
    with pytest.raises(Invalid, match=f"rotate {rotated.key.key_prefix} instead"):
        services.rotate_api_key(
            actor=tenant_admin_a.actor,
            key_id=key_a.pk,
            grace=dt.timedelta(hours=1),
            expires_at=None,
        )
    assert KeyRotation.objects.count() == 1


def test_once_the_grace_ends_the_old_key_reads_expired(tenant_admin_a, rotated, key_a):
    old = reload(key_a)
    old.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    old.save(update_fields=["expires_at"])
    old = selectors.api_keys_visible_to(tenant_admin_a.actor).get(pk=key_a.pk)
    assert selectors.describe_status(old) == selectors.ApiKeyStatus.EXPIRED.label
