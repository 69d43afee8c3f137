from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """The account lifecycle of Better-Auth's admin plugin, from the back office: create a user,
    set their password, mark their email verified, unlink a sign-in method, remove them.

    Its models are Better-Auth's, declared once in the ``security`` app; rows written here are
    the ones Better-Auth writes, so the gateway reads them as its own.
    """

    name = "security.lifecycle"
    label = "lifecycle"
    verbose_name = "Account lifecycle"
