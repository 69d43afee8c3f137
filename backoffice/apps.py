from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BackofficeConfig(AppConfig):
    """What every app shares: the database schema guard, roles, tenancy, the staff audit trail."""

    default = True
    name = "backoffice"
    verbose_name = "Back office"

    def ready(self) -> None:
        from backoffice.contract import checks  # noqa: F401  (registers the drift system check)


class BackofficeAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the back office's site as ``admin.site``."""

    default = False
    default_site = "backoffice.admin_site.BackofficeAdminSite"
