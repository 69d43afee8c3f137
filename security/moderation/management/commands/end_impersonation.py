"""End an active impersonation by deleting its session (same service and audit as the page)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from backoffice.roles import Actor
from security.moderation import impersonation_capture, services
from security.moderation.commands import ModerationCommand


class Command(ModerationCommand):
    help = "End an impersonation by the id of its back-office record."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("record", type=int, help="Id of the impersonation record.")

    def act(self, actor: Actor, **options: Any) -> None:
        impersonation_capture.capture_impersonations()
        outcome = services.end_impersonation(actor=actor, record_id=options["record"])
        self.report(outcome, "Ended", "not active")
