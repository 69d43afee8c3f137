"""Mark an impersonation reviewed with a note (same service and audit as the page)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from backoffice.roles import Actor
from security.moderation import services
from security.moderation.commands import ModerationCommand


class Command(ModerationCommand):
    help = "Mark an impersonation record reviewed, with a note."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("record", type=int, help="Id of the impersonation record.")
        parser.add_argument("--note", required=True, help="What you checked and concluded.")

    def act(self, actor: Actor, **options: Any) -> None:
        outcome = services.review_impersonation(
            actor=actor, record_id=options["record"], note=options["note"]
        )
        self.report(outcome, "Reviewed", "same note already")
