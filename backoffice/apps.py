from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """What every app shares: the database schema guard, roles, tenancy, the staff audit trail."""

    name = "backoffice"
    verbose_name = "Back office"

    def ready(self) -> None:
        from backoffice import schema_guard  # noqa: F401  (registers the drift system check)
