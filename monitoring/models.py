"""The contract's monitoring views, read through unmanaged models."""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class DatabaseSizeSummary(models.Model):
    table_name = models.TextField(primary_key=True)
    estimated_rows = models.BigIntegerField()
    total_bytes = models.BigIntegerField()
    table_bytes = models.BigIntegerField()
    index_bytes = models.BigIntegerField()
    toast_bytes = models.BigIntegerField()
    total_size = models.TextField()

    class Meta:
        managed = False
        db_table = "database_size_summary"
        verbose_name_plural = "database size summary"

    def __str__(self) -> str:
        return self.table_name


class IndexUsageSummary(models.Model):
    index_name = models.TextField(primary_key=True)
    table_name = models.TextField()
    index_scans = models.BigIntegerField()
    tuples_read = models.BigIntegerField()
    tuples_fetched = models.BigIntegerField()
    index_bytes = models.BigIntegerField()
    index_size = models.TextField()
    never_used = models.BooleanField()

    class Meta:
        managed = False
        db_table = "index_usage_summary"
        verbose_name_plural = "index usage summary"

    def __str__(self) -> str:
        return self.index_name


class PerformanceMetric(models.Model):
    metric_name = models.TextField(primary_key=True)
    metric_value = models.FloatField(null=True)
    unit = models.TextField()
    captured_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "performance_monitoring"

    def __str__(self) -> str:
        return self.metric_name


class AnalyticsResult(models.Model):
    """The last result of one analytics query, when Redis is not configured (see result_cache).

    Back-office data in the back office's schema: ``rows`` holds the function's rows as JSON.
    """

    key = models.TextField(primary_key=True)
    name = models.TextField()
    arguments = models.JSONField(default=list)
    rows = models.JSONField(null=True)
    computed_at = models.DateTimeField(null=True)
    cost_ms = models.FloatField(default=0)
    requested_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_results"

    def __str__(self) -> str:
        return self.key


class RequestSums(models.Model):
    """What a request rollup counts for one grain's key over its time (an hour, a day): the
    fields ``RequestRollup`` and ``RequestDailyRollup`` share (each adds its time column)."""

    class Grain(models.IntegerChoices):
        PLATFORM = 0
        TENANT = 1
        SERVER = 2
        TOOL = 3

    grain = models.SmallIntegerField(choices=Grain.choices)
    tenant_id = models.UUIDField(null=True)
    server_id = models.UUIDField(null=True)
    tool_name = models.TextField(null=True)
    requests = models.BigIntegerField()
    errors = models.BigIntegerField()
    duration_sum = models.BigIntegerField()
    histogram = ArrayField(models.IntegerField())

    class Meta:
        abstract = True


class RequestRollup(RequestSums):
    """One hour of ``request_logs`` at one grain: the platform, a tenant, a server or a tool.

    Back-office data, kept by ``monitoring.rollups`` from new rows only. ``histogram`` counts
    durations per fixed bucket (``rollups.BUCKET_BOUNDS``), for medians and p95s within a bucket.
    """

    hour = models.DateTimeField()

    class Meta:
        db_table = "request_rollups"
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "tenant_id", "server_id", "tool_name", "hour"],
                name="request_rollups_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} grain {self.grain}"


class RequestDailyRollup(RequestSums):
    """One UTC day of ``request_logs`` at one grain: the sum of that day's ``RequestRollup``
    rows, kept with them by ``monitoring.rollups`` (same id watermark), so a 30-day trend reads
    30 rows instead of 720."""

    day = models.DateTimeField()  # midnight UTC

    class Meta:
        db_table = "request_daily_rollups"
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "tenant_id", "server_id", "tool_name", "day"],
                name="request_daily_rollups_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} grain {self.grain}"


class RequestRollupFrontier(models.Model):
    """How far ``RequestRollup`` reaches, and how far its next update may go (one row)."""

    name = models.TextField(primary_key=True, default="request_logs")
    # Every request log id below this is counted in the rollups; the rest is the tail.
    rolled_below_id = models.BigIntegerField(default=0)
    # The same for ``RequestDailyRollup``: None until they are first built from the hourly ones.
    days_rolled_below_id = models.BigIntegerField(null=True)
    # The highest id a run saw, and the transactions writing just after (audit.time_blocks).
    seen_max_id = models.BigIntegerField(null=True)
    seen_writers = models.JSONField(default=list)

    class Meta:
        db_table = "request_rollup_frontier"

    def __str__(self) -> str:
        return self.name


class HealthCheckRollup(models.Model):
    """One server's health checks in one hour, by status (``monitoring.health_trends``).

    Back-office data: the server health over time of the trends page reads these instead of
    every check of the period.
    """

    server_id = models.UUIDField()
    hour = models.DateTimeField()
    healthy = models.IntegerField(default=0)
    degraded = models.IntegerField(default=0)
    unhealthy = models.IntegerField(default=0)
    unknown = models.IntegerField(default=0)

    class Meta:
        db_table = "health_check_rollups"
        constraints = [
            models.UniqueConstraint(fields=["server_id", "hour"], name="health_check_rollups_key")
        ]

    def __str__(self) -> str:
        return f"{self.server_id} {self.hour:%Y-%m-%d %H:00}"


class HealthCheckDailyRollup(models.Model):
    """One server's health checks in one UTC day, by status: the sum of that day's
    ``HealthCheckRollup`` rows (``monitoring.health_trends``), so a 30-day page reads 30 rows
    per server instead of 720."""

    server_id = models.UUIDField()
    day = models.DateTimeField()  # midnight UTC
    healthy = models.IntegerField(default=0)
    degraded = models.IntegerField(default=0)
    unhealthy = models.IntegerField(default=0)
    unknown = models.IntegerField(default=0)

    class Meta:
        db_table = "health_check_daily_rollups"
        constraints = [
            models.UniqueConstraint(
                fields=["server_id", "day"], name="health_check_daily_rollups_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.server_id} {self.day:%Y-%m-%d}"


class HealthCheckRollupFrontier(models.Model):
    """Up to when ``HealthCheckRollup`` holds every hour, and ``HealthCheckDailyRollup`` every
    day (one row)."""

    name = models.TextField(primary_key=True, default="server_health_checks")
    rolled_until = models.DateTimeField(null=True)
    # Midnight UTC: every whole day before it is in the daily rollups; None: none built yet.
    days_rolled_until = models.DateTimeField(null=True)

    class Meta:
        db_table = "health_check_rollup_frontier"

    def __str__(self) -> str:
        return self.name
