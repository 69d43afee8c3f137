"""The contract's monitoring views, read through unmanaged models."""

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
