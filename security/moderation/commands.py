"""What the moderation management commands share: who acts, and errors as clear messages.

A command acts on behalf of a named gateway staff member (``--as``), so its audit rows name a
person, and it calls the same service as the page does.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.roles import Actor
from security.models import GatewayUser
from security.moderation import selectors, services
from security.staff import command_actor


class ModerationCommand(BaseCommand):
    """A command run by a staff member; subclasses implement ``act``."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as",
            dest="as_staff",
            required=True,
            metavar="STAFF_EMAIL",
            help="Email or username of the gateway staff member on whose behalf this runs.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            actor = command_actor(options["as_staff"])
        except (LookupError, PermissionError) as problem:
            raise CommandError(str(problem)) from problem
        try:
            self.act(actor, **options)
        except services.ModerationRefused as refused:
            raise CommandError(f"Refused: {refused}") from refused
        except PermissionDenied as denied:
            raise CommandError(f"Refused: {denied or 'your role does not allow this.'}") from denied
        except (services.NotFound, ValueError) as problem:
            raise CommandError(str(problem)) from problem

    def act(self, actor: Actor, **options: Any) -> None:
        raise NotImplementedError

    def user(self, actor: Actor, who: str) -> GatewayUser:
        user = selectors.find_user(actor, who)
        if user is None:
            raise CommandError(f"No user {who!r} that you may moderate.")
        return user

    def report(self, outcome: services.Outcome, done: str, already: str) -> None:
        for email in outcome.changed:
            self.stdout.write(self.style.SUCCESS(f"{done}: {email}"))
        for email in outcome.unchanged:
            self.stdout.write(f"Unchanged ({already}): {email}")
        if outcome.sessions_deleted:
            self.stdout.write(f"Sessions deleted: {outcome.sessions_deleted}")
