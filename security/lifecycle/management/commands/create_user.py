"""Create a gateway user as Better-Auth's createUser does (same service and audit as the page)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from backoffice.roles import Actor
from security.lifecycle import services
from security.lifecycle.commands import LifecycleCommand


class Command(LifecycleCommand):
    help = (
        "Create a user: create_user ann@example.com --name Ann [--role user] [--tenant UUID] "
        "[--password-stdin | --prompt-password] --as STAFF. The password is never an argument."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("email")
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", default="user", help="Comma-separated roles (default user).")
        parser.add_argument("--tenant", help="The tenant's id; none for a platform account.")
        given = parser.add_mutually_exclusive_group()
        given.add_argument(
            "--password-stdin", action="store_true", help="Read the password from stdin."
        )
        given.add_argument(
            "--prompt-password", action="store_true", help="Ask for the password (not echoed)."
        )

    def act(self, actor: Actor, **options: Any) -> None:
        password = None
        if options["password_stdin"] or options["prompt_password"]:
            password = self.read_password(options["password_stdin"])
        user = services.create_user(
            actor=actor,
            email=options["email"],
            name=options["name"],
            roles=options["role"].split(","),
            tenant_id=options["tenant"],
            password=password,
        )
        how = "with a password" if password else "without a password"
        self.stdout.write(self.style.SUCCESS(f"Created {user.email} ({how}): id {user.pk}"))
