"""Set a gateway user's password and sign them out (same service and audit as the page)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from backoffice.roles import Actor
from security.lifecycle import services
from security.lifecycle.commands import LifecycleCommand


class Command(LifecycleCommand):
    help = (
        "Set a user's password, read from standard input or a prompt (never an argument); "
        "every session of theirs ends."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("user", help="Email, username or id of the user.")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read it from stdin, not a prompt."
        )

    def act(self, actor: Actor, **options: Any) -> None:
        user = self.user(actor, options["user"])
        password = self.read_password(options["password_stdin"])
        ended = services.set_user_password(actor=actor, user_id=user.pk, password=password)
        self.stdout.write(
            self.style.SUCCESS(f"Password set for {user.email}; sessions ended: {ended}")
        )
