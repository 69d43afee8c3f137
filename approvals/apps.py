from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    """Four-eyes: the most dangerous operations wait for a second staff member's approval."""

    name = "approvals"
