"""Set a gateway user's roles (same service and audit as the user page)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from backoffice.roles import Actor
from security.moderation import services
from security.moderation.commands import ModerationCommand


class Command(ModerationCommand):
    help = "Set the roles of a user, e.g. change_roles ann@example.com support,auditor --as ..."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("user", help="Email, username or id of the user.")
        parser.add_argument("roles", help="Comma-separated: admin, support, tenant_admin, ...")

    def act(self, actor: Actor, **options: Any) -> None:
        user = self.user(actor, options["user"])
        outcome = services.change_roles(
            actor=actor, user_id=user.pk, roles=options["roles"].split(",")
        )
        self.report(outcome, "Roles changed", "already had these roles")
