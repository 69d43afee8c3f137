"""Factories for the monitoring app's own tables: stored analytics results, request and health
check rollups (hourly and daily)."""

from __future__ import annotations

import datetime as dt
import uuid

import factory

from monitoring.models import (
    AnalyticsResult,
    HealthCheckDailyRollup,
    HealthCheckRollup,
    HealthCheckRollupFrontier,
    RequestDailyRollup,
    RequestRollup,
    RequestRollupFrontier,
)
from monitoring.rollups import BUCKETS
from tenants.factories import ContractModelFactory, utc_now


class AnalyticsResultFactory(ContractModelFactory[AnalyticsResult]):
    """The stored (empty) health summary, computed and asked for just now."""

    class Meta:
        model = AnalyticsResult
        django_get_or_create = ("key",)

    key = "server_health:[]"
    name = "server_health"
    arguments = factory.LazyFunction(list)
    rows = factory.LazyFunction(list)
    computed_at = factory.LazyFunction(utc_now)
    cost_ms = 1.5
    requested_at = factory.LazyFunction(utc_now)


class RequestRollupFactory(ContractModelFactory[RequestRollup]):
    """The platform's hour before this one: 10 requests of 5 ms, one an error."""

    class Meta:
        model = RequestRollup

    hour = factory.LazyFunction(
        lambda: utc_now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    )
    grain = RequestRollup.Grain.PLATFORM
    requests = 10
    errors = 1
    duration_sum = 50
    histogram = factory.LazyFunction(lambda: [10 if i == 5 else 0 for i in range(BUCKETS)])


class RequestDailyRollupFactory(ContractModelFactory[RequestDailyRollup]):
    """The platform's day before today: 240 requests of 5 ms, 24 of them errors."""

    class Meta:
        model = RequestDailyRollup

    day = factory.LazyFunction(
        lambda: utc_now().replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    )
    grain = RequestRollup.Grain.PLATFORM
    requests = 240
    errors = 24
    duration_sum = 1200
    histogram = factory.LazyFunction(lambda: [240 if i == 5 else 0 for i in range(BUCKETS)])


class RequestRollupFrontierFactory(ContractModelFactory[RequestRollupFrontier]):
    """Nothing rolled up, nothing seen yet."""

    class Meta:
        model = RequestRollupFrontier
        django_get_or_create = ("name",)

    name = "request_logs"


class HealthCheckRollupFactory(ContractModelFactory[HealthCheckRollup]):
    """A server's hour before this one: 11 healthy checks and one degraded."""

    class Meta:
        model = HealthCheckRollup

    server_id = factory.LazyFunction(uuid.uuid4)
    hour = factory.LazyFunction(
        lambda: utc_now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    )
    healthy = 11
    degraded = 1
    unhealthy = 0
    unknown = 0


class HealthCheckDailyRollupFactory(ContractModelFactory[HealthCheckDailyRollup]):
    """A server's day before today: 286 healthy checks, one degraded and one unhealthy."""

    class Meta:
        model = HealthCheckDailyRollup

    server_id = factory.LazyFunction(uuid.uuid4)
    day = factory.LazyFunction(
        lambda: utc_now().replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    )
    healthy = 286
    degraded = 1
    unhealthy = 1
    unknown = 0


class HealthCheckRollupFrontierFactory(ContractModelFactory[HealthCheckRollupFrontier]):
    """Nothing rolled up yet."""

    class Meta:
        model = HealthCheckRollupFrontier
        django_get_or_create = ("name",)

    name = "server_health_checks"
    rolled_until = None
    days_rolled_until = None
