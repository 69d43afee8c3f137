"""Tenants, as the Drizzle contract defines them (unmanaged)."""

import uuid

from django.db import models
from django.db.models.functions import Now

from backoffice.contract.fields import PgEnumField
from backoffice.scoping import TenantScopedManager


class TenantStatus(models.TextChoices):
    ACTIVE = "active"
    TRIAL = "trial"
    SUSPENDED = "suspended"
    ARCHIVED = "archived"


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.TextField()
    slug = models.TextField(unique=True)
    status = PgEnumField(
        enum_name="tenant_status", choices=TenantStatus.choices, default=TenantStatus.ACTIVE
    )
    plan = models.TextField(default="free")
    settings = models.JSONField(default=dict, blank=True)
    max_servers = models.IntegerField(default=10)
    max_api_keys = models.IntegerField(default=25)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    objects = TenantScopedManager(tenant_field="id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "tenants"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
