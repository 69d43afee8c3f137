"""``manage.py seed_demo``: what the demo database holds after one run.

The seed runs once for the module (it hashes two dozen scrypt passwords) and commits; the
contract tables are emptied afterwards.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditLog, AuditOutcome, RequestLog
from backoffice.roles import Role, parse_roles
from registry.models import McpResource, McpServer, McpTool, ServerHealth, ServerHealthCheck
from security.authentication import Refusal, refusal_for
from security.models import Account, ApiKey, GatewaySession, GatewayUser, StaffAccount
from security.passwords import verify_password
from tenants.models import Tenant, TenantStatus
from tests.conftest import TRUNCATE_CONTRACT_SQL

LOG_ROWS = 2000
SIGN_IN_LINE = re.compile(r"^\s+(admin|support|tenant_admin|auditor|user)\s+(\S+@\S+)\s+(\S+)$")


@pytest.fixture(scope="module")
def seed_output(django_db_setup, django_db_blocker) -> Iterator[str]:
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command("seed_demo", log_rows=LOG_ROWS, seed=1, stdout=out)
    yield out.getvalue()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(TRUNCATE_CONTRACT_SQL)
        # The demo staff's back-office users (and their second factor) were committed too.
        User.objects.filter(staff_account__isnull=False).delete()


@pytest.fixture
def seeded(seed_output: str, db) -> str:
    return seed_output


def test_every_tenant_status_several_times(seeded) -> None:
    counts = dict(Tenant.unscoped.values_list("status").annotate(n=Count("id")))
    assert set(counts) == set(TenantStatus.values)
    assert min(counts.values()) >= 2


def test_every_role_and_tenant_admins_in_two_tenants(seeded) -> None:
    roles: set[Role] = set()
    for role_text in GatewayUser.unscoped.values_list("role", flat=True):
        roles |= parse_roles(role_text)
    assert roles == set(Role)
    tenant_admin_tenants = (
        GatewayUser.unscoped.filter(role__contains="tenant_admin", tenant__isnull=False)
        .values("tenant_id")
        .distinct()
    )
    assert tenant_admin_tenants.count() >= 2
    # A comma-separated multi-role user, as Better-Auth allows.
    assert GatewayUser.unscoped.filter(role__contains=",").exists()


def test_bans_permanent_expiring_and_expired_and_banned_users_have_no_sessions(seeded) -> None:
    now = timezone.now()
    banned = GatewayUser.unscoped.filter(banned=True)
    assert banned.filter(ban_expires__isnull=True).exists()
    assert banned.filter(ban_expires__gt=now).exists()
    assert banned.filter(ban_expires__lt=now).exists()
    assert not banned.filter(ban_reason__isnull=True).exists()
    # Banning deletes the user's sessions (Better-Auth admin plugin).
    assert not GatewaySession.unscoped.filter(user__banned=True).exists()


def test_live_and_expired_sessions(seeded) -> None:
    now = timezone.now()
    sessions = GatewaySession.unscoped.filter(impersonated_by__isnull=True)
    assert sessions.filter(expires_at__gt=now).count() >= 5
    assert sessions.filter(expires_at__lt=now).count() >= 5


def test_impersonation_sessions_live_and_expired_by_admins(seeded) -> None:
    now = timezone.now()
    impersonations = list(GatewaySession.unscoped.filter(impersonated_by__isnull=False))
    assert any(s.expires_at > now for s in impersonations)
    assert any(s.expires_at < now for s in impersonations)
    admin_ids = set(GatewayUser.unscoped.filter(role="admin").values_list("id", flat=True))
    for session in impersonations:
        assert session.impersonated_by in admin_ids
        assert session.expires_at - session.created_at == dt.timedelta(hours=1)
        assert session.user_id not in admin_ids


def test_better_auth_rows_have_better_auth_ids_and_hashes(seeded) -> None:
    for model in (GatewayUser, GatewaySession, Account):
        for pk in model.unscoped.values_list("pk", flat=True):
            assert re.fullmatch(r"[A-Za-z0-9]{32}", pk)
    credentials = Account.unscoped.filter(provider_id="credential")
    assert credentials.count() >= 10
    for account in credentials:
        assert account.password is not None
        assert re.fullmatch(r"[0-9a-f]{32}:[0-9a-f]{128}", account.password)
        assert account.account_id == account.user_id


def test_every_server_health_state_among_active_servers(seeded) -> None:
    stale_before = timezone.now() - dt.timedelta(minutes=5)
    active = McpServer.unscoped.filter(is_active=True)
    assert set(active.values_list("health_status", flat=True)) == set(ServerHealth.values)
    assert active.filter(health_status="healthy", last_health_check_at__lt=stale_before).exists()
    never_checked = active.filter(last_health_check_at__isnull=True)
    assert never_checked.exists()
    assert not ServerHealthCheck.unscoped.filter(server__in=never_checked).exists()
    for server in active.exclude(last_health_check_at__isnull=True):
        latest = ServerHealthCheck.unscoped.filter(server=server).order_by("-checked_at").first()
        assert latest is not None and latest.checked_at == server.last_health_check_at
        assert ServerHealthCheck.unscoped.filter(server=server).count() > 10
    assert not active.filter(health_status="unhealthy", consecutive_failures=0).exists()
    assert not McpServer.unscoped.annotate(n=Count("tools")).filter(n=0).exists()
    assert McpResource.unscoped.exists()


def test_api_keys_in_every_state(seeded) -> None:
    now = timezone.now()
    week = now + dt.timedelta(days=7)
    live = ApiKey.unscoped.filter(is_active=True, revoked_at__isnull=True)
    assert live.filter(Q(expires_at__gt=week) | Q(expires_at__isnull=True)).exists()
    assert live.filter(expires_at__gt=now, expires_at__lte=week).exists()
    assert live.filter(expires_at__lt=now).exists()
    revoked = ApiKey.unscoped.filter(is_active=False)
    assert revoked.exists()
    assert not revoked.filter(Q(revoked_at__isnull=True) | Q(revoked_by__isnull=True)).exists()
    for key in ApiKey.unscoped.all():
        assert re.fullmatch(r"mcpgw_[a-z0-9]{8}", key.key_prefix)
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key.key_hash)


@pytest.mark.parametrize("model", [AuditLog, RequestLog])
def test_log_rows_spread_over_thirty_days(seeded, model) -> None:
    now = timezone.now()
    rows = model.unscoped.aggregate(n=Count("id"), first=Min("created_at"), last=Max("created_at"))
    assert rows["n"] == LOG_ROWS
    assert rows["first"] >= now - dt.timedelta(days=30, minutes=5)
    assert rows["first"] < now - dt.timedelta(days=29)
    assert rows["last"] <= now
    assert rows["last"] > now - dt.timedelta(days=1)
    days = model.unscoped.dates("created_at", "day").count()
    assert days >= 30
    # Ids grow with time, as in an append-only log (the BRIN index relies on it).
    ordered = list(model.unscoped.order_by("id").values_list("created_at", flat=True))
    assert ordered == sorted(ordered)


def test_audit_log_distributions(seeded) -> None:
    outcomes = dict(AuditLog.unscoped.values_list("outcome").annotate(n=Count("id")))
    assert set(outcomes) == set(AuditOutcome.values)
    assert outcomes["success"] > 0.8 * LOG_ROWS
    actor_types = set(AuditLog.unscoped.values_list("actor_type", flat=True))
    assert actor_types == {"user", "api_key", "system", "staff"}
    actions = set(AuditLog.unscoped.values_list("action", flat=True))
    assert {"user.ban", "user.unban", "session.revoke", "api_key.create"} <= actions
    assert {"api_key.revoke", "impersonation.start", "impersonation.stop"} <= actions
    user_ids = set(GatewayUser.unscoped.values_list("id", flat=True))
    tenant_ids = set(Tenant.unscoped.values_list("id", flat=True))
    for actor_id, tenant_id in AuditLog.unscoped.filter(actor_type="user").values_list(
        "actor_id", "tenant_id"
    ):
        assert actor_id in user_ids
        assert tenant_id in tenant_ids


def test_request_log_distributions_follow_the_seeded_registry(seeded) -> None:
    statuses = dict(RequestLog.unscoped.values_list("status_code").annotate(n=Count("id")))
    assert statuses[200] > 0.7 * LOG_ROWS
    assert any(400 <= code < 500 for code in statuses)
    assert any(code >= 500 for code in statuses)
    durations = sorted(RequestLog.unscoped.values_list("duration_ms", flat=True))
    median, p99 = durations[len(durations) // 2], durations[int(len(durations) * 0.99)]
    assert p99 > 5 * median  # a long tail
    tools = set(McpTool.unscoped.values_list("server_id", "name"))
    server_tenants = set(McpServer.unscoped.values_list("id", "tenant_id"))
    calls = RequestLog.unscoped.filter(method="tools/call")
    assert calls.count() > 0.5 * LOG_ROWS
    for server_id, tool_name, tenant_id in calls.values_list("server_id", "tool_name", "tenant_id"):
        assert (server_id, tool_name) in tools
        assert (server_id, tenant_id) in server_tenants
    key_tenants = set(ApiKey.unscoped.values_list("id", "tenant_id"))
    for key_id, tenant_id in RequestLog.unscoped.filter(api_key_id__isnull=False).values_list(
        "api_key_id", "tenant_id"
    ):
        assert (key_id, tenant_id) in key_tenants
    # The counters next to the logs agree with them.
    called = McpTool.unscoped.filter(call_count__gt=0).count()
    assert called == calls.values("server_id", "tool_name").distinct().count()


def test_printed_demo_credentials_sign_in(seeded) -> None:
    sign_ins = [m.groups() for line in seeded.splitlines() if (m := SIGN_IN_LINE.match(line))]
    assert {role for role, _, _ in sign_ins} == set(Role)
    for role, email, password in sign_ins:
        user = GatewayUser.unscoped.get(email=email)
        assert Role(role) in parse_roles(user.role)
        account = Account.unscoped.get(user=user, provider_id="credential")
        assert verify_password(password, account.password)
        assert not verify_password(password + "x", account.password)
        expected = Refusal.NO_ROLE if role == Role.USER else None
        assert refusal_for(user) == expected


def test_demo_staff_are_enrolled_and_the_printed_command_gives_their_code(seeded) -> None:
    assert "python manage.py staff_otp_code <email>" in seeded
    sign_ins = [m.groups() for line in seeded.splitlines() if (m := SIGN_IN_LINE.match(line))]
    for role, email, _password in sign_ins:
        link = StaffAccount.objects.filter(gateway_user_id=GatewayUser.unscoped.get(email=email).pk)
        device = TOTPDevice.objects.filter(user__staff_account__in=link, confirmed=True).first()
        if role == Role.USER:
            assert device is None  # no back-office role: nothing to enrol
            continue
        assert device is not None, email
        out = io.StringIO()
        call_command("staff_otp_code", email, stdout=out)
        assert device.verify_token(out.getvalue().strip())


def test_staff_otp_code_is_refused_under_production_settings(seeded, settings) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="demo only"):
        call_command("staff_otp_code", "admin@gateway.example", stdout=io.StringIO())


def test_once_is_a_no_op_when_already_seeded(seeded) -> None:
    before = (GatewayUser.unscoped.count(), AuditLog.unscoped.count(), RequestLog.unscoped.count())
    out = io.StringIO()
    call_command("seed_demo", once=True, log_rows=10, stdout=out)
    assert "already seeded" in out.getvalue()
    after = (GatewayUser.unscoped.count(), AuditLog.unscoped.count(), RequestLog.unscoped.count())
    assert after == before


def test_seeding_twice_without_once_refuses(seeded) -> None:
    with pytest.raises(CommandError, match="already seeded"):
        call_command("seed_demo", log_rows=10, stdout=io.StringIO())
