"""factory-boy factories for the gateway's append-only logs.

For one row or a few. ``seed_demo`` loads bulk log rows with set-based SQL instead: a factory
pays one INSERT per row.
"""

from __future__ import annotations

import datetime as dt
import uuid

import factory

from audit.models import ActorType, AuditLog, AuditOutcome, LogIdBlock, LogIdFrontier, RequestLog
from registry.factories import McpServerFactory
from tenants.factories import ContractModelFactory, utc_now


class AuditLogFactory(ContractModelFactory[AuditLog]):
    """A successful ``user.ban`` by a user, on a platform (tenant-less) event.

    Traits: ``failure``, ``denied``; ``by_staff``, ``by_system``.
    """

    class Meta:
        model = AuditLog

    class Params:
        failure = factory.Trait(
            outcome=AuditOutcome.FAILURE,
            details=factory.LazyFunction(lambda: {"error": "User not found"}),
        )
        denied = factory.Trait(outcome=AuditOutcome.DENIED)
        by_staff = factory.Trait(actor_type=ActorType.STAFF)
        by_system = factory.Trait(actor_type=ActorType.SYSTEM, actor_id=None, ip_address=None)

    tenant_id = None
    actor_id = factory.Sequence(lambda n: f"actor-{n}")
    actor_type = ActorType.USER
    action = "user.ban"
    resource_type = "user"
    resource_id = factory.Sequence(lambda n: f"target-{n}")
    outcome = AuditOutcome.SUCCESS
    ip_address = factory.Faker("ipv4_public")
    user_agent = factory.Faker("user_agent")
    request_id = factory.LazyFunction(uuid.uuid4)
    session_id = None
    details = factory.LazyFunction(lambda: {"reason": "Spam"})
    created_at = factory.LazyFunction(utc_now)


class RequestLogFactory(ContractModelFactory[RequestLog]):
    """A successful ``tools/call`` to a new server, logged in that server's tenant.

    Traits: ``client_error`` (429), ``server_error`` (502 with a message).
    """

    class Meta:
        model = RequestLog

    class Params:
        client_error = factory.Trait(status_code=429, error_message="Rate limit exceeded")
        server_error = factory.Trait(
            status_code=502, duration_ms=30000, error_message="Upstream MCP server unreachable"
        )

    server = factory.SubFactory(McpServerFactory)
    tenant_id = factory.LazyAttribute(lambda o: o.server.tenant_id if o.server else None)
    api_key_id = None
    user_id = None
    method = "tools/call"
    tool_name = "search_documents"
    status_code = 200
    duration_ms = 85
    request_bytes = 412
    response_bytes = 2048
    error_message = None
    created_at = factory.LazyFunction(utc_now)


class LogIdBlockFactory(ContractModelFactory[LogIdBlock]):
    """One summarised block of audit log ids spanning the hour before now."""

    class Meta:
        model = LogIdBlock

    table_name = "audit_logs"
    block = factory.Sequence(int)
    max_created_at = factory.LazyFunction(utc_now)
    min_created_at = factory.LazyAttribute(lambda o: o.max_created_at - dt.timedelta(hours=1))


class LogIdFrontierFactory(ContractModelFactory[LogIdFrontier]):
    """Where the summary of a log ends: nothing summarised, nothing seen yet."""

    class Meta:
        model = LogIdFrontier
        django_get_or_create = ("table_name",)

    table_name = "audit_logs"
