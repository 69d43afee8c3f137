"""The gateway's append-only logs, as the Drizzle contract defines them (unmanaged).

Neither table has foreign keys to the rest of the schema except ``request_logs.server_id``: a log
row outlives the tenant, user or key it names, so those ids are plain columns here.
"""

from django.db import models
from django.db.models.functions import Now

from backoffice.contract.fields import PgEnumField
from backoffice.scoping import TenantScopedManager


class AuditOutcome(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class ActorType(models.TextChoices):
    USER = "user"
    API_KEY = "api_key", "API key"
    SYSTEM = "system"
    STAFF = "staff"


class AuditLog(models.Model):
    id = models.BigAutoField(primary_key=True)
    tenant_id = models.UUIDField(null=True, blank=True)
    actor_id = models.TextField(null=True, blank=True)
    actor_type = models.TextField(choices=ActorType.choices)
    action = models.TextField()
    resource_type = models.TextField(null=True, blank=True)
    resource_id = models.TextField(null=True, blank=True)
    outcome = PgEnumField(
        enum_name="audit_outcome", choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(null=True, blank=True)
    request_id = models.UUIDField(null=True, blank=True)
    session_id = models.TextField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    objects = TenantScopedManager(tenant_field="tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "audit_logs"
        ordering = ["-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.action} #{self.id}"


class RequestLog(models.Model):
    id = models.BigAutoField(primary_key=True)
    tenant_id = models.UUIDField(null=True, blank=True)
    server = models.ForeignKey(
        "registry.McpServer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="request_logs",
    )
    api_key_id = models.UUIDField(null=True, blank=True)
    user_id = models.TextField(null=True, blank=True)
    method = models.TextField()
    tool_name = models.TextField(null=True, blank=True)
    status_code = models.IntegerField()
    duration_ms = models.IntegerField()
    request_bytes = models.IntegerField(null=True, blank=True)
    response_bytes = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    objects = TenantScopedManager(tenant_field="tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "request_logs"
        ordering = ["-id"]
        verbose_name = "request log entry"
        verbose_name_plural = "request log"

    def __str__(self) -> str:
        return f"{self.method} #{self.id}"


class LogIdBlock(models.Model):
    """The time span of one block of ``SIZE`` log ids (back office's own schema).

    Kept by ``audit.time_blocks`` so the explorers can turn a time range into the id ranges
    that really hold it, even where the gateway backfilled rows out of id order.
    """

    SIZE = 1000

    table_name = models.TextField()
    block = models.BigIntegerField()  # ids block * SIZE to (block + 1) * SIZE - 1
    min_created_at = models.DateTimeField()
    max_created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["table_name", "block"], name="log_id_blocks_key")
        ]
        db_table = "log_id_blocks"

    def __str__(self) -> str:
        return f"{self.table_name} block {self.block}"


class LogIdFrontier(models.Model):
    """How far ``LogIdBlock`` reaches for one log table, and how far its next run may go."""

    table_name = models.TextField(primary_key=True)
    # Every id below this is summarised; from here on is the tail that pages read whole.
    summarised_below_id = models.BigIntegerField(default=0)
    # The highest id a run saw, and the transactions writing to the table just after: once they
    # have all ended, no id up to it can still appear (see audit.time_blocks).
    seen_max_id = models.BigIntegerField(null=True)
    seen_writers = models.JSONField(default=list)

    class Meta:
        db_table = "log_id_frontiers"

    def __str__(self) -> str:
        return self.table_name
