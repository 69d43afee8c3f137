"""factory-boy factories for the MCP server registry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory

from registry.models import McpResource, McpServer, McpTool, ServerHealth, ServerHealthCheck
from tenants.factories import ContractModelFactory, TenantFactory, utc_now

# The contract's functions count a health check older than this as stale.
STALE_AFTER = dt.timedelta(minutes=5)


def _ago(**delta: float) -> Any:
    return factory.LazyFunction(lambda: utc_now() - dt.timedelta(**delta))


class McpServerFactory(ContractModelFactory[McpServer]):
    """An active, healthy streamable-HTTP server checked 30 seconds ago.

    Health traits: ``degraded``, ``unhealthy``, ``unknown`` (never checked); ``stale`` (healthy
    when last checked, two hours ago); ``inactive`` (deactivated).
    """

    class Meta:
        model = McpServer

    class Params:
        degraded = factory.Trait(
            health_status=ServerHealth.DEGRADED,
            consecutive_failures=1,
            avg_response_time_ms=1850.0,
            success_rate=0.91,
        )
        unhealthy = factory.Trait(
            health_status=ServerHealth.UNHEALTHY,
            consecutive_failures=6,
            avg_response_time_ms=None,
            success_rate=0.42,
        )
        unknown = factory.Trait(
            health_status=ServerHealth.UNKNOWN,
            last_health_check_at=None,
            avg_response_time_ms=None,
            success_rate=1.0,
        )
        stale = factory.Trait(last_health_check_at=_ago(hours=2))
        inactive = factory.Trait(is_active=False)

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"server-{n}")
    description = "An MCP server registered for tests."
    endpoint_url = factory.LazyAttribute(lambda o: f"https://{o.name}.mcp.example.com/mcp")
    transport_type = "streamable_http"
    health_status = ServerHealth.HEALTHY
    last_health_check_at = _ago(seconds=30)
    consecutive_failures = 0
    avg_response_time_ms = 120.0
    success_rate = 0.995
    request_count = 0
    error_count = 0
    version = "1.0.0"
    capabilities = factory.LazyFunction(lambda: {"tools": {"listChanged": True}, "resources": {}})
    tags = factory.LazyFunction(list)
    is_active = True
    created_by = None
    created_at = factory.LazyFunction(utc_now)
    updated_at = factory.SelfAttribute("created_at")


class ServerHealthCheckFactory(ContractModelFactory[ServerHealthCheck]):
    """A passed health check, just now. Traits: ``degraded`` (slow), ``unhealthy`` (failed)."""

    class Meta:
        model = ServerHealthCheck

    class Params:
        degraded = factory.Trait(
            status=ServerHealth.DEGRADED,
            response_time_ms=2400,
            error_message="Slow response",
        )
        unhealthy = factory.Trait(
            status=ServerHealth.UNHEALTHY,
            response_time_ms=None,
            error_message="Connection refused",
        )

    server = factory.SubFactory(McpServerFactory)
    checked_at = factory.LazyFunction(utc_now)
    status = ServerHealth.HEALTHY
    response_time_ms = 118
    error_message = None


class McpToolFactory(ContractModelFactory[McpTool]):
    """An enabled tool never called yet. Trait: ``disabled``."""

    class Meta:
        model = McpTool

    class Params:
        disabled = factory.Trait(is_enabled=False)

    server = factory.SubFactory(McpServerFactory)
    name = factory.Sequence(lambda n: f"tool_{n}")
    description = "A tool registered for tests."
    input_schema = factory.LazyFunction(
        lambda: {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        }
    )
    is_enabled = True
    call_count = 0
    error_count = 0
    avg_execution_time_ms = None
    last_called_at = None
    created_at = factory.LazyFunction(utc_now)
    updated_at = factory.SelfAttribute("created_at")


class McpResourceFactory(ContractModelFactory[McpResource]):
    """A Markdown document a server exposes, never read yet."""

    class Meta:
        model = McpResource

    server = factory.SubFactory(McpServerFactory)
    uri = factory.Sequence(lambda n: f"file:///docs/page-{n}.md")
    name = factory.Sequence(lambda n: f"Page {n}")
    description = None
    mime_type = "text/markdown"
    access_count = 0
    last_accessed_at = None
    created_at = factory.LazyFunction(utc_now)
    updated_at = factory.SelfAttribute("created_at")
