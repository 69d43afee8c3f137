"""Tenant scoping fails closed for every tenant-owned model."""

import uuid

import pytest
from django.apps import apps
from django.http import Http404

from backoffice.roles import Actor, Capability, Role
from backoffice.scoping import TenantScopedManager
from backoffice.tenancy import access
from registry.models import McpServer
from security.models import ApiKey
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def tenant_owned_models() -> list:
    return [m for m in apps.get_models() if isinstance(m._default_manager, TenantScopedManager)]


def test_every_tenant_owned_contract_model_is_scoped_by_default():
    labels = {m._meta.label for m in tenant_owned_models()}
    assert labels >= {
        "tenants.Tenant",
        "security.GatewayUser",
        "security.GatewaySession",
        "security.Account",
        "security.ApiKey",
        "registry.McpServer",
        "registry.ServerHealthCheck",
        "registry.McpTool",
        "registry.McpResource",
        "audit.AuditLog",
        "audit.RequestLog",
    }


@pytest.mark.parametrize("model", tenant_owned_models(), ids=lambda m: m._meta.label)
def test_a_query_that_forgot_its_tenant_returns_nothing(model, tenant_a):
    # The scoped manager's unscoped twin sees rows; the default manager never does.
    assert model.objects.all().query.is_empty()
    assert list(model.objects.filter(pk__isnull=False)) == []
    assert model.objects.count() == 0


def _key(tenant, prefix):
    return ApiKey.unscoped.create(tenant=tenant, name=prefix, key_prefix=prefix, key_hash=prefix)


def test_tenant_admin_sees_only_their_tenant(tenant_a, tenant_b):
    mine, theirs = _key(tenant_a, "a1"), _key(tenant_b, "b1")
    actor = Actor("ta", frozenset({Role.TENANT_ADMIN}), tenant_id=tenant_a.id, gateway_user_id="x")
    assert list(ApiKey.objects.visible_to(actor, Capability.MANAGE_API_KEYS)) == [mine]
    assert access(ApiKey.objects, actor, Capability.MANAGE_API_KEYS, mine.pk) == mine
    with pytest.raises(Http404):
        access(ApiKey.objects, actor, Capability.MANAGE_API_KEYS, theirs.pk)
    tenants = Tenant.objects.visible_to(actor, Capability.VIEW_TENANTS)
    assert list(tenants) == [tenant_a]


def test_tenant_admin_without_a_tenant_sees_nothing(tenant_a):
    _key(tenant_a, "a1")
    actor = Actor("ta", frozenset({Role.TENANT_ADMIN}), tenant_id=None, gateway_user_id="x")
    assert not ApiKey.objects.visible_to(actor, Capability.MANAGE_API_KEYS).exists()
    assert not Tenant.objects.visible_to(actor, Capability.VIEW_TENANTS).exists()


def test_tenant_admin_with_a_dangling_tenant_id_sees_nothing(tenant_a):
    _key(tenant_a, "a1")
    actor = Actor("ta", frozenset({Role.TENANT_ADMIN}), tenant_id=uuid.uuid4(), gateway_user_id="x")
    assert not ApiKey.objects.visible_to(actor, Capability.MANAGE_API_KEYS).exists()


def test_platform_role_sees_every_tenant(tenant_a, tenant_b):
    _key(tenant_a, "a1"), _key(tenant_b, "b1")
    admin = Actor("adm", frozenset({Role.ADMIN}), gateway_user_id="x")
    assert ApiKey.objects.visible_to(admin, Capability.MANAGE_API_KEYS).count() == 2


def test_capability_is_checked_per_role(tenant_a):
    McpServer.unscoped.create(tenant=tenant_a, name="s", endpoint_url="https://s")
    auditor = Actor("aud", frozenset({Role.AUDITOR}), gateway_user_id="x")
    assert not McpServer.objects.visible_to(auditor, Capability.VIEW_REGISTRY).exists()
    assert not McpServer.objects.visible_to(None, Capability.VIEW_REGISTRY).exists()


def test_tenant_admin_and_auditor_roles_combine_per_capability(tenant_a, tenant_b):
    _key(tenant_a, "a1"), _key(tenant_b, "b1")
    both = Actor(
        "both",
        frozenset({Role.TENANT_ADMIN, Role.AUDITOR}),
        tenant_id=tenant_a.id,
        gateway_user_id="x",
    )
    # Keys: only as tenant admin, so only tenant A; analytics: as auditor, every tenant.
    assert ApiKey.objects.visible_to(both, Capability.MANAGE_API_KEYS).count() == 1
    assert both.is_platform_wide(Capability.VIEW_ANALYTICS)


@pytest.mark.parametrize("bad", ["not-a-uuid", "\x00", "", None, 12])
def test_access_with_a_malformed_id_is_a_404(bad, tenant_a):
    admin = Actor("adm", frozenset({Role.ADMIN}), gateway_user_id="x")
    with pytest.raises(Http404):
        access(ApiKey.objects, admin, Capability.MANAGE_API_KEYS, bad)


def test_reverse_relations_follow_their_scoped_parent(tenant_a, tenant_b):
    server = McpServer.unscoped.create(tenant=tenant_a, name="s", endpoint_url="https://s")
    McpServer.unscoped.create(tenant=tenant_b, name="t", endpoint_url="https://t")
    _key(tenant_a, "a1")
    admin = Actor("ta", frozenset({Role.TENANT_ADMIN}), tenant_id=tenant_a.id, gateway_user_id="x")
    tenant = Tenant.objects.visible_to(admin, Capability.VIEW_TENANTS).get()
    assert tenant.api_keys.count() == 1
    assert list(tenant.servers.all()) == [server]
    assert server.tools.count() == 0


def test_another_tenants_object_is_a_404_and_a_recorded_probe(tenant_a, tenant_b):
    from audit.models import AuditLog
    from registry.factories import McpServerFactory
    from tests.conftest import make_persona

    server = McpServerFactory.create(tenant=tenant_a)
    outsider = make_persona("tenant_admin", tenant=tenant_b)
    client = outsider.client()
    for url in (
        f"/admin/registry/mcpserver/{server.pk}/change/",
        f"/analytics/usage/{tenant_a.pk}/",
    ):
        assert client.get(url).status_code == 404
    probes = AuditLog.unscoped.filter(actor_id=outsider.gateway_user.id, outcome="denied")
    assert sorted(probes.values_list("resource_type", "tenant_id")) == [
        ("registry.mcpserver", tenant_a.pk),
        ("tenants.tenant", tenant_a.pk),
    ]
    # A mistyped id is only a 404: nothing to record.
    assert client.get(f"/admin/registry/mcpserver/{uuid.uuid4()}/change/").status_code == 404
    assert client.get(f"/analytics/usage/{uuid.uuid4()}/").status_code == 404
    assert probes.count() == 2
