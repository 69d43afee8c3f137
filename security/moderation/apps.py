from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Support's tools: find users, ban, unban, sign out, change roles, review impersonations.

    Its models are Better-Auth's, declared once in the ``security`` app; this app holds the
    operations on them with their pages, admin, templates and management commands.
    """

    name = "security.moderation"
    label = "moderation"
    verbose_name = "User moderation"
