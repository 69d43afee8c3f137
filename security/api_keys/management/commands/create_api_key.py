"""Create a tenant's API key as a staff member would on the key pages (same service, same audit)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from backoffice.roles import Actor, Capability
from security.api_keys import scopes as scope_catalog
from security.api_keys import selectors, services
from security.api_keys.commands import ApiKeyCommand, add_expiry_arguments, expiry_from


class Command(ApiKeyCommand):
    help = "Create an API key and print it once. Scopes: " + ", ".join(
        sorted(scope_catalog.SCOPE_VALUES)
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--name", required=True, help="Who or what uses the key.")
        parser.add_argument(
            "--scope",
            dest="scopes",
            action="append",
            required=True,
            choices=sorted(scope_catalog.SCOPE_VALUES),
            help="A scope of the catalog; repeat for several.",
        )
        parser.add_argument(
            "--tenant",
            help="Slug of the tenant (required for admins; a tenant admin's own by default).",
        )
        parser.add_argument("--rate-limit", type=int, default=60, help="Requests per minute.")
        add_expiry_arguments(parser)

    def act(self, actor: Actor, **options: Any) -> None:
        tenants = selectors.tenants_for_new_keys(actor)
        if options["tenant"]:
            tenant = tenants.filter(slug=options["tenant"].replace("\x00", "")).first()
        elif not actor.is_platform_wide(Capability.MANAGE_API_KEYS):
            tenant = tenants.first()
        else:
            raise CommandError("--tenant is required: say whose key this is.")
        if tenant is None:
            raise CommandError("No such tenant among those you may create keys for.")
        issued = services.create_api_key(
            actor=actor,
            tenant_id=tenant.pk,
            name=options["name"],
            scopes=options["scopes"],
            expires_at=expiry_from(options),
            rate_limit_per_minute=options["rate_limit"],
        )
        self.show_issued(issued)
