"""Sign users out everywhere, or end one session (same services and audit as the pages)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from backoffice.roles import Actor
from security.moderation import services
from security.moderation.commands import ModerationCommand


class Command(ModerationCommand):
    help = "Delete all sessions of users (by email, username or id), or one session by its id."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("users", nargs="*", help="Email, username or id of each user.")
        parser.add_argument("--session", help="Revoke only this session (its id, not token).")

    def act(self, actor: Actor, **options: Any) -> None:
        if options["session"]:
            if options["users"]:
                raise CommandError("Give either users or --session, not both.")
            outcome = services.revoke_session(actor=actor, session_id=options["session"])
        elif options["users"]:
            users = [self.user(actor, who) for who in options["users"]]
            outcome = services.revoke_sessions_of_users(
                actor=actor, user_ids=[user.pk for user in users]
            )
        else:
            raise CommandError("Name at least one user, or a --session.")
        self.report(outcome, "Signed out", "no sessions")
