from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The gateway's append-only audit and request logs."""

    name = "audit"
