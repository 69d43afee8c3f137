"""What the lifecycle's management commands share: who acts, the user named, and a password
read from a prompt or standard input, never from the command line (where ``ps`` and shell
history would keep it)."""

from __future__ import annotations

import getpass
import sys

from django.core.management.base import CommandError
from django.db.models import Q

from backoffice.roles import Actor, Capability
from security.models import GatewayUser
from security.staff_command import StaffCommand


class LifecycleCommand(StaffCommand):
    capability = Capability.MANAGE_ACCOUNTS
    resource_type = "user"

    def user(self, actor: Actor, who: str) -> GatewayUser:
        user = (
            GatewayUser.objects.visible_to(actor, Capability.MANAGE_ACCOUNTS)
            .filter(Q(email__iexact=who) | Q(username__iexact=who) | Q(pk=who))
            .order_by("pk")
            .first()
            if who and "\x00" not in who
            else None
        )
        if user is None:
            raise CommandError(f"No user {who!r} that you may manage.")
        return user

    def read_password(self, from_stdin: bool) -> str:
        """One line of standard input, or a prompt typed twice (nothing echoed)."""
        if from_stdin or not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("New password: ")
            if password != getpass.getpass("Password again: "):
                raise CommandError("The two passwords differ.")
        if not password:
            raise CommandError("No password given.")
        return password
