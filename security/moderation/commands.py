"""What the moderation management commands share: who acts, and errors as clear messages.

A command acts on behalf of a named gateway staff member (``--as``), so its audit rows name a
person, and it calls the same service as the page does.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from backoffice.roles import Actor
from security.models import GatewayUser
from security.moderation import selectors, services
from security.staff_command import StaffCommand


class ModerationCommand(StaffCommand):
    """A moderation command; the services check who may do what to whom."""

    def user(self, actor: Actor, who: str) -> GatewayUser:
        user = selectors.find_user(actor, who)
        if user is None:
            raise CommandError(f"No user {who!r} that you may moderate.")
        return user

    def report(self, outcome: services.Outcome, done: str, already: str) -> None:
        for email in outcome.changed:
            self.stdout.write(self.style.SUCCESS(f"{done}: {email}"))
        for email in outcome.amended:
            self.stdout.write(self.style.SUCCESS(f"Changed (ban in force, not lifted): {email}"))
        for email in outcome.unchanged:
            self.stdout.write(f"Unchanged ({already}): {email}")
        if outcome.sessions_deleted:
            self.stdout.write(f"Sessions deleted: {outcome.sessions_deleted}")
