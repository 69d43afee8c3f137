from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Analytics and monitoring backed by the contract's SQL functions and views."""

    name = "monitoring"
