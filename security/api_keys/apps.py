from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    """Tenant admins' API keys: create (secret shown once), scope, expire, rotate, revoke.

    The ``apikey`` model is the contract's, declared once in the ``security`` app; this app holds
    the operations on it with their pages, admin, templates and management commands.
    """

    name = "security.api_keys"
    label = "api_keys"
    verbose_name = "API keys"
