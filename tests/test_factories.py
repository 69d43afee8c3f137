"""Every factory writes a row that reads back as written, with aware UTC timestamps."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeVar

import pytest
from django.db import connection, models
from django.utils import timezone

from audit.factories import (
    AuditLogFactory,
    LogIdBlockFactory,
    LogIdFrontierFactory,
    RequestLogFactory,
)
from audit.models import AuditLog, AuditOutcome, LogIdBlock, LogIdFrontier, RequestLog
from monitoring.factories import (
    AnalyticsResultFactory,
    HealthCheckDailyRollupFactory,
    HealthCheckRollupFactory,
    HealthCheckRollupFrontierFactory,
    RequestDailyRollupFactory,
    RequestRollupFactory,
    RequestRollupFrontierFactory,
)
from monitoring.models import (
    AnalyticsResult,
    HealthCheckDailyRollup,
    HealthCheckRollup,
    HealthCheckRollupFrontier,
    RequestDailyRollup,
    RequestRollup,
    RequestRollupFrontier,
)
from registry.factories import (
    McpResourceFactory,
    McpServerFactory,
    McpToolFactory,
    ServerHealthCheckFactory,
)
from registry.models import McpResource, McpServer, McpTool, ServerHealth, ServerHealthCheck
from security.api_key_secrets import generate_api_key, hash_api_key, prefix_of
from security.factories import (
    AccountFactory,
    ApiKeyFactory,
    CredentialAccountFactory,
    GatewaySessionFactory,
    GatewayUserFactory,
    ImpersonationRecordFactory,
    ImpersonationSessionFactory,
    IssuingFormClaimFactory,
    KeyRotationFactory,
    RecoveryCodeDeviceFactory,
    RecoveryCodeFactory,
    SecondFactorThrottleFactory,
    SignInWindowFactory,
    StaffAccountFactory,
    StaffSessionFactory,
    VerificationFactory,
)
from security.models import (
    Account,
    ApiKey,
    GatewaySession,
    GatewayUser,
    ImpersonationRecord,
    IssuingFormClaim,
    KeyRotation,
    RecoveryCode,
    RecoveryCodeDevice,
    SecondFactorThrottle,
    SignInWindow,
    StaffAccount,
    StaffSession,
    Verification,
)
from security.passwords import verify_password
from tenants.factories import TenantFactory
from tenants.models import Tenant, TenantStatus

pytestmark = pytest.mark.django_db

BETTER_AUTH_ID = re.compile(r"[A-Za-z0-9]{32}")

FACTORIES = [
    (TenantFactory, Tenant),
    (GatewayUserFactory, GatewayUser),
    (GatewaySessionFactory, GatewaySession),
    (ImpersonationSessionFactory, GatewaySession),
    (AccountFactory, Account),
    (CredentialAccountFactory, Account),
    (VerificationFactory, Verification),
    (ApiKeyFactory, ApiKey),
    (McpServerFactory, McpServer),
    (ServerHealthCheckFactory, ServerHealthCheck),
    (McpToolFactory, McpTool),
    (McpResourceFactory, McpResource),
    (AuditLogFactory, AuditLog),
    (RequestLogFactory, RequestLog),
    (StaffAccountFactory, StaffAccount),
    (ImpersonationRecordFactory, ImpersonationRecord),
    (IssuingFormClaimFactory, IssuingFormClaim),
    (KeyRotationFactory, KeyRotation),
    (RecoveryCodeDeviceFactory, RecoveryCodeDevice),
    (RecoveryCodeFactory, RecoveryCode),
    (SecondFactorThrottleFactory, SecondFactorThrottle),
    (SignInWindowFactory, SignInWindow),
    (StaffSessionFactory, StaffSession),
    (LogIdBlockFactory, LogIdBlock),
    (LogIdFrontierFactory, LogIdFrontier),
    (AnalyticsResultFactory, AnalyticsResult),
    (RequestRollupFactory, RequestRollup),
    (RequestDailyRollupFactory, RequestDailyRollup),
    (RequestRollupFrontierFactory, RequestRollupFrontier),
    (HealthCheckRollupFactory, HealthCheckRollup),
    (HealthCheckDailyRollupFactory, HealthCheckDailyRollup),
    (HealthCheckRollupFrontierFactory, HealthCheckRollupFrontier),
]

# The apps whose every model (contract or back-office) must have a factory here.
PROJECT_APPS = ("tenants", "security", "registry", "audit", "monitoring")


def test_every_model_of_the_project_has_a_factory() -> None:
    from django.apps import apps

    covered = {model for _, model in FACTORIES}
    missing = [
        model._meta.label
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
        if model not in covered and not _is_monitoring_view(model)
    ]
    assert not missing, f"models without a factory: {missing}"


def _is_monitoring_view(model: type[models.Model]) -> bool:
    # The contract's monitoring views are computed by PostgreSQL: there is nothing to insert.
    return model._meta.app_label == "monitoring" and not model._meta.managed


M = TypeVar("M", bound=models.Model)


def reload(obj: M) -> M:
    """The row as the database holds it (``unscoped``: tests have no actor to scope to)."""
    manager = getattr(type(obj), "unscoped", type(obj)._default_manager)
    return manager.get(pk=obj.pk)


def assert_utc_aware(obj: models.Model) -> None:
    for model_field in obj._meta.concrete_fields:
        if isinstance(model_field, models.DateTimeField):
            value = getattr(obj, model_field.attname)
            if value is not None:
                assert value.utcoffset() == dt.timedelta(0), model_field.name


@pytest.mark.parametrize(("factory_class", "model"), FACTORIES)
def test_factory_row_reads_back_with_utc_timestamps(factory_class, model) -> None:
    created = factory_class.create()
    row = reload(created)
    assert isinstance(row, model)
    assert_utc_aware(row)
    for model_field in model._meta.concrete_fields:
        # The database returns what the factory wrote, timestamps to the microsecond.
        assert getattr(row, model_field.attname) == getattr(created, model_field.attname), (
            model_field.name
        )


@pytest.mark.parametrize(
    "factory_class",
    [GatewayUserFactory, GatewaySessionFactory, AccountFactory, VerificationFactory],
)
def test_better_auth_rows_get_better_auth_ids_and_both_timestamps(factory_class) -> None:
    row = reload(factory_class.create())
    assert BETTER_AUTH_ID.fullmatch(row.pk)
    assert row.created_at is not None
    assert row.updated_at is not None


def test_better_auth_timestamps_are_stored_as_naive_utc() -> None:
    user = GatewayUserFactory.create(created_at=dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC))
    with connection.cursor() as cursor:
        cursor.execute('SELECT created_at::text FROM "user" WHERE id = %s', [user.id])
        assert cursor.fetchone()[0] == "2025-06-01 12:00:00"


def test_credential_account_password_verifies_as_better_auth_would() -> None:
    account = reload(CredentialAccountFactory.create(raw_password="s3cret pass"))
    assert account.provider_id == "credential"
    assert account.account_id == account.user_id
    assert account.password is not None
    assert re.fullmatch(r"[0-9a-f]{32}:[0-9a-f]{128}", account.password)
    assert verify_password("s3cret pass", account.password)
    assert not verify_password("s3cret pass ", account.password)


def test_oauth_account_has_no_password() -> None:
    account = reload(AccountFactory.create())
    assert account.provider_id == "github"
    assert account.password is None


def test_emails_are_unique() -> None:
    users = GatewayUserFactory.create_batch(3)
    assert len({user.email for user in users}) == 3


@pytest.mark.parametrize("status", ["trial", "suspended", "archived"])
def test_tenant_status_traits(status) -> None:
    assert reload(TenantFactory.create(**{status: True})).status == TenantStatus(status)


@pytest.mark.parametrize("role", ["admin", "support", "auditor"])
def test_platform_role_traits_have_no_tenant(role) -> None:
    user = reload(GatewayUserFactory.create(**{role: True}))
    assert user.role == role
    assert user.tenant_id is None


def test_tenant_admin_trait_keeps_a_tenant() -> None:
    user = reload(GatewayUserFactory.create(tenant_admin=True))
    assert user.role == "tenant_admin"
    assert user.tenant_id is not None


def test_ban_traits() -> None:
    now = timezone.now()
    permanent = reload(GatewayUserFactory.create(banned_permanent=True))
    expiring = reload(GatewayUserFactory.create(banned_expiring=True))
    expired = reload(GatewayUserFactory.create(banned_expired=True))
    assert permanent.banned and permanent.ban_expires is None and permanent.ban_reason
    assert expiring.banned and expiring.ban_expires > now
    assert expired.banned and expired.ban_expires < now
    assert not reload(GatewayUserFactory.create()).banned


def test_expired_session_trait() -> None:
    session = reload(GatewaySessionFactory.create(expired=True))
    assert session.expires_at < timezone.now()
    assert session.impersonated_by is None


def test_impersonation_session_lasts_one_hour_and_names_an_admin() -> None:
    session = reload(ImpersonationSessionFactory.create())
    assert session.expires_at - session.created_at == dt.timedelta(hours=1)
    assert session.expires_at > timezone.now()
    assert GatewayUser.unscoped.get(id=session.impersonated_by).role == "admin"


def test_impersonation_by_a_given_admin_creates_no_other_admin() -> None:
    admin = GatewayUserFactory.create(admin=True)
    session = reload(ImpersonationSessionFactory.create(impersonated_by=admin.id, expired=True))
    assert session.impersonated_by == admin.id
    assert session.expires_at < timezone.now()
    assert GatewayUser.unscoped.filter(role="admin").count() == 1


def test_api_key_stores_prefix_and_hash_only() -> None:
    material = generate_api_key()
    key = reload(ApiKeyFactory.create(material=material))
    assert key.key_prefix == prefix_of(material.plaintext)
    assert key.key_hash == hash_api_key(material.plaintext)
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(k)::text FROM api_keys k WHERE id = %s", [key.id])
        stored = cursor.fetchone()[0]
    secret = material.plaintext.removeprefix(material.prefix + "_")
    assert material.plaintext not in stored
    assert secret not in stored
    assert key.created_by is not None and key.created_by.tenant_id == key.tenant_id
    assert key.expires_at is not None
    assert key.is_active and key.expires_at > timezone.now() + dt.timedelta(days=7)


def test_api_key_state_traits() -> None:
    now = timezone.now()
    expiring = reload(ApiKeyFactory.create(expiring=True))
    expired = reload(ApiKeyFactory.create(expired=True))
    revoked = reload(ApiKeyFactory.create(revoked=True))
    assert expiring.expires_at and expired.expires_at and revoked.revoked_at
    assert now < expiring.expires_at <= now + dt.timedelta(days=7)
    assert expired.expires_at < now and expired.is_active
    assert not revoked.is_active
    assert revoked.revoked_at < now
    assert revoked.revoked_by == revoked.created_by_id
    assert reload(ApiKeyFactory.create(never_expires=True)).expires_at is None


@pytest.mark.parametrize("state", ["degraded", "unhealthy", "unknown"])
def test_server_health_traits(state) -> None:
    server = reload(McpServerFactory.create(**{state: True}))
    assert server.health_status == ServerHealth(state)
    assert (server.last_health_check_at is None) == (state == "unknown")


def test_stale_server_was_last_checked_long_ago() -> None:
    server = reload(McpServerFactory.create(stale=True))
    assert server.health_status == ServerHealth.HEALTHY
    assert server.last_health_check_at is not None
    assert server.last_health_check_at < timezone.now() - dt.timedelta(minutes=5)


def test_failed_health_check_has_an_error() -> None:
    check = reload(ServerHealthCheckFactory.create(unhealthy=True))
    assert check.status == ServerHealth.UNHEALTHY
    assert check.response_time_ms is None
    assert check.error_message


def test_log_factories_get_identity_ids_and_traits() -> None:
    denied = reload(AuditLogFactory.create(denied=True))
    assert denied.outcome == AuditOutcome.DENIED
    assert denied.id > 0
    error = reload(RequestLogFactory.create(server_error=True))
    assert error.status_code == 502
    assert error.server is not None and error.tenant_id == error.server.tenant_id
