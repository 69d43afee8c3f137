"""Reads about gateway users that more than one part of the back office needs."""

from __future__ import annotations

from backoffice.roles import Actor, Capability
from security.models import GatewayUser


def user_emails(actor: Actor | None, capability: Capability, user_ids: set[str]) -> dict[str, str]:
    """The email of each of these ids that is a gateway user ``actor`` may see, in one query.

    Logs and audit tables name people by Better-Auth id; people read emails.
    """
    ids = {pk for pk in user_ids if pk and "\x00" not in pk}
    if not ids:
        return {}
    # Uses index: user_pkey
    return dict(
        GatewayUser.objects.visible_to(actor, capability)
        .filter(pk__in=ids)
        .values_list("id", "email")
    )
