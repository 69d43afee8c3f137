"""Revoke an API key at once, as a staff member would on its page (same service, same audit)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from backoffice.roles import Actor
from security.api_keys import services
from security.api_keys.commands import ApiKeyCommand


class Command(ApiKeyCommand):
    help = "Revoke an API key (by its prefix or id): the gateway refuses it from now on."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("key", help="The key's prefix (e.g. mcpgw_ab12cd34) or id.")
        parser.add_argument("--reason", required=True, help="Why; kept in the audit log.")

    def act(self, actor: Actor, **options: Any) -> None:
        key = self.key(actor, options["key"])
        if services.revoke_api_key(actor=actor, key_id=key.pk, reason=options["reason"]):
            self.stdout.write(self.style.SUCCESS(f"Revoked {key.key_prefix}."))
        else:
            self.stdout.write(f"{key.key_prefix} was already revoked: nothing changed.")
