"""The base of every management command run on behalf of a gateway staff member (``--as``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, NotFound, Refused
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import record_denied
from security.staff import command_actor


class StaffCommand(BaseCommand):
    """Resolve ``--as`` to an actor, check its capability, run ``act``, report refusals clearly.

    Scripts get the same rules as the pages: the same services, the same capability (a refusal is
    recorded as denied), the same audit rows. The errors of ``backoffice.operations`` are mapped
    here, once: ``Refused`` reads "Refused: ...", ``Invalid`` and ``NotFound`` their message.
    """

    capability: Capability | None = None
    resource_type = ""

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
        if self.capability is not None and not actor.can(self.capability):
            record_denied(
                actor=actor,
                action=AuditAction.STAFF_ACCESS,
                resource_type=self.resource_type,
                details={"command": self.__module__.rsplit(".", 1)[-1]},
            )
            raise CommandError("Refused: your role does not allow this.")
        try:
            self.act(actor, **options)
        except Refused as refused:
            refused.record()
            raise CommandError(f"Refused: {refused}") from refused
        except (Invalid, NotFound) as problem:
            raise CommandError(str(problem)) from problem

    def act(self, actor: Actor, **options: Any) -> None:
        raise NotImplementedError
