"""Reset a staff member's second factor (same service and audit as the reset page).

The way back in for an admin who lost their phone and their recovery codes: another admin runs
this (``--as``), like the page, and nobody resets their own. Run on the machine by an operator,
so no step-up is asked.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Q

from backoffice.operations import NotFound
from backoffice.roles import Actor, Capability
from security.models import GatewayUser
from security.second_factor import services
from security.staff_command import StaffCommand


class Command(StaffCommand):
    help = "Reset the second factor of a staff member (by email or username): they enrol again."
    capability = Capability.RESET_SECOND_FACTOR
    resource_type = "staff"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("staff", help="Email or username of the staff member.")

    def act(self, actor: Actor, **options: Any) -> None:
        who = options["staff"].strip()
        user = (
            GatewayUser.unscoped.filter(Q(email__iexact=who) | Q(username__iexact=who))
            .order_by("id")
            .first()
        )
        if user is None:
            raise NotFound(f"No gateway user {who!r}.")
        if services.reset_second_factor(actor=actor, user_id=user.pk):
            self.stdout.write(f"Reset the second factor of {user.email}: they enrol again.")
        else:
            self.stdout.write(f"Nothing changed: {user.email} had not enrolled.")
