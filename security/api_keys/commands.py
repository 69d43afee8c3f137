"""What the API key management commands share: who acts (``--as``), and errors as clear messages.

A command acts on behalf of a named gateway staff member, so its audit rows name a person, and it
calls the same service as the pages do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor, Capability
from security.api_keys import inputs, selectors, services
from security.models import ApiKey
from security.staff_command import StaffCommand


class ApiKeyCommand(StaffCommand):
    """A command run by a staff member who manages API keys."""

    capability = Capability.MANAGE_API_KEYS
    resource_type = "api_key"

    def key(self, actor: Actor, prefix_or_id: str) -> ApiKey:
        key = selectors.find_api_key(actor, prefix_or_id)
        if key is None:
            key_id = selectors.as_key_id(prefix_or_id)
            if key_id is not None:
                selectors.record_probe(actor, key_id, AuditAction.STAFF_ACCESS)
            raise CommandError(f"No API key {prefix_or_id!r} that you may manage.")
        return key

    def show_issued(self, issued: services.IssuedKey) -> None:
        """Print a new key's value: this output is the only place it will ever appear."""
        key = issued.key
        self.stdout.write(self.style.SUCCESS(f"Issued {key.name!r} ({key.key_prefix})."))
        self.stdout.write(f"Scopes: {', '.join(key.scopes)}")
        self.stdout.write(f"Expires: {key.expires_at.isoformat() if key.expires_at else 'never'}")
        self.stdout.write("The key is shown once; store it now:")
        self.stdout.write(issued.plaintext)


def add_expiry_arguments(parser: CommandParser) -> None:
    expiry = parser.add_mutually_exclusive_group()
    expiry.add_argument("--days", type=int, help="The key expires in this many days.")
    expiry.add_argument(
        "--until",
        help=(
            "The key expires at this ISO time, e.g. 2030-01-31T00:00Z or 2030-01-31T09:00+09:00; "
            "a time without an offset is read as UTC."
        ),
    )
    expiry.add_argument("--no-expiry", action="store_true", help="The key never expires.")


def expiry_from(options: dict[str, Any], *, default_days: int | None = 90) -> dt.datetime | None:
    """The expiry the options ask for (by default ``default_days`` from now)."""
    if options.get("no_expiry"):
        return None
    days, until = options.get("days"), options.get("until")
    if until is not None:
        try:
            moment = parse_datetime(until)
        except ValueError:
            moment = None
        if moment is None:
            raise CommandError(f"--until {until!r} is not a time: use e.g. 2030-01-31T00:00Z.")
        return moment if timezone.is_aware(moment) else moment.replace(tzinfo=dt.UTC)
    if days is None:
        days = default_days
    if days is None:
        return None
    if not 1 <= days <= inputs.MAX_LIFETIME.days:
        raise CommandError(f"--days must be between 1 and {inputs.MAX_LIFETIME.days}.")
    return timezone.now() + dt.timedelta(days=days)
