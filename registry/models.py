"""The MCP server registry, as the Drizzle contract defines it (unmanaged)."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from backoffice.contract.fields import PgEnumField
from backoffice.scoping import TenantScopedManager
from security.models import GatewayUser
from tenants.models import Tenant


class TransportType(models.TextChoices):
    # Labels as the MCP specification writes them (not Django's "Sse" and "Websocket").
    STDIO = "stdio", "stdio"
    SSE = "sse", "SSE"
    STREAMABLE_HTTP = "streamable_http", "Streamable HTTP"
    WEBSOCKET = "websocket", "WebSocket"


class ServerHealth(models.TextChoices):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


class McpServer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="servers")
    name = models.TextField()
    description = models.TextField(null=True, blank=True)
    endpoint_url = models.TextField()
    transport_type = PgEnumField(
        enum_name="transport_type",
        choices=TransportType.choices,
        default=TransportType.STREAMABLE_HTTP,
    )
    health_status = PgEnumField(
        enum_name="server_health", choices=ServerHealth.choices, default=ServerHealth.UNKNOWN
    )
    last_health_check_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.IntegerField(default=0)
    avg_response_time_ms = models.FloatField(null=True, blank=True)
    success_rate = models.FloatField(default=1.0)
    request_count = models.BigIntegerField(default=0)
    error_count = models.BigIntegerField(default=0)
    version = models.TextField(null=True, blank=True)
    capabilities = models.JSONField(default=dict, blank=True)
    tags = ArrayField(models.TextField(), default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        GatewayUser,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_column="created_by",
        related_name="created_servers",
    )
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    objects = TenantScopedManager(tenant_field="tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "mcp_servers"
        ordering = ["name"]
        verbose_name = "MCP server"

    def __str__(self) -> str:
        return self.name


class ServerHealthCheck(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    server = models.ForeignKey(McpServer, on_delete=models.CASCADE, related_name="health_checks")
    checked_at = models.DateTimeField(db_default=Now())
    status = PgEnumField(enum_name="server_health", choices=ServerHealth.choices)
    response_time_ms = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)

    objects = TenantScopedManager(tenant_field="server__tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "server_health_checks"
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.status} at {self.checked_at:%Y-%m-%d %H:%M}"


class McpTool(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    server = models.ForeignKey(McpServer, on_delete=models.CASCADE, related_name="tools")
    name = models.TextField()
    description = models.TextField(null=True, blank=True)
    input_schema = models.JSONField(default=dict, blank=True)
    is_enabled = models.BooleanField(default=True)
    call_count = models.BigIntegerField(default=0)
    error_count = models.BigIntegerField(default=0)
    avg_execution_time_ms = models.FloatField(null=True, blank=True)
    last_called_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    objects = TenantScopedManager(tenant_field="server__tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "mcp_tools"
        ordering = ["name"]
        verbose_name = "MCP tool"

    def __str__(self) -> str:
        return self.name


class McpResource(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    server = models.ForeignKey(McpServer, on_delete=models.CASCADE, related_name="resources")
    uri = models.TextField()
    name = models.TextField()
    description = models.TextField(null=True, blank=True)
    mime_type = models.TextField(null=True, blank=True)
    access_count = models.BigIntegerField(default=0)
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    objects = TenantScopedManager(tenant_field="server__tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "mcp_resources"
        ordering = ["uri"]
        verbose_name = "MCP resource"

    def __str__(self) -> str:
        return self.uri
