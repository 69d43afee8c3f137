"""The admin's own refusals (add, change, delete, delete_selected) are audited like every other.

Pages are read-only: Django answers a POST to a change, add or delete page with 403 by itself.
That refusal writes one ``denied`` row, as a refused page, action or service call does.
"""

from __future__ import annotations

import pytest

from audit.factories import AuditLogFactory
from audit.models import AuditLog
from security.factories import GatewayUserFactory
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def denied_rows() -> list[AuditLog]:
    return list(AuditLog.unscoped.filter(outcome="denied").order_by("id"))


def test_posting_a_change_to_a_read_only_page_is_refused_and_recorded(admin, tenant_a):
    user = GatewayUserFactory.create(tenant=tenant_a)
    response = admin.client().post(
        f"/admin/security/gatewayuser/{user.pk}/change/", {"email": "x@example.com"}
    )
    assert response.status_code == 403
    (row,) = denied_rows()
    assert row.details["what"] == "change" and row.actor_id == admin.gateway_user.pk


@pytest.mark.parametrize("method", ["get", "post"])
def test_adding_is_refused_and_recorded(admin, method):
    response = getattr(admin.client(), method)("/admin/tenants/tenant/add/", {"name": "X"})
    assert response.status_code == 403
    assert not Tenant.unscoped.filter(name="X").exists()
    (row,) = denied_rows()
    assert row.details["what"] == "add"


def test_deleting_is_refused_and_recorded(admin, tenant_a):
    response = admin.client().post(f"/admin/tenants/tenant/{tenant_a.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Tenant.unscoped.filter(pk=tenant_a.pk).exists()
    (row,) = denied_rows()
    assert row.details["what"] == "delete"


def test_delete_selected_on_audit_rows_is_refused_and_recorded(auditor):
    entry = AuditLogFactory.create()
    response = auditor.client().post(
        "/admin/audit/auditlog/", {"action": "delete_selected", "_selected_action": [entry.id]}
    )
    assert response.status_code == 403
    assert AuditLog.unscoped.filter(pk=entry.pk).exists()
    (row,) = denied_rows()
    assert row.details["what"] == "action delete_selected"
