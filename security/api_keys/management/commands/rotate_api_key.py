"""Rotate an API key as a staff member would on its page: a new key now, the old one later."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from backoffice.roles import Actor
from security.api_keys import services
from security.api_keys.commands import ApiKeyCommand, add_expiry_arguments, expiry_from


class Command(ApiKeyCommand):
    help = "Issue a new key with the same name and scopes; the old one expires after --grace."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("key", help="The key's prefix (e.g. mcpgw_ab12cd34) or id.")
        parser.add_argument(
            "--grace",
            choices=sorted(services.GRACE_PERIODS),
            default="24h",
            help="How long the old key keeps working (default 24h).",
        )
        add_expiry_arguments(parser)

    def act(self, actor: Actor, **options: Any) -> None:
        key = self.key(actor, options["key"])
        issued = services.rotate_api_key(
            actor=actor,
            key_id=key.pk,
            grace=services.GRACE_PERIODS[options["grace"]],
            expires_at=expiry_from(options),
        )
        self.stdout.write(f"{key.key_prefix} stops working after {options['grace']}.")
        self.show_issued(issued)
