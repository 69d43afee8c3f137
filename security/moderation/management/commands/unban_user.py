"""Lift the bans of gateway users (same service and audit as the user page)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from backoffice.roles import Actor
from security.moderation import services
from security.moderation.commands import ModerationCommand


class Command(ModerationCommand):
    help = "Lift the bans of users (by email, username or id)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("users", nargs="+", help="Email, username or id of each user.")

    def act(self, actor: Actor, **options: Any) -> None:
        users = [self.user(actor, who) for who in options["users"]]
        outcome = services.unban_users(actor=actor, user_ids=[user.pk for user in users])
        self.report(outcome, "Ban lifted", "not banned")
