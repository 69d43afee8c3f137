"""Sample objects (in tenant A) and URL arguments for the permission matrix.

Every model registered in the admin needs a sample here, and every back-office URL that takes
arguments needs its kwargs: the matrix test refuses pages it cannot visit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from tenants.models import Tenant


def _tenant(tenant: Tenant) -> Tenant:
    return tenant


SAMPLE_OBJECTS: dict[type[models.Model], Callable[[Tenant], models.Model]] = {
    Tenant: _tenant,
}


def kwargs_for(model: type[models.Model], **names: str) -> Callable[[dict], dict[str, Any]]:
    """URL kwargs taken from the sample object of ``model`` (``name=attribute``)."""

    def build(objects: dict) -> dict[str, Any]:
        return {name: getattr(objects[model], attr) for name, attr in names.items()}

    build.model = model  # type: ignore[attr-defined]
    return build


SAMPLE_URL_KWARGS: dict[str, Callable[[dict], dict[str, Any]]] = {}


# --- security.moderation: gateway users, their sessions, impersonation records --------------


def _gateway_user(tenant: Tenant) -> models.Model:
    from security.factories import GatewayUserFactory

    return GatewayUserFactory.create(tenant=tenant)


def _gateway_session(tenant: Tenant) -> models.Model:
    from security.factories import GatewaySessionFactory

    return GatewaySessionFactory.create(user__tenant=tenant)


def _impersonation_record(tenant: Tenant) -> models.Model:
    import datetime as dt

    from security.models import ImpersonationRecord

    now = dt.datetime.now(dt.UTC)
    return ImpersonationRecord.unscoped.create(
        session_id="sample-impersonation",
        impersonator_id="sample-admin",
        impersonated_user_id="sample-user",
        tenant_id=tenant.pk,
        started_at=now,
        expires_at=now + dt.timedelta(hours=1),
        last_seen_at=now,
    )


def _register_moderation_samples() -> None:
    from security.models import GatewaySession, GatewayUser, ImpersonationRecord

    SAMPLE_OBJECTS.update(
        {
            GatewayUser: _gateway_user,
            GatewaySession: _gateway_session,
            ImpersonationRecord: _impersonation_record,
        }
    )
    user = kwargs_for(GatewayUser, user_id="pk")
    record = kwargs_for(ImpersonationRecord, record_id="pk")
    SAMPLE_URL_KWARGS.update(
        {
            "security:user_ban": user,
            "security:user_unban": user,
            "security:user_roles": user,
            "security:user_revoke_sessions": user,
            "security:session_revoke": kwargs_for(
                GatewaySession, user_id="user_id", session_id="pk"
            ),
            "security:impersonation_end": record,
            "security:impersonation_review": record,
            "security:second_factor_reset": user,
        }
    )


_register_moderation_samples()


# --- security.lifecycle: a user's sign-in method ---------------------------------------------


def _sign_in_method(tenant: Tenant) -> models.Model:
    from security.factories import AccountFactory

    return AccountFactory.create(user__tenant=tenant)


def _register_lifecycle_samples() -> None:
    from security.models import Account, GatewayUser

    SAMPLE_OBJECTS[Account] = _sign_in_method
    user = kwargs_for(GatewayUser, user_id="pk")
    SAMPLE_URL_KWARGS.update(
        {
            "security:user_set_password": user,
            "security:user_verify_email": user,
            "security:user_remove": user,
            "security:user_unlink_sign_in": kwargs_for(Account, user_id="user_id", account_id="pk"),
        }
    )


_register_lifecycle_samples()


# --- registry and analytics: MCP servers, tenant usage --------------------------------------


def _mcp_server(tenant: Tenant) -> models.Model:
    from registry.factories import McpServerFactory

    return McpServerFactory.create(tenant=tenant)


def _register_registry_and_analytics_samples() -> None:
    from registry.models import McpServer

    SAMPLE_OBJECTS[McpServer] = _mcp_server
    server = kwargs_for(McpServer, server_id="pk")
    tenant = kwargs_for(Tenant, tenant_id="pk")
    SAMPLE_URL_KWARGS.update(
        {
            "registry:server_deactivate": server,
            "registry:server_reactivate": server,
            "monitoring:tenant_usage": tenant,
            "monitoring:tenant_usage_csv": tenant,
            "tenants:tenant_suspend": tenant,
            "tenants:tenant_reactivate": tenant,
            "tenants:tenant_archive": tenant,
            "tenants:tenant_edit": tenant,
        }
    )


_register_registry_and_analytics_samples()


# --- security.api_keys: a tenant's API keys -------------------------------------------------


def _api_key(tenant: Tenant) -> models.Model:
    from security.factories import ApiKeyFactory

    return ApiKeyFactory.create(tenant=tenant)


def _register_api_key_samples() -> None:
    from security.models import ApiKey

    SAMPLE_OBJECTS[ApiKey] = _api_key
    key = kwargs_for(ApiKey, key_id="pk")
    SAMPLE_URL_KWARGS.update(
        {
            "security:api_key_edit": key,
            "security:api_key_revoke": key,
            "security:api_key_rotate": key,
        }
    )


_register_api_key_samples()


# --- audit: the audit and request logs (read-only, platform-wide) ---------------------------


def _audit_log(tenant: Tenant) -> models.Model:
    from audit.factories import AuditLogFactory

    return AuditLogFactory.create(tenant_id=tenant.pk)


def _request_log(tenant: Tenant) -> models.Model:
    from audit.factories import RequestLogFactory

    return RequestLogFactory.create(server__tenant=tenant)


def _register_audit_samples() -> None:
    from audit.models import AuditLog, RequestLog

    SAMPLE_OBJECTS.update({AuditLog: _audit_log, RequestLog: _request_log})
    SAMPLE_URL_KWARGS.update(
        {
            "audit:audit_log_detail": kwargs_for(AuditLog, pk="pk"),
            "audit:request_log_detail": kwargs_for(RequestLog, pk="pk"),
        }
    )


_register_audit_samples()


# --- approvals: a four-eyes request (signing out a user of tenant A, asked by another admin) ---


def _approval_request(tenant: Tenant) -> models.Model:
    import datetime as dt

    from approvals.models import ApprovalRequest
    from security.factories import GatewayUserFactory

    user = GatewayUserFactory.create(tenant=tenant)
    now = dt.datetime.now(dt.UTC)
    return ApprovalRequest.objects.create(
        operation="session.revoke_all",
        target_ids=[user.pk],
        params={"user_ids": [user.pk]},
        title=f"Revoke all sessions of {user.email}",
        preview=["Every session is deleted."],
        why="It acts on many users.",
        tenant_id=tenant.pk,
        requested_by_id="sample-admin",
        requested_by_name="sample-admin@example.com",
        requested_at=now,
        expires_at=now + dt.timedelta(hours=24),
    )


def _register_approval_samples() -> None:
    from approvals.models import ApprovalRequest

    SAMPLE_OBJECTS[ApprovalRequest] = _approval_request
    SAMPLE_URL_KWARGS["approvals:detail"] = kwargs_for(ApprovalRequest, approval_id="pk")


_register_approval_samples()
