from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Better-Auth's users, sessions and accounts, and the gateway's API keys."""

    name = "security"
